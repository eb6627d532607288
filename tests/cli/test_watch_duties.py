"""``watch --meta`` (re-read when the file changes) and ``watch --records`` through the real command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from media_factory import make_clip
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.report import read_report

NO_MODELS = (
    "vision: {enabled: false}\nocr: {enabled: false}\nasr: {enabled: false}\nqr: {enabled: false}\n"
    "synthetic: {enabled: false}\nlive: {meta_poll_s: 0.5}\n"
)


def test_bad_meta_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "avatar.jpg").write_bytes(b"GIF8nope")
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"avatar": "avatar.jpg"}))
    for args, says in (
        (["watch", "a.mp4", "--allow-files", "--meta", str(meta)], "avatar"),
        (["watch", "a.mp4", "b.mp4", "--allow-files", "--meta", str(meta)], "--meta belongs to one stream"),
    ):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, res.output
        assert says in res.output and "Traceback" not in res.output
        assert len(res.output.strip().splitlines()) == 1, res.output


@pytest.mark.slow
def test_watch_rechecks_the_meta_file_when_it_changes_and_keeps_records(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "room.mp4", seconds=6.0, size=(160, 120), with_audio=False)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"title": "一起聊天", "nickname": "小明"}, ensure_ascii=False))
    pipe = tmp_path / "p.yaml"
    pipe.write_text(NO_MODELS)
    out, records = tmp_path / "r.jsonl", tmp_path / "records"
    args = ["watch", str(clip), "--allow-files", "--pipeline", str(pipe), "--meta", str(meta)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moderation", *args, "--out", str(out), "--records", str(records)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (records / "room").exists() and time.monotonic() < deadline:  # the stream is being read
            time.sleep(0.2)
        meta.write_text(json.dumps({"title": "今晚百家乐在线下注", "nickname": "小明"}, ensure_ascii=False))
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    (v,) = read_report(out)
    assert (v["category"], v["subject"]) == ("gambling", {"kind": "room", "id": "room"})
    assert {s["label"] for s in v["signals"]} == {"title"} and v.get("clip") is None
    assert list((records / "room").glob("*/img-*.jpg"))  # the image record was kept as the stream ran
