"""`moderation scan FILE --chat chat.jsonl`: chat signals fused with the media's into verdicts.

The media models are switched off so this runs in seconds; the chat path is the real one
(feed → matcher → chat.keyword → fusion → report).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from media_factory import make_clip

from moderation.config import load_pipeline
from moderation.errors import InputError
from moderation.pipeline.scan import run_scan
from moderation.report import read_report

NO_MODELS = (
    "vision: {enabled: false}\nocr: {enabled: false}\nasr: {enabled: false}\nqr: {enabled: false}\n"
    "synthetic: {enabled: false}\n"
)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("chat")
    clip = make_clip(d / "room.mp4", seconds=3.0, size=(160, 120))
    chat = d / "chat.jsonl"
    lines = [
        {"t": 0.5, "user": "viewer1", "text": "主播好"},
        "not json",
        *({"t": 1.0 + i * 0.05, "user": "bot", "text": "百家樂 在線下注 加V信"} for i in range(20)),
        {"t": 2.0, "user": "fan", "text": "刷礼物冲榜一"},
    ]
    chat.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines))
    pipe = d / "nomodels.yaml"
    pipe.write_text(NO_MODELS)
    return clip, chat, pipe


def test_scan_fuses_chat_into_verdicts(media: tuple[Path, Path, Path], tmp_path: Path) -> None:
    clip, chat, pipe = media
    out = tmp_path / "r.jsonl"
    summary = run_scan([str(clip)], load_pipeline(str(pipe)), out, None, chat=str(chat))
    scan = summary.files[0]
    assert scan.chat is not None and (scan.chat.messages, scan.chat.bad) == (22, 1)
    records = read_report(out)
    cats = {r["category"]: r for r in records}
    assert set(cats) == {"gambling", "tipping_inducement"}
    sigs = cats["gambling"]["signals"]
    assert {s["kind"] for s in sigs} <= {"chat.keyword", "chat.intent"} and all(s["user"] == "bot" for s in sigs)
    keywords = [s for s in sigs if s["kind"] == "chat.keyword"]
    assert keywords and len({s["term"] for s in keywords}) == len(keywords)  # 20 spam lines: one per term, not 20
    assert "fan" in {s["user"] for s in cats["tipping_inducement"]["signals"]}


def test_chat_needs_exactly_one_input_and_an_existing_feed(media: tuple[Path, Path, Path], tmp_path: Path) -> None:
    clip, chat, pipe = media
    cfg = load_pipeline(str(pipe))
    with pytest.raises(InputError, match="one recording"):
        run_scan([str(clip), str(clip)], cfg, None, None, chat=str(chat))
    with pytest.raises(InputError, match="no such file"):
        run_scan([str(clip)], cfg, None, None, chat=str(tmp_path / "missing.jsonl"))


def test_cli_scan_with_chat(media: tuple[Path, Path, Path], tmp_path: Path) -> None:
    clip, chat, pipe = media
    out = tmp_path / "r.jsonl"
    res = subprocess.run(
        [
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
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "22 messages, 1 bad lines skipped" in res.stderr
    assert {r["category"] for r in read_report(out)} == {"gambling", "tipping_inducement"}
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "moderation",
            "scan",
            str(clip),
            "--chat",
            str(tmp_path / "x.jsonl"),
            "--out",
            str(tmp_path / "r2.jsonl"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "no such file" in bad.stderr and "Traceback" not in bad.stderr
    both = subprocess.run(
        [sys.executable, "-m", "moderation", "scan", str(clip), "--chat", str(chat), "--chat-logs"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert both.returncode == 2 and "give one of them" in both.stderr and "Traceback" not in both.stderr
