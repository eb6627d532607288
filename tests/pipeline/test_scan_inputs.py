"""Hostile and broken inputs of an offline scan: protocol-like file names, file: URLs, truncated
and damaged recordings. In process (``actors=0``), tiny generated clips, a light pipeline."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from media_factory import corrupt_copy, make_clip, truncate_copy

from moderation.cluster.rescan import RescanOptions, expand_inputs, run_rescan
from moderation.config import PipelineConfig
from moderation.errors import InputError
from moderation.pipeline.ledger import ScanLedger, file_sha256
from moderation.samplegen import generate_sample
from moderation.samplegen.sample import GAMBLING_URL, PlantedEvent

LIGHT = {"sampling": {"fps": 2}, "vision": {"nudenet": False}, "ocr": {"enabled": False}, "asr": {"enabled": False}}
IN_PROCESS = RescanOptions(actors=0)


def light_cfg() -> PipelineConfig:
    return PipelineConfig.model_validate(LIGHT)


def qr_sample(path: Path, seconds: float = 5.0) -> Path:
    plan = [PlantedEvent("gambling", "qr", 1.0, seconds - 0.5, GAMBLING_URL)]
    generate_sample(path, duration=seconds, plan=plan, width=320, height=240, fps=10, seed=1, write_manifest=False)
    return path


class Listener:
    """A loopback port that counts connections (and closes each at once, so nothing waits on it)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def test_directory_with_protocol_like_names_reads_only_those_files(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    make_clip(d / "benign.mp4", seconds=3.0)
    concat = d / "concat:benign.mp4|benign.mp4"
    concat.write_bytes(b"\x00not media" * 300)
    port = listener.port
    http = make_clip(d / f"http:127.0.0.1:{port}.mp4", seconds=2.0)
    monkeypatch.chdir(d)
    files = expand_inputs(["."])
    assert sorted(files) == sorted(["benign.mp4", concat.name, http.name])  # relative, as FFmpeg would misread
    out = tmp_path / "r.jsonl"
    res = run_rescan(["."], light_cfg(), out, None, IN_PROCESS)
    assert listener.connections == 0  # the scanner sent no request to http://127.0.0.1:port
    assert [f.path for f in res.failures] == [concat.name]  # its own bytes are not media
    assert "not a readable media file" in res.failures[0].reason
    assert res.scanned == 2 and res.media_s == pytest.approx(5.0, abs=0.2)
    ledger = ScanLedger(ScanLedger.beside(out))
    try:
        rows = ledger._db.execute("SELECT path, content_sha, media_s FROM scans ORDER BY path").fetchall()
    finally:
        ledger.close()
    assert [(p, sha) for p, sha, _ in rows] == [
        ("benign.mp4", file_sha256(d / "benign.mp4")),
        (http.name, file_sha256(http)),
    ]  # keyed on the bytes that were scanned
    assert [round(m) for _, _, m in rows] == [3, 2]  # each file's own length: its own bytes were read


def test_chat_log_beside_a_file_named_like_a_url_is_that_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "in"
    d.mkdir()
    make_clip(d / "file:room.mp4", seconds=4.0)
    line = json.dumps({"t": 2.0, "user": "v1", "text": "百家乐 在线下注"}, ensure_ascii=False)
    (d / "file:room.chat.jsonl").write_text(line + "\n", encoding="utf-8")
    (d / "room.chat.jsonl").write_text(json.dumps({"t": 2.0, "user": "v2", "text": "hello"}) + "\n")  # decoy
    monkeypatch.chdir(d)
    res = run_rescan(["."], light_cfg(), None, None, RescanOptions(actors=0, chat_sidecars=True))
    assert res.scanned == 1 and res.chat_logs == 1
    seen = {(s["kind"], s["user"]) for r in res.records for s in r["signals"]}
    assert ("chat.keyword", "v1") in seen and seen <= {("chat.keyword", "v1"), ("chat.intent", "v1")}


def test_file_urls_are_read_like_paths(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "a b.mp4", seconds=2.0)
    for url in (f"file:{clip}", clip.as_uri(), f"file://localhost{clip}"):
        assert expand_inputs([url]) == [str(clip)], url
    with pytest.raises(InputError, match=r"names host 'other\.example'"):
        expand_inputs([f"file://other.example{clip}"])
    with pytest.raises(InputError, match=r"not a (readable )?media file"):
        run_rescan(["file:///etc/passwd"], light_cfg(), tmp_path / "r.jsonl", None, IN_PROCESS)
    assert not (tmp_path / "r.jsonl").exists()


def test_truncated_recording_is_reported_and_not_marked_done(tmp_path: Path) -> None:
    full = qr_sample(tmp_path / "full.mp4", seconds=12.0)
    cut = truncate_copy(full, tmp_path / "cut.mp4", 0.3)
    out = tmp_path / "r.jsonl"
    res = run_rescan([str(cut)], light_cfg(), out, None, IN_PROCESS)
    assert res.scanned == 1 and not res.failures
    assert [g.path for g in res.incomplete] == [str(cut)]
    gap = res.incomplete[0]
    assert gap.duration_s == pytest.approx(12.0, abs=0.2) and gap.missing_s > 5.0
    assert res.media_s < 7.0  # what was decoded, not the 12 s the index declares
    assert ScanLedger(ScanLedger.beside(out)).count() == 0
    again = run_rescan([str(cut)], light_cfg(), out, None, IN_PROCESS)
    assert (again.scanned, again.skipped) == (1, 0)  # scanned again, never resumed as done
    whole = run_rescan([str(full)], light_cfg(), out, None, IN_PROCESS)
    assert not whole.incomplete and whole.corrupt_packets == 0 and ScanLedger(ScanLedger.beside(out)).count() == 1


def test_corrupt_packets_are_counted_in_the_summary(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=4.0)
    bad = corrupt_copy(clip, tmp_path / "bad.mp4", start_frac=0.3, n=4000)
    res = run_rescan([str(bad)], light_cfg(), None, None, IN_PROCESS)
    assert res.scanned == 1 and res.corrupt_packets > 0


def moderation(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "moderation", *args], capture_output=True, text=True, timeout=300)


def test_cli_file_urls_exit_like_paths(tmp_path: Path) -> None:
    for target in ("/etc/passwd", "file:///etc/passwd", "file:/etc/passwd"):
        res = moderation("scan", target, "--out", str(tmp_path / "r.jsonl"))
        assert res.returncode == 2, (target, res.stderr)
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "/etc/passwd" in lines[0] and "Traceback" not in res.stderr, res.stderr
    res = moderation("scan", "file://example.org/etc/passwd")
    assert res.returncode == 2 and "names host 'example.org'" in res.stderr, res.stderr
    assert not list(tmp_path.iterdir())


def test_cli_truncated_recording_warns_and_exits_3(tmp_path: Path) -> None:
    cut = truncate_copy(qr_sample(tmp_path / "full.mp4", seconds=12.0), tmp_path / "cut.mp4", 0.3)
    pipe = tmp_path / "light.yaml"
    pipe.write_text("sampling: {fps: 2}\nvision: {nudenet: false}\nocr: {enabled: false}\nasr: {enabled: false}\n")
    out = tmp_path / "r.jsonl"
    res = moderation("scan", str(cut), "--pipeline", str(pipe), "--out", str(out))
    assert res.returncode == 3, res.stderr
    assert "scanned only in part" in res.stderr and "cut.mp4: truncated" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and out.exists()
    assert ScanLedger(ScanLedger.beside(out)).count() == 0
