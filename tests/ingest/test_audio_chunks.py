"""AudioChunks: decoded frames resampled in chunks, with the media time of each chunk kept."""

from __future__ import annotations

import av
import numpy as np
import pytest
from media_factory import tone

from moderation.ingest.audio_chunks import AudioChunks


def _frames(pcm: np.ndarray, rate: int, t0: float = 0.0, size: int = 1024) -> list[tuple[av.AudioFrame, float]]:
    out = []
    for i in range(0, pcm.size - size + 1, size):
        f = av.AudioFrame.from_ndarray(pcm[None, i : i + size], format="fltp", layout="mono")
        f.sample_rate = rate
        out.append((f, t0 + i / rate))
    return out


def _run(chunks: AudioChunks, frames: list[tuple[av.AudioFrame, float]]) -> list[tuple[float | None, np.ndarray]]:
    got = [c for f, t in frames for c in chunks.push(f, t)]
    return got + list(chunks.flush())


def test_continuous_audio_comes_out_in_few_chunks_with_every_sample() -> None:
    pcm = tone(3.0, 48000)
    frames = _frames(pcm, 48000)
    got = _run(AudioChunks(chunk_s=0.25), frames)
    assert 10 <= len(got) <= 16  # ~3 s / 0.25 s, not one per frame (140)
    assert got[0][0] == 0.0
    total = sum(a.size for _, a in got)
    assert abs(total - len(frames) * 1024 / 3) <= 64  # 48 kHz → 16 kHz
    joined = np.concatenate([a for _, a in got])
    # the same samples as resampling frame by frame (what a per-frame loop would get)
    per_frame = av.AudioResampler(format="flt", layout="mono", rate=16000)
    ref = [o.to_ndarray().reshape(-1) for f, _ in _frames(pcm, 48000) for o in per_frame.resample(f)]
    ref += [o.to_ndarray().reshape(-1) for o in per_frame.resample(None)]
    expected = np.concatenate(ref)
    n = min(joined.size, expected.size)
    assert np.abs(joined[:n] - expected[:n]).max() < 1e-3


def test_a_gap_drains_the_queue_and_the_next_chunk_starts_at_its_own_time() -> None:
    first = _frames(tone(0.5, 48000), 48000, t0=0.0)
    second = _frames(tone(0.5, 48000), 48000, t0=5.0)
    got = _run(AudioChunks(chunk_s=1.0), first + second)
    times = [t for t, _ in got if t is not None]
    assert times[0] == 0.0 and 5.0 in times
    before = sum(a.size for t, a in got if t == 0.0)
    assert abs(before - len(first) * 1024 / 3) <= 64


def test_a_new_sample_rate_mid_stream_is_resampled_too() -> None:
    a = _frames(tone(0.5, 48000), 48000, t0=0.0)
    b = _frames(tone(0.5, 44100), 44100, t0=a[-1][1] + 1024 / 48000)
    got = _run(AudioChunks(chunk_s=0.25), a + b)
    total = sum(x.size for _, x in got)
    expect = len(a) * 1024 / 3 + len(b) * 1024 * 16000 / 44100
    assert total == pytest.approx(expect, abs=96)


def test_frames_without_time_still_come_out() -> None:
    frames = [(f, None) for f, _ in _frames(tone(1.0, 48000), 48000)]
    chunks = AudioChunks(chunk_s=0.25)
    got = [c for f, t in frames for c in chunks.push(f, t)] + list(chunks.flush())
    assert all(t is None for t, _ in got)
    assert sum(x.size for _, x in got) == pytest.approx(len(frames) * 1024 / 3, abs=64)
