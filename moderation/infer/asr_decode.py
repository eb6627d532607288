"""The CTranslate2 half of batched Whisper: stacked mel features in, timed raw segments out.

Split from :mod:`moderation.infer.asr_batch` (which owns VAD, chunking, scheduling and the
mapping onto media time) so that this file is only "what faster-whisper 1.2.1's
``BatchedInferencePipeline.generate_segment_batched`` + ``forward`` do", with these differences
that keep its text identical to ``WhisperModel.transcribe`` on the same audio:

* each chunk's language comes from the batch's own encoder output (one ``detect_language`` call)
  and goes into that chunk's prompt, so streams in different languages share one call;
* ``max_initial_timestamp_index`` is ``transcribe()``'s default (1.0 s), not the pipeline's 0;
* the seek position is returned: when Whisper stops before the end of a chunk (its last
  timestamp pair is not at the end), ``transcribe`` decodes the rest in another pass and so does
  the caller, batched again; the pipeline instead silently loses the window's last words;
* the encoder can run in sub-batches (:func:`encode`): on CPU a big encoder batch is slower
  per item than batch 1, because 16 x (1500 x 1500) attention maps per head leave the cache.

What it deliberately does not do: ``transcribe``'s temperature fallback (re-decoding a poor
result at T = 0.2 ... 1.0 with best_of=5 sampling). Every chunk is decoded once at T = 0; what
then fails the thresholds is dropped by :func:`moderation.infer.asr.is_hallucination`, and a
low-confidence decode that passes is kept as is. Sampling would make the text random, and on
espeak-ng speech the fallback cost tiny.en 60% of its sequential time for ~1% different words.

Everything here runs inside a worker thread; CTranslate2 releases the GIL.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DecodedPart", "RawSegment", "balanced_parts", "decode_part", "encode", "raw_segments"]


@dataclass(frozen=True)
class RawSegment:
    """One Whisper segment before guards: times on the window's VAD-compressed timeline."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


@dataclass(frozen=True)
class DecodedPart:
    """What one replica did with its share of a batch."""

    langs: list[str]
    results: list[Any]  # ctranslate2.models.WhisperGenerationResult, one per chunk
    encode_s: float
    generate_s: float


def encode(model: Any, features: np.ndarray, encode_batch: int) -> Any:
    """Encoder output of ``features`` ``[n, n_mels, frames]``, in sub-batches of ``encode_batch``."""
    import ctranslate2

    if len(features) <= encode_batch:
        return model.encode(features)
    step = encode_batch
    parts = [np.asarray(model.encode(features[i : i + step])) for i in range(0, len(features), step)]
    return ctranslate2.StorageView.from_array(np.ascontiguousarray(np.concatenate(parts)))


def decode_part(
    model: Any, features: np.ndarray, *, languages: Sequence[str | None], beam_size: int, encode_batch: int
) -> DecodedPart:
    """Encode, pick each chunk's language, and generate all chunks in ONE ``generate`` call.

    ``languages[i]`` forces chunk i's language (config, or the language found for the start of
    the same window); ``None`` detects it from this batch's encoder output.
    """
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    t0 = time.perf_counter()
    encoded = encode(model, features, encode_batch)
    t1 = time.perf_counter()
    multilingual = bool(model.model.is_multilingual)
    if not multilingual:
        langs = ["en"] * len(features)
    elif all(languages):
        langs = [str(lang) for lang in languages]
    else:  # per chunk: streams in one batch speak different languages
        found = [str(probs[0][0])[2:-2] for probs in model.model.detect_language(encoded)]
        langs = [lang or f for lang, f in zip(languages, found, strict=True)]
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language=langs[0])
    prompt = model.get_prompt(tokenizer, previous_tokens=[], without_timestamps=False)
    prompts = [list(prompt) for _ in langs]
    if multilingual:
        at = prompt.index(tokenizer.language)
        for p, lang in zip(prompts, langs, strict=True):
            p[at] = tokenizer.tokenizer.token_to_id(f"<|{lang}|>")
    results = model.model.generate(
        encoded,
        prompts,
        beam_size=beam_size,
        max_length=model.max_length,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=list(get_suppressed_tokens(tokenizer, (-1,)) or ()),
        max_initial_timestamp_index=round(1.0 / model.time_precision),  # transcribe()'s default
    )
    return DecodedPart(langs, list(results), t1 - t0, time.perf_counter() - t1)


def raw_segments(
    model: Any, tokenizer: Any, result: Any, offset: float, content_frames: int
) -> tuple[list[RawSegment], int]:
    """Timed segments of one chunk's tokens, split at timestamp tokens by faster-whisper itself,
    and how many mel frames they cover (less than ``content_frames``: decode the rest again)."""
    from faster_whisper.transcribe import get_compression_ratio

    tokens = result.sequences_ids[0]
    avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1)  # as the pipeline (length_penalty 1)
    segment_size = min(model.feature_extractor.nb_max_frames, content_frames)  # as generate_segments
    subsegments, seek, _ = model._split_segments_by_timestamps(
        tokenizer=tokenizer,
        tokens=tokens,
        time_offset=offset,
        segment_size=segment_size,
        segment_duration=segment_size * model.feature_extractor.time_per_frame,
        seek=0,
    )
    out = []
    for sub in subsegments:
        text = tokenizer.decode([t for t in sub["tokens"] if t < tokenizer.eot])
        out.append(
            RawSegment(
                start=float(sub["start"]),
                end=float(sub["end"]),
                text=text,
                avg_logprob=avg_logprob,
                no_speech_prob=float(result.no_speech_prob),
                compression_ratio=get_compression_ratio(text) if text else 0.0,
            )
        )
    return out, int(seek)


def balanced_parts(durations: Sequence[float], n: int) -> list[list[int]]:
    """Split chunk indices into ``n`` parts of equal size (±1) and similar total duration.

    Every chunk costs one encoder pass of the same 30 s input, so the counts must match; the
    decode loop's cost grows with the speech in a chunk, so the longest chunks are dealt out in
    a snake order (0, 1, …, n-1, n-1, …, 0, …) to spread them. Each part lists its indices in
    ascending order.
    """
    if n < 1:
        raise ValueError(f"need at least one part, got {n}")
    order = sorted(range(len(durations)), key=lambda i: -durations[i])
    parts: list[list[int]] = [[] for _ in range(n)]
    for rank, i in enumerate(order):
        lap, pos = divmod(rank, n)
        parts[pos if lap % 2 == 0 else n - 1 - pos].append(i)
    return [sorted(p) for p in parts if p]
