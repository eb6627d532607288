"""PauseDetector and pause-cut audio windows: speech that stops ends its window early."""

from __future__ import annotations

import numpy as np

from moderation.sample.audio import AudioWindower
from moderation.sample.pause import PauseDetector

SR = 16000


def _speech(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Voiced audio: a tone with syllable-rate amplitude changes (never near silence)."""
    t = np.arange(round(seconds * SR)) / SR
    env = 0.6 + 0.4 * np.abs(np.sin(2 * np.pi * 3 * t))
    return (0.3 * env * np.sin(2 * np.pi * 220 * t) + rng.normal(0, 0.002, t.size)).astype(np.float32)


def _quiet(seconds: float, rng: np.random.Generator, level: float = 0.002) -> np.ndarray:
    return rng.normal(0, level, round(seconds * SR)).astype(np.float32)


def _feed(w: AudioWindower, audio: np.ndarray, chunk_s: float = 0.25) -> list[tuple[float, float]]:
    n = round(chunk_s * SR)
    out = []
    for i in range(0, audio.size, n):
        out += [(x.start, x.start + x.samples.size / SR) for x in w.push(audio[i : i + n], i / SR if i == 0 else None)]
    return out


def test_detector_needs_speech_then_quiet() -> None:
    rng = np.random.default_rng(0)
    d = PauseDetector(SR, pause_s=0.6)
    d.feed(_quiet(2.0, rng))
    assert not d.paused()  # silence alone is no pause after speech
    d.feed(_speech(1.5, rng))
    assert not d.paused()
    d.feed(_quiet(0.4, rng))
    assert not d.paused()  # too short a pause
    d.feed(_quiet(0.3, rng))
    assert d.paused()
    d.reset()
    assert not d.paused()


def test_steady_loud_audio_never_pauses() -> None:
    rng = np.random.default_rng(1)
    d = PauseDetector(SR)
    music = (0.2 * np.sin(2 * np.pi * 440 * np.arange(10 * SR) / SR) + rng.normal(0, 0.05, 10 * SR)).astype(np.float32)
    d.feed(music)
    assert not d.paused()


def test_a_sentence_that_ends_is_sent_a_pause_later_not_at_the_window_end() -> None:
    rng = np.random.default_rng(2)
    audio = np.concatenate([_quiet(0.5, rng), _speech(3.0, rng), _quiet(6.5, rng)])  # speech ends at 3.5 s
    fixed = _feed(AudioWindower(10.0, 8.0, SR), audio)
    cut = _feed(AudioWindower(10.0, 8.0, SR, pause=PauseDetector(SR, 0.6), min_window_s=3.0), audio)
    assert fixed == [(0.0, 10.0)]
    assert cut[0][0] == 0.0 and 4.1 <= cut[0][1] <= 4.5  # 3.5 s + the 0.6 s pause, to a 0.25 s chunk
    # the next window overlaps the early one by the usual overlap (10 - 8 = 2 s)
    w = AudioWindower(10.0, 8.0, SR, pause=PauseDetector(SR, 0.6), min_window_s=3.0)
    more = _feed(w, np.concatenate([audio, _speech(2.0, rng), _quiet(1.0, rng)])) + [
        (x.start, x.start + x.samples.size / SR) for x in w.flush()
    ]
    assert more[1][0] == cut[0][1] - 2.0


def test_a_pause_before_the_shortest_window_does_not_cut() -> None:
    rng = np.random.default_rng(3)
    audio = np.concatenate([_speech(1.0, rng), _quiet(1.0, rng), _speech(1.0, rng), _quiet(2.0, rng)])
    wins = _feed(AudioWindower(10.0, 8.0, SR, pause=PauseDetector(SR, 0.6), min_window_s=3.0), audio)
    assert len(wins) == 1 and wins[0][1] >= 3.6  # cut after the second sentence, not the first
