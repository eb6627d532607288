"""Mandarin speech end to end: a recording of real recorded Mandarin syllables (gcin-voice), scanned
by the default pipeline (faster-whisper base with language detection, Simplified output, lexicon
matching on characters and pinyin). The gambling sentence is found where it is said, as Chinese
speech; the benign sentence before it is not flagged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from moderation.config import load_pipeline
from moderation.pipeline.scan import run_scan
from moderation.report import read_report
from moderation.samplegen import write_video

pytestmark = pytest.mark.slow
RATE = 16000  # what speak_zh writes; AAC carries it as is
BENIGN = ("今天天气不错，我们去公园散步", 2.0)
GAMBLING = ("幸运飞艇开奖了，跟我下注", 10.0)


def test_mandarin_gambling_speech_is_found_where_it_is_said(tmp_path: Path) -> None:
    speech_zh = pytest.importorskip("moderation.samplegen.speech_zh")
    if not speech_zh.VOICE_DIR.is_dir():
        pytest.skip("gcin-voice is not installed")
    audio = np.zeros(20 * RATE, np.float32)
    spans = {}
    for text, at in (BENIGN, GAMBLING):
        pcm = speech_zh.speak_zh(text)
        start = int(at * RATE)
        audio[start : start + pcm.size] = pcm
        spans[text] = (at, at + pcm.size / RATE)
    media = write_video(tmp_path / "zh.mp4", None, 20.0, audio, audio_rate=RATE)

    out = tmp_path / "report.jsonl"
    run_scan([str(media)], load_pipeline("default"), out, tmp_path / "clips")
    records = read_report(out)
    assert records, "nothing found"

    g0, g1 = spans[GAMBLING[0]]
    (verdict,) = [r for r in records if r["category"] == "gambling"]
    speech = [s for s in verdict["signals"] if s["kind"] == "asr.keyword"]
    assert speech and all(s["lang"] == "zh" for s in speech), verdict
    assert all(g0 - 1.0 <= s["t"] <= g1 + 1.0 for s in speech), (spans, speech)
    _, b1 = spans[BENIGN[0]]
    assert not [r for r in records if r["start"] < b1 + 1.0], records  # nothing on the benign sentence
