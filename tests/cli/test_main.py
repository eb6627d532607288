"""The command line as a user meets it: exit codes, one-line errors, no half-written report."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


def moderation(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderation", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (lambda d: str(d / "missing.mp4"), "no such file"),
        (lambda d: (d / "notes.txt").write_text("hello\n") and str(d / "notes.txt"), "media file"),
        (lambda d: (d / "junk.mp4").write_bytes(b"\x00garbage" * 500) and str(d / "junk.mp4"), "media file"),
        (lambda d: "rtmp://127.0.0.1/live/x", "unsupported URL scheme 'rtmp'"),
        (lambda d: str(d), "not a regular file"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_report(tmp_path: Path, make, expect: str) -> None:  # type: ignore[no-untyped-def]
    target = make(tmp_path)
    out = tmp_path / "report.jsonl"
    res = moderation("scan", target, "--out", str(out))
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and expect in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".report.jsonl.*"))


def test_bad_pipeline_yaml_names_key(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("sampling:\n  fsp: 2\n")
    res = moderation("scan", str(tmp_path / "x.mp4"), "--pipeline", str(bad))
    assert res.returncode == 2
    assert "sampling.fsp (line 2)" in res.stderr


def test_models_lists_every_manifest_with_ok_hashes() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "moderation", "models"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    for model_id in ("nudenet-320n", "open-nsfw", "rapidocr-ppocrv4", "whisper-base", "whisper-tiny-en"):
        assert model_id in res.stdout
    assert res.stdout.count(" ok ") >= 5


UNWRITABLE = Path("/proc/self/moderation-out")  # no user can create files there, root included


@pytest.mark.parametrize(
    ("option", "make", "expect"),
    [
        ("--out", lambda d: d / "existing-dir", "is a directory"),
        ("--out", lambda d: d / "plain.txt" / "report.jsonl", "is a regular file, not a directory"),
        ("--out", lambda d: UNWRITABLE / "report.jsonl", "cannot write in"),
        ("--clips", lambda d: d / "plain.txt", "is a file, not a directory"),
        ("--clips", lambda d: d / "plain.txt" / "clips", "is a regular file, not a directory"),
        ("--ledger", lambda d: d / "existing-dir", "is a directory"),
    ],
)
def test_bad_output_path_exits_2_before_any_work(tmp_path: Path, option: str, make, expect: str) -> None:  # type: ignore[no-untyped-def]
    from media_factory import make_clip

    clip = make_clip(tmp_path / "in" / "clip.mp4", seconds=1.0)
    (tmp_path / "existing-dir").mkdir()
    (tmp_path / "plain.txt").write_text("x\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    target = make(tmp_path)
    args = ["scan", str(clip), option, str(target)]
    if option != "--out":
        args += ["--out", str(tmp_path / "report.jsonl")]
    res = moderation(*args)
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and option in lines[0] and str(target) in lines[0] and expect in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # no report, ledger, .partial


def test_demo_out_dir_naming_a_file_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "plain.txt"
    target.write_text("x\n")
    res = moderation("demo", "--out-dir", str(target), "--duration", "2", "--queue", "")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"--out-dir {target}: is a file, not a directory" in lines[0], res.stderr
    assert target.read_text() == "x\n"
