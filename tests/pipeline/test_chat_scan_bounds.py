"""`scan FILE --chat`: chat times must lie within the recording (plus ``chat.recording_slack_s``);
a line from far beyond it is a counted bad line, and the scan still gives its report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from media_factory import make_clip

from moderation.config import load_pipeline
from moderation.pipeline.scan import run_scan
from moderation.report import read_report

NO_MODELS = (
    "vision: {enabled: false}\nocr: {enabled: false}\nasr: {enabled: false}\nqr: {enabled: false}\n"
    "synthetic: {enabled: false}\nchat: {recording_slack_s: 2.0}\n"
)
SPAM = "百家樂 在線下注 加V信"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("chatbounds")
    clip = make_clip(d / "room.mp4", seconds=3.0, size=(160, 120))
    chat = d / "chat.jsonl"
    lines = [
        {"t": 1e18, "user": "x", "text": SPAM},  # t - look-back == t: it used to break fusion
        {"t": 1.0, "user": "bot", "text": SPAM},
        {"ts": 4e12, "user": "x", "text": SPAM},  # a wall-clock time far in the future (and offline)
        {"t": 1.5, "user": "bot", "text": SPAM},
        {"t": 4.5, "user": "late", "text": SPAM},  # within the recording's end + 2 s slack
        {"t": 5.5, "user": "x", "text": SPAM},  # past it
        {"t": 1e9, "user": "x", "text": SPAM},
    ]
    unwritable = '{"t": 2.0, "user": "x", "text": "\\ud800 百家樂"}'  # no UTF-8 for the report: a bad line
    chat.write_text("\n".join([*(json.dumps(x, ensure_ascii=False) for x in lines), unwritable]) + "\n")
    pipe = d / "nomodels.yaml"
    pipe.write_text(NO_MODELS)
    return clip, chat, pipe


def test_chat_beyond_the_recording_is_counted_and_the_scan_reports(
    media: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    clip, chat, pipe = media
    out = tmp_path / "r.jsonl"
    summary = run_scan([str(clip)], load_pipeline(str(pipe)), out, None, chat=str(chat))
    scan = summary.files[0]
    assert scan.chat is not None and (scan.chat.messages, scan.chat.bad) == (3, 5)
    assert scan.chat.reasons["time is past the media (beyond the allowed slack)"] == 3
    (rec,) = read_report(out)
    assert rec["category"] == "gambling" and rec["start"] == 1.0
    assert {s["user"] for s in rec["signals"]} <= {"bot", "late"} and max(s["t"] for s in rec["signals"]) <= 4.5


def test_cli_scan_with_far_future_chat_exits_0_with_a_report(media: tuple[Path, Path, Path], tmp_path: Path) -> None:
    clip, chat, pipe = media
    out = tmp_path / "r.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "moderation",
        "scan",
        str(clip),
        "--chat",
        str(chat),
        "--pipeline",
        str(pipe),
        "--out",
        str(out),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr and "3 messages, 5 bad lines skipped" in res.stderr
    assert [r["category"] for r in read_report(out)] == ["gambling"]
