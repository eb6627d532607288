"""`moderation scan FILE --gifts gifts.jsonl`: gift events and every keyword/chat signal go through one
gift tracker, and its ``tipping_abnormal`` / ``minors`` signals are fused with the rest.

The media models are switched off so this runs in seconds; the feed path is the real one
(feeds → matcher / gift tracker → fusion → report).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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
ROOT = Path(__file__).resolve().parents[2]


def _jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines))
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("gifts")
    clip = make_clip(d / "room.mp4", seconds=3.0, size=(160, 120))
    pipe = d / "nomodels.yaml"
    pipe.write_text(NO_MODELS)
    return clip, pipe


def _records(path: Path) -> list[dict[str, Any]]:
    """The report's records, typed for indexing."""
    return [dict(r) for r in read_report(path)]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "moderation", "scan", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_minor_who_tips_is_a_minors_and_tipping_verdict(media: tuple[Path, Path], tmp_path: Path) -> None:
    clip, pipe = media
    chat = _jsonl(tmp_path / "chat.jsonl", [{"t": 0.5, "user": "kid", "text": "我才13岁 主播好"}])
    gifts = _jsonl(
        tmp_path / "gifts.jsonl",
        [
            {"t": 1.0, "user": "kid", "gift": "rose", "value": 1},
            {"t": 1.5, "user": "adult", "gift": "rose", "value": 1},
        ],
    )
    out = tmp_path / "r.jsonl"
    res = _cli(str(clip), "--chat", str(chat), "--gifts", str(gifts), "--pipeline", str(pipe), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "gifts: 2 gifts, 0 bad lines skipped" in res.stderr
    records = _records(out)
    by_cat = {(r["category"], r["subject"]["kind"], r["subject"]["id"]) for r in records}
    assert ("minors", "viewer", "kid") in by_cat
    assert ("tipping_abnormal", "viewer", "kid") in by_cat
    assert not any(r["subject"]["id"] == "adult" for r in records)  # an ordinary gift is no evidence
    tipping = next(r for r in records if r["category"] == "tipping_abnormal")
    assert any(s["kind"] == "gift.minor" for s in tipping["signals"])


def test_a_burst_of_gifts_is_tipping_abnormal(media: tuple[Path, Path], tmp_path: Path) -> None:
    clip, pipe = media
    gifts = _jsonl(
        tmp_path / "gifts.jsonl",
        [{"t": 0.2 + i * 0.1, "user": "whale", "gift": "heart", "value": 0.1} for i in range(25)],
    )
    out = tmp_path / "r.jsonl"
    summary = run_scan([str(clip)], load_pipeline(str(pipe)), out, None, gifts=str(gifts))
    scan = summary.files[0]
    assert scan.gifts is not None and (scan.gifts.messages, scan.gifts.bad) == (25, 0) and scan.chat is None
    (rec,) = _records(out)
    assert rec["category"] == "tipping_abnormal" and rec["subject"] == {"kind": "viewer", "id": "whale"}
    assert {s["kind"] for s in rec["signals"]} == {"gift.burst"}


def test_bad_gift_lines_are_counted_and_skipped(media: tuple[Path, Path], tmp_path: Path) -> None:
    clip, pipe = media
    gifts = _jsonl(
        tmp_path / "gifts.jsonl",
        [
            "not json",
            [1, 2],
            {"t": 0.5, "user": "a", "gift": "rose", "value": -5},
            {"t": 0.5, "user": "a", "gift": "rose", "value": "NaN"},
            {"t": 0.5, "user": "a", "gift": "rocket", "value": 1e12},
            {"t": 0.5, "user": "a", "gift": "rose", "value": 1, "currency": "DOGE"},
            {"t": 0.5, "gift": "rose", "value": 1},
            {"t": 9999.0, "user": "a", "gift": "rose", "value": 1},  # far past the recording
            {"t": 1.0, "user": "a", "gift": "rose", "value": 1},
        ],
    )
    out = tmp_path / "r.jsonl"
    res = _cli(str(clip), "--gifts", str(gifts), "--pipeline", str(pipe), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "gifts: 1 gifts, 8 bad lines skipped" in res.stderr
    assert read_report(out) == []


def test_gift_feed_is_checked_before_any_work(media: tuple[Path, Path], tmp_path: Path) -> None:
    clip, pipe = media
    cfg = load_pipeline(str(pipe))
    with pytest.raises(InputError, match="one recording"):
        run_scan([str(clip), str(clip)], cfg, None, None, gifts=str(tmp_path / "g.jsonl"))
    out = tmp_path / "r.jsonl"
    refused = _cli(str(clip), "--gifts", "http://169.254.169.254/latest/gifts", "--out", str(out))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "gift" in refused.stderr
    assert not out.exists()
    missing = _cli(str(clip), "--gifts", str(tmp_path / "none.jsonl"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    both = _cli(str(clip), "--gifts", str(tmp_path / "none.jsonl"), "--chat-logs")
    assert both.returncode == 2 and "--chat-logs" in both.stderr and "Traceback" not in both.stderr
