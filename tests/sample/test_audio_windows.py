"""AudioWindower: windows, start times, overlap, partial tail, gaps."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.sample.audio import AudioWindower, Window

SR = 100  # a small rate keeps the arithmetic readable


def _run(w: AudioWindower, chunks: list[tuple[int, float | None]]) -> list[Window]:
    out: list[Window] = []
    for n, t in chunks:
        out += w.push(np.ones(n, np.float32), t)
    return out + w.flush()


def test_back_to_back_windows_and_partial_tail() -> None:
    w = AudioWindower(window_s=1.0, sample_rate=SR)
    wins = _run(w, [(37, 0.0)] + [(37, None)] * 6)  # 259 samples in odd chunks
    assert [x.start for x in wins] == pytest.approx([0.0, 1.0, 2.0])
    assert [x.samples.size for x in wins] == [100, 100, 59]
    assert sum(x.samples.size for x in wins) == 259


def test_first_window_starts_at_first_timestamp() -> None:
    w = AudioWindower(window_s=1.0, sample_rate=SR)
    wins = _run(w, [(50, 0.4), (100, 0.9)])
    assert [x.start for x in wins] == pytest.approx([0.4, 1.4])


def test_overlapping_windows_do_not_repeat_the_tail() -> None:
    w = AudioWindower(window_s=1.0, hop_s=0.5, sample_rate=SR)
    wins = _run(w, [(200, 0.0)])
    assert [x.start for x in wins] == pytest.approx([0.0, 0.5, 1.0])
    assert all(x.samples.size == 100 for x in wins)  # no extra tail already covered


def test_overlap_with_new_tail_samples() -> None:
    w = AudioWindower(window_s=1.0, hop_s=0.5, sample_rate=SR)
    wins = _run(w, [(220, 0.0)])
    assert [x.start for x in wins] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert wins[-1].samples.size == 70


def test_gap_flushes_and_reanchors() -> None:
    w = AudioWindower(window_s=1.0, sample_rate=SR, gap_tolerance_s=0.2)
    wins = _run(w, [(50, 0.0), (50, 5.0)])
    assert [(x.start, x.samples.size) for x in wins] == [(0.0, 50), (5.0, 50)]


def test_small_jitter_is_ignored() -> None:
    w = AudioWindower(window_s=1.0, sample_rate=SR, gap_tolerance_s=0.2, pad_min_s=0.05)
    wins = _run(w, [(50, 0.0), (50, 0.52)])
    assert [(x.start, x.samples.size) for x in wins] == [(0.0, 100)]


def test_short_hole_is_filled_with_silence_to_keep_time() -> None:
    w = AudioWindower(window_s=1.0, sample_rate=SR, gap_tolerance_s=0.2)
    wins = _run(w, [(50, 0.0), (50, 0.6)])  # 0.1 s lost (a skipped corrupt packet)
    assert [(x.start, x.samples.size) for x in wins] == [(0.0, 100), (1.0, 10)]
    assert np.all(wins[0].samples[50:60] == 0) and np.all(wins[0].samples[60:] == 1)


def test_min_tail_drops_codec_padding() -> None:
    w = AudioWindower(window_s=1.0, sample_rate=SR, min_tail_s=0.1)
    wins = _run(w, [(105, 0.0)])
    assert [x.samples.size for x in wins] == [100]


def test_no_input_no_windows() -> None:
    assert AudioWindower(sample_rate=SR).flush() == []


def test_bad_params() -> None:
    with pytest.raises(ValueError):
        AudioWindower(window_s=0)
    with pytest.raises(ValueError):
        AudioWindower(window_s=1.0, hop_s=2.0)


def test_retime_changes_the_next_windows_and_keeps_the_buffer() -> None:
    w = AudioWindower(window_s=1.0, hop_s=0.5, sample_rate=SR)
    wins = w.push(np.ones(120, np.float32), 0.0)
    assert [x.start for x in wins] == pytest.approx([0.0])  # 0-1 s; 0.5-1.5 s not complete yet
    w.retime(2.0, 1.5)
    wins = w.push(np.ones(150, np.float32))  # buffer from 0.5 s now holds 2.2 s of audio
    assert [(x.start, x.samples.size) for x in wins] == [(pytest.approx(0.5), 200)]
    with pytest.raises(ValueError, match="hop_s"):
        w.retime(1.0, 2.0)
