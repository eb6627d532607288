"""Offline re-scan at scale: inputs, actor pool on local Ray, resume, bad files.

Tiny generated clips (5 s, 320x240, a QR code in some) and a light pipeline (open_nsfw + QR, no
OCR/ASR) keep this module to a few seconds of work plus one local Ray start shared by the module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import ray
from ray import cloudpickle

from moderation.cluster.rescan import RescanOptions, RescanProgress, ScanActor, expand_inputs, run_rescan
from moderation.config import PipelineConfig
from moderation.errors import InputError
from moderation.pipeline.ledger import ScanLedger
from moderation.report import read_report
from moderation.samplegen import generate_sample
from moderation.samplegen.sample import GAMBLING_URL, PlantedEvent

LIGHT = {"sampling": {"fps": 2}, "vision": {"nudenet": False}, "ocr": {"enabled": False}, "asr": {"enabled": False}}


def light_cfg(**over: object) -> PipelineConfig:
    return PipelineConfig.model_validate({**LIGHT, **over})


def make_files(d: Path, n: int, start: int = 0) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        plan = [PlantedEvent("gambling", "qr", 1.0 + (i % 3), 4.5, GAMBLING_URL)] if i % 2 == 0 else []
        p = d / f"f{i:02d}.mp4"
        generate_sample(p, duration=5.0, plan=plan, width=320, height=240, fps=10, seed=i, write_manifest=False)
        out.append(p)
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("rescan") / "in"
    make_files(d, 4)
    (d / "junk.mp4").write_bytes(b"\x00garbage" * 500)
    (d / "notes.txt").write_text("not media, and not picked up from a directory\n")
    return d


@pytest.fixture(scope="module")
def local_ray() -> object:
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray
    if started:
        ray.shutdown()


def test_expand_inputs_files_dirs_globs(media: Path) -> None:
    files = expand_inputs([str(media)])
    assert [Path(f).name for f in files] == ["f00.mp4", "f01.mp4", "f02.mp4", "f03.mp4", "junk.mp4"]
    assert [Path(f).name for f in expand_inputs([str(media / "f0[13].mp4"), str(media / "f01.mp4")])] == [
        "f01.mp4",
        "f03.mp4",
    ]  # glob sorted, duplicates dropped
    with pytest.raises(InputError, match="no file matches"):
        expand_inputs([str(media / "*.mkv")])
    with pytest.raises(InputError, match="no such file"):
        expand_inputs([str(media / "f00.mp4"), str(media / "missing.mp4")])
    with pytest.raises(InputError, match="unsupported URL scheme 'rtmp'"):
        expand_inputs(["rtmp://127.0.0.1/live/x"])


def test_actor_pool_matches_in_process_and_skips_bad_file(media: Path, tmp_path: Path, local_ray: object) -> None:
    cfg = light_cfg()
    seen: list[RescanProgress] = []
    failed: list[str] = []
    on_ray = run_rescan(
        [str(media)],
        cfg,
        tmp_path / "ray.jsonl",
        None,
        RescanOptions(actors=2),
        on_progress=seen.append,
        on_failure=lambda f: failed.append(f.reason),
    )
    inproc = run_rescan([str(media)], cfg, tmp_path / "local.jsonl", None, RescanOptions(actors=0))
    assert on_ray.used_ray and on_ray.actors == 2 and not inproc.used_ray
    assert read_report(tmp_path / "ray.jsonl") == read_report(tmp_path / "local.jsonl") == on_ray.records
    assert {r["stream"] for r in on_ray.records} == {"f00", "f02"}  # QR files flagged, others not
    assert [r["stream"] for r in on_ray.records] == sorted(r["stream"] for r in on_ray.records)  # input order
    assert len(failed) == 1 and "junk.mp4" in failed[0] and "media file" in failed[0]
    assert on_ray.scanned == 4 and [f.path for f in on_ray.failures] == [str(media / "junk.mp4")]
    last = seen[-1]
    assert (last.files_done, last.files_total, last.failed) == (5, 5, 1)
    assert last.media_s_done == pytest.approx(last.media_s_total, rel=1e-3) and last.media_s_total == 20.0


def test_resume_skips_files_scanned_with_same_pipeline_and_models(
    media: Path, tmp_path: Path, local_ray: object
) -> None:
    d = tmp_path / "in"
    make_files(d, 3)
    out = tmp_path / "report.jsonl"
    first = run_rescan([str(d)], light_cfg(), out, None, RescanOptions(actors=2))
    assert first.scanned == 3 and ScanLedger(ScanLedger.beside(out)).count() == 3
    (d / "f01.mp4").rename(d / "renamed.mp4")  # same bytes, new name: still recognised by content
    make_files(d, 1, start=3)
    second = run_rescan([str(d)], light_cfg(), out, None, RescanOptions(actors=2))
    assert (second.scanned, second.skipped) == (1, 3)
    streams = [r["stream"] for r in second.records]
    assert streams == ["f00", "f02"]  # f01 and f03 have no QR; prior verdicts kept in the new report
    changed = run_rescan([str(d)], light_cfg(qr={"enabled": False}), out, None, RescanOptions(actors=0))
    assert (changed.scanned, changed.skipped) == (4, 0) and changed.records == []  # new pipeline: scan again


def test_chat_logs_beside_recordings_are_fused_and_keyed(tmp_path: Path, local_ray: object) -> None:
    """room.mp4 + room.chat.jsonl: the log's chat.keyword signals join the recording's verdicts, on
    Ray as in process; the log is part of the ledger key, so editing it scans that file again."""
    d = tmp_path / "in"
    make_files(d, 2)  # f00 has a QR code, f01 nothing
    log = d / "f01.chat.jsonl"
    log.write_text(
        json.dumps({"t": 2.0, "user": "v1", "text": "百家乐 在线下注"}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    out = tmp_path / "r.jsonl"
    plain = run_rescan([str(d)], light_cfg(), tmp_path / "plain.jsonl", None, RescanOptions(actors=0))
    assert [r["stream"] for r in plain.records] == ["f00"] and plain.chat_logs == 0
    on_ray = run_rescan([str(d)], light_cfg(), out, None, RescanOptions(actors=2, chat_sidecars=True))
    assert on_ray.used_ray and on_ray.chat_logs == 1 and on_ray.scanned == 2
    by_stream = {r["stream"]: r for r in on_ray.records}
    assert set(by_stream) == {"f00", "f01"}
    chat = {(s["kind"], s["user"]) for s in by_stream["f01"]["signals"]}  # the classifier's too (on Ray)
    assert ("chat.keyword", "v1") in chat and chat <= {("chat.keyword", "v1"), ("chat.intent", "v1")}
    inproc = run_rescan(
        [str(d)], light_cfg(), tmp_path / "local.jsonl", None, RescanOptions(actors=0, chat_sidecars=True)
    )
    assert inproc.records == on_ray.records
    again = run_rescan([str(d)], light_cfg(), out, None, RescanOptions(actors=0, chat_sidecars=True))
    assert (again.scanned, again.skipped) == (0, 2)
    log.write_text(
        log.read_text(encoding="utf-8") + json.dumps({"t": 3.0, "user": "v2", "text": "hi"}) + "\n", encoding="utf-8"
    )
    edited = run_rescan([str(d)], light_cfg(), out, None, RescanOptions(actors=0, chat_sidecars=True))
    assert (edited.scanned, edited.skipped) == (1, 1)


class CrashOnBadName(ScanActor):
    """A scan actor whose process dies on files named *crash* (as a decoder segfault would)."""

    def scan(self, path: str, stream: str, raise_errors: bool = False, chat: str | None = None):  # type: ignore[no-untyped-def]
        if "crash" in Path(path).name:
            os._exit(1)
        return super().scan(path, stream, raise_errors, chat)


def test_actor_that_dies_is_replaced_and_its_file_failed_after_retries(tmp_path: Path, local_ray: object) -> None:
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import test modules
    d = tmp_path / "in"
    make_files(d, 3)
    (d / "f01.mp4").rename(d / "f01-crash.mp4")
    failed: list[str] = []
    res = run_rescan(
        [str(d)],
        light_cfg(),
        tmp_path / "r.jsonl",
        None,
        RescanOptions(actors=2),
        on_failure=lambda f: failed.append(f.reason),
        actor_cls=CrashOnBadName,
    )
    assert res.scanned == 2 and [r["stream"] for r in res.records] == ["f00", "f02"]
    assert len(failed) == 1 and "f01-crash.mp4: scan worker died" in failed[0]


def test_cli_directory_exit_3_lists_the_bad_file_and_writes_report(media: Path, tmp_path: Path) -> None:
    pipe = tmp_path / "light.yaml"
    pipe.write_text("sampling: {fps: 2}\nvision: {nudenet: false}\nocr: {enabled: false}\nasr: {enabled: false}\n")
    out = tmp_path / "r.jsonl"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "moderation",
            "scan",
            str(media),
            "--pipeline",
            str(pipe),
            "--out",
            str(out),
            "--actors",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 3, res.stderr
    assert "junk.mp4" in res.stderr and "Traceback" not in res.stderr
    assert "files 5/5" in res.stderr and "media-s/s" in res.stderr  # the progress bar
    assert [r["stream"] for r in read_report(out)] == ["f00", "f02"]
    assert "4 scanned in process" in res.stdout
