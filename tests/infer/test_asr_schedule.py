"""How the batched transcriber shares a batch between its replicas, and which left-over rests it
decodes again: equal chunk counts, spread speech, no re-decode of a sliver shorter than a word."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

import moderation.infer.asr_batch as asr_batch
from moderation.config import AsrConfig, project_root
from moderation.infer.asr_batch import BatchedTranscriber, load_batched_transcriber
from moderation.infer.asr_decode import balanced_parts
from moderation.infer.registry import Registry
from moderation.messages import AudioWindow

SR = 16000


def test_parts_have_equal_counts_and_cover_every_chunk_once() -> None:
    durations = [29.0, 3.0, 28.0, 4.0, 27.0, 5.0, 26.0, 6.0, 12.0]
    parts = balanced_parts(durations, 2)
    assert sorted(i for p in parts for i in p) == list(range(len(durations)))
    assert sorted(len(p) for p in parts) == [4, 5]
    assert all(p == sorted(p) for p in parts)


def test_long_chunks_are_spread_not_stacked() -> None:
    # A contiguous split (first half / second half) gives one replica all the long chunks.
    durations = [30.0, 30.0, 29.0, 29.0, 2.0, 2.0, 1.0, 1.0]
    parts = balanced_parts(durations, 2)
    sums = [sum(durations[i] for i in p) for p in parts]
    assert max(sums) - min(sums) <= 2.0, parts
    four = balanced_parts(durations, 4)
    assert [len(p) for p in four] == [2, 2, 2, 2]
    assert all(sum(durations[i] for i in p) == pytest.approx(31.0) for p in four)


def test_fewer_chunks_than_parts_and_bad_count() -> None:
    assert balanced_parts([5.0], 3) == [[0]]
    assert balanced_parts([], 2) == []
    with pytest.raises(ValueError, match="at least one part"):
        balanced_parts([1.0], 0)


def test_min_rest_comes_from_config_unless_given_and_negative_is_refused() -> None:
    assert BatchedTranscriber(Path("/nonexistent"), AsrConfig()).min_rest_s == AsrConfig().min_rest_s
    assert BatchedTranscriber(Path("/nonexistent"), AsrConfig(min_rest_s=1.5)).min_rest_s == 1.5
    assert BatchedTranscriber(Path("/nonexistent"), AsrConfig(min_rest_s=1.5), min_rest_s=0).min_rest_s == 0
    with pytest.raises(ValidationError, match="min_rest_s"):
        AsrConfig(min_rest_s=-1)
    with pytest.raises(ValueError, match="min_rest_s"):
        BatchedTranscriber(Path("/nonexistent"), AsrConfig(), min_rest_s=-1)


def test_rest_bucket_shortens_only_the_encoder_input_of_rests() -> None:
    from moderation.infer.asr_batch import _Chunk

    audio = np.zeros(SR * 4, np.float32)
    first = _Chunk(0, audio, 0.0, 3.6, [])
    rest = _Chunk(0, audio, 20.0, 3.6, [], "en", np.zeros((80, 360), np.float32), True)
    plain = BatchedTranscriber(Path("/nonexistent"), AsrConfig())
    assert plain._frames(first) == plain._frames(rest) == 3000  # Whisper's 30 s, as transcribe()
    short = BatchedTranscriber(Path("/nonexistent"), AsrConfig(), rest_bucket_s=10)
    assert short._frames(first) == 3000 and short._frames(rest) == 1000
    long_rest = _Chunk(0, audio, 5.0, 24.0, [], "en", None, True)
    assert short._frames(long_rest) == 3000
    live = BatchedTranscriber(Path("/nonexistent"), AsrConfig(), bucket_s=10)  # live.asr_context_s
    assert live._frames(first) == live._frames(rest) == 1000
    assert live._frames(_Chunk(0, audio, 0.0, 12.5, [])) == 2000  # a multiple of 10 s, never cut short
    assert live._frames(first, busy=False) == 3000  # a call below bucket_from windows: Whisper's 30 s
    with pytest.raises(ValueError, match="bucket_from"):
        BatchedTranscriber(Path("/nonexistent"), AsrConfig(), bucket_s=10, bucket_from=0)
    with pytest.raises(ValueError, match="rest_bucket_s"):
        BatchedTranscriber(Path("/nonexistent"), AsrConfig(), rest_bucket_s=0.5)


# ----------------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def tiny() -> BatchedTranscriber:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    registry = Registry.load(project_root() / "models")
    return load_batched_transcriber(registry, AsrConfig(model="whisper-tiny-en", cpu_threads=1), workers=2)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    from moderation.samplegen import speak

    pcm = speak("place your bets now at the online casino and win big money tonight", speed_wpm=140)
    return np.concatenate([np.zeros(SR // 2, np.float32), pcm, np.zeros(SR, np.float32)])


def stop_short(monkeypatch: pytest.MonkeyPatch, frames_left: int) -> list[int]:
    """Make Whisper's first pass over every chunk stop ``frames_left`` mel frames before its end."""
    real = asr_batch.raw_segments
    contents: list[int] = []

    def fake(model: Any, tokenizer: Any, result: Any, offset: float, content: int) -> Any:
        segs, seek = real(model, tokenizer, result, offset, content)
        if offset == 0.0:
            contents.append(content)
            return segs, content - frames_left
        return segs, seek

    monkeypatch.setattr(asr_batch, "raw_segments", fake)
    return contents


@pytest.mark.slow
def test_a_sliver_left_over_is_not_decoded_again(
    tiny: BatchedTranscriber, speech: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    sliver = int(AsrConfig().min_rest_s * 100) // 2  # mel frames are 10 ms
    stop_short(monkeypatch, sliver)
    windows = [AudioWindow("a", 0.0, speech), AudioWindow("b", 10.0, speech)]
    results = tiny.transcribe_batch(windows)
    assert all(isinstance(r, list) and r for r in results)
    st = tiny.last_stats
    assert st.rests_skipped == 2 and st.rests == 0
    assert st.rounds == 1 and st.decode_batches == [2]  # one encoder pass per chunk, no second round


@pytest.mark.slow
def test_a_rest_long_enough_for_words_is_decoded_again(
    tiny: BatchedTranscriber, speech: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop_short(monkeypatch, int(AsrConfig().min_rest_s * 100) + 100)
    tiny.transcribe_batch([AudioWindow("a", 0.0, speech), AudioWindow("b", 10.0, speech)])
    st = tiny.last_stats
    assert st.rests == 2 and st.rests_skipped == 0
    assert st.rounds == 2 and st.decode_batches == [2, 2]


@pytest.mark.slow
def test_min_rest_zero_decodes_every_rest_like_transcribe(
    speech: np.ndarray, monkeypatch: pytest.MonkeyPatch, tiny: BatchedTranscriber
) -> None:
    every = BatchedTranscriber(tiny.model_dir, tiny.cfg, workers=2, min_rest_s=0)
    stop_short(monkeypatch, 5)
    every.transcribe_batch([AudioWindow("a", 0.0, speech)])
    assert every.last_stats.rests == 1 and every.last_stats.rounds == 2
