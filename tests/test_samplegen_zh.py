"""Mandarin sample speech from recorded syllables (gcin-voice): length, voices, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from moderation.samplegen import SampleGenError, speech_zh
from moderation.samplegen.speech_zh import speak_zh, syllable

SR = 16000


def test_each_han_character_is_one_recorded_syllable() -> None:
    one = speak_zh("下注")
    four = speak_zh("下注，百家")
    assert one.dtype == np.float32 and 0.3 * SR < one.size < 2.0 * SR
    assert four.size > 1.8 * one.size  # two more syllables and a pause
    assert np.abs(four).max() == pytest.approx(0.8, abs=1e-3)


def test_traditional_and_simplified_read_alike() -> None:
    assert speak_zh("赌场").size == speak_zh("賭場").size


def test_two_speakers_and_tones_are_different_recordings() -> None:
    assert not np.array_equal(speak_zh("下注", voice="a"), speak_zh("下注", voice="b"))
    assert not np.array_equal(syllable("ㄇㄚ"), syllable("ㄇㄚˇ"))


def test_latin_and_digits_are_skipped_but_something_must_be_spoken() -> None:
    assert speak_zh("PK一下").size == speak_zh("一下").size
    with pytest.raises(SampleGenError, match="nothing speakable"):
        speak_zh("PK 123")
    with pytest.raises(SampleGenError, match="voice"):
        speak_zh("下注", voice="c")


def test_missing_package_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(speech_zh, "VOICE_DIR", tmp_path / "absent")
    syllable.cache_clear()
    try:
        with pytest.raises(SampleGenError, match="gcin-voice"):
            speak_zh("你好")
    finally:
        syllable.cache_clear()
