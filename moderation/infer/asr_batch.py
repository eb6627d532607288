"""Whisper batched ACROSS streams: many windows in, one CTranslate2 encode + generate call out.

A per-stream loop (faster-whisper's ``WhisperModel.transcribe`` per window) pays one encoder pass and one
decoder loop per window. Here every window from every stream that is waiting is handled at once
(DESIGN.md §2, §7):

1. Silero VAD (``faster_whisper.vad.get_speech_timestamps``) finds the voiced parts of each
   window, so silence never reaches the model: an all-silent window costs VAD time only.
2. Voiced parts are merged per window into chunks of at most 30 s (``collect_chunks``, the same
   merge faster-whisper's ``BatchedInferencePipeline`` uses); chunks never mix streams, so a
   transcript can never be attributed to the wrong stream.
3. The chunks are dealt out to the replicas (``workers``) in equal numbers and similar speech
   time; each replica computes its chunks' mel features, encodes them, detects the language of
   every chunk from that same encoder output (one batched ``detect_language`` call) unless forced.
4. ONE ``generate`` call per replica decodes all its chunks, each with its own language token in
   its prompt. Where Whisper stops short of a chunk's end, the rest is decoded in a further
   batched round, as ``WhisperModel.transcribe`` does with its seek loop (a rest too short to
   hold a word is not, see ``asr.min_rest_s``).
5. Tokens are split into timed segments with faster-whisper's own ``_split_segments_by_timestamps``,
   mapped back through the VAD cut (``SpeechTimestampsMap``) onto the window, then onto the media
   timeline (``window.start + offset``); hallucinations are dropped with the same rules as the
   per-window path (:func:`moderation.infer.asr.is_hallucination`) and Chinese is made Simplified.

Library pieces are reused, not re-implemented (the CTranslate2 half is :mod:`.asr_decode`).
Model loading is lazy: nothing is loaded at import or construction.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moderation.config import AsrConfig
from moderation.infer.asr import check_window, is_hallucination, load_whisper
from moderation.infer.asr_decode import DecodedPart, RawSegment, balanced_parts, decode_part, raw_segments
from moderation.messages import AudioWindow, TranscriptSegment
from moderation.text.normalize import to_simplified

if TYPE_CHECKING:
    from moderation.infer.registry import Registry

__all__ = ["BatchStats", "BatchedTranscriber", "load_batched_transcriber"]

SAMPLE_RATE = 16000
#: Whisper's context: 30 s of audio = 3000 mel frames. Chunks are never longer.
CHUNK_S = 30
#: Decode rounds per batch: the first, then the rest of chunks Whisper stopped short on.
MAX_ROUNDS = 4


@dataclass
class BatchStats:
    """What the last :meth:`BatchedTranscriber.transcribe_batch` call did (for tests and benchmarks).

    ``decode_batches`` lists the size of every encode+generate round: it is how a test proves that
    silent windows never reached the model. Times are summed over the replicas (thread-seconds).
    """

    windows: int = 0
    failed: int = 0
    audio_s: float = 0.0
    voiced_s: float = 0.0
    decode_batches: list[int] = field(default_factory=list)
    #: Encoder input length (mel frames; 3000 = 30 s) of each of those rounds.
    encoder_frames: list[int] = field(default_factory=list)
    #: Chunks per CTranslate2 generate call (a batch is split across ``workers`` replicas).
    generate_calls: list[int] = field(default_factory=list)
    #: Decode rounds (2+ when Whisper stopped before the end of some chunk, see MAX_ROUNDS).
    rounds: int = 0
    #: Chunks Whisper stopped short on whose rest was decoded again / dropped as too short.
    rests: int = 0
    rests_skipped: int = 0
    vad_s: float = 0.0
    features_s: float = 0.0
    encode_s: float = 0.0
    generate_s: float = 0.0


@dataclass
class _Chunk:
    """Voiced audio of one window, at most 30 s, with what is needed to map times back."""

    window: int
    audio: np.ndarray
    offset: float  # start of this chunk on the window's VAD-compressed timeline, seconds
    duration: float
    speech: list[dict[str, int]]  # the window's VAD spans, samples (for SpeechTimestampsMap)
    lang: str | None = None  # forced (config, or found for the start of this chunk)
    mel: np.ndarray | None = None  # unpadded log-mel of what is left to decode; set on first decode
    rest: bool = False  # the part of a chunk Whisper stopped short of, decoded in a later round


@dataclass(frozen=True)
class _Decoded:
    chunk: _Chunk
    lang: str
    segments: list[RawSegment]
    rest: _Chunk | None


class BatchedTranscriber:
    """One faster-whisper model decoding windows of many streams per call.

    ``max_batch`` caps the chunks per batch (memory: each chunk is a 30 s encoder output).
    ``vad=False`` (from ``cfg.vad``) sends each whole window as one chunk. ``device`` and
    ``compute_type`` override the CPU defaults of ``cfg`` (``"cuda"``, ``"float16"`` on a GPU).

    ``workers``: CTranslate2 model replicas. On CPU a batch is split into ``workers`` parts that
    run in parallel, each replica single-threaded (``cpu_threads`` per replica = cores/workers):
    on a 2-core machine that is ~30% faster than one replica with 2 intra-op threads, because
    Whisper's matrices are too small to keep two threads busy. A single window (the sequential
    baseline) cannot use that. On GPU the default is one replica and the whole batch at once.

    ``bucket_s`` (off by default) pads each chunk's encoder input only up to a multiple of
    ``bucket_s`` instead of 30 s. It makes the encoder several times cheaper on CPU but the
    model was trained on 30 s inputs: text drifts from faster-whisper's (6-9% WER between them
    on the test clips, though not further from the script: benchmarks/asr_context.py), so it is an
    explicit trade that only live processes make (``live.asr_context_s``). ``bucket_from`` takes it only in
    a call of at least that many windows: a batcher that keeps up sends one or two at a time, and
    only a saturated one, where time is short, collects more. ``rest_bucket_s`` does the
    same for rests only (a few seconds each, and a 10 s encoder input costs ~1/7 of a 30 s one
    on CPU); also off by default.
    """

    def __init__(
        self,
        model_dir: Path | str,
        cfg: AsrConfig,
        *,
        model_id: str | None = None,
        max_batch: int = 32,
        device: str = "cpu",
        compute_type: str | None = None,
        min_silence_ms: int = 2000,
        encode_batch: int | None = None,
        bucket_s: float | None = None,
        bucket_from: int = 1,
        workers: int | None = None,
        min_rest_s: float | None = None,
        rest_bucket_s: float | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if bucket_from < 1:
            raise ValueError(f"bucket_from must be >= 1, got {bucket_from}")
        for name, b in (("bucket_s", bucket_s), ("rest_bucket_s", rest_bucket_s)):
            if b is not None and not 1 <= b <= CHUNK_S:
                raise ValueError(f"{name} must be in [1, {CHUNK_S}], got {b}")
        self.model_dir = Path(model_dir)
        self.cfg = cfg
        self.model_id = model_id or self.model_dir.name
        self.max_batch = max_batch
        self.device = device
        self.compute_type = compute_type or cfg.compute_type
        self.min_silence_ms = min_silence_ms
        # On CPU a big encoder batch is no cheaper per item than batch 1; on GPU, encode all.
        self.encode_batch = encode_batch or (max_batch if device == "cuda" else 1)
        self.bucket_s = bucket_s
        self.bucket_from = bucket_from
        self.rest_bucket_s = rest_bucket_s
        self.min_rest_s = cfg.min_rest_s if min_rest_s is None else min_rest_s
        if self.min_rest_s < 0:
            raise ValueError(f"min_rest_s must be >= 0, got {self.min_rest_s}")
        cores = os.cpu_count() or 1
        self.workers = workers or (1 if device == "cuda" else max(1, min(cores, max_batch)))
        self.cpu_threads = cfg.cpu_threads or max(1, cores // self.workers)
        self._pool: ThreadPoolExecutor | None = None
        self.last_stats = BatchStats()
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Any:
        """The ``WhisperModel`` (created on first use; thread-safe)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = load_whisper(
                        self.model_dir,
                        device=self.device,
                        compute_type=self.compute_type,
                        cpu_threads=self.cpu_threads,
                        num_workers=self.workers,
                    )
                    if self.workers > 1:
                        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="asr-batch")
        return self._model

    def warm_up(self) -> None:
        """Load the model and VAD and run one tiny decode, so the first real batch is not slow."""
        rng = np.random.default_rng(0)
        self.transcribe_batch([AudioWindow("warm-up", 0.0, (rng.standard_normal(SAMPLE_RATE) * 0.01).astype("f4"))])

    def _to_simplified(self, text: str) -> str:
        return to_simplified(text)

    # -- stage 1: VAD and chunking -------------------------------------------------------------

    def _chunks(self, index: int, audio: np.ndarray) -> tuple[list[_Chunk], float]:
        """Voiced chunks of one window (empty when silent) and its voiced seconds."""
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        if self.cfg.vad:
            opts = VadOptions(max_speech_duration_s=CHUNK_S, min_silence_duration_ms=self.min_silence_ms)
            speech = get_speech_timestamps(audio, opts, sampling_rate=SAMPLE_RATE)
        else:
            # Without VAD a window longer than 30 s is cut in 30 s pieces, like the VAD path does.
            step = CHUNK_S * SAMPLE_RATE
            speech = [{"start": s, "end": min(s + step, audio.size)} for s in range(0, audio.size, step)]
        if not speech:
            return [], 0.0
        pieces, metas = collect_chunks(audio, speech, sampling_rate=SAMPLE_RATE, max_duration=CHUNK_S)
        chunks = [
            _Chunk(index, piece, float(meta["offset"]), float(meta["duration"]), speech)
            for piece, meta in zip(pieces, metas, strict=True)
            if piece.size
        ]
        return chunks, sum(s["end"] - s["start"] for s in speech) / SAMPLE_RATE

    # -- stage 2: one encode + generate call ---------------------------------------------------

    def _vad_window(self, index: int, window: AudioWindow) -> tuple[list[_Chunk], float] | Exception:
        """Checked, VAD-cut chunks of one window, or the error that fails only this window."""
        try:
            audio = check_window(window)
            return self._chunks(index, audio) if audio.size else ([], 0.0)
        except Exception as exc:
            return exc

    def _frames(self, chunk: _Chunk, busy: bool = True) -> int:
        """Encoder input length (mel frames) for a chunk: 30 s as Whisper was trained, or its bucket
        (``bucket_s`` only in a ``busy`` call: one of at least ``bucket_from`` windows)."""
        bucket = self.rest_bucket_s if chunk.rest and self.rest_bucket_s else self.bucket_s if busy else None
        if bucket is None:
            return CHUNK_S * 100
        return int(min(CHUNK_S, math.ceil(chunk.duration / bucket) * bucket) * 100)

    def _decode(self, chunks: Sequence[_Chunk], frames: int, stats: BatchStats) -> list[_Decoded]:
        """Language, raw segments and any left-over continuation of each chunk.

        The batch is split across the replicas (:func:`balanced_parts`), each computing the mel
        features of its own chunks (NumPy's FFT and matmul release the GIL, so this runs on all
        cores instead of one) and doing one encode + one generate call.
        """
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        model = self.load()
        parts_of = balanced_parts([c.duration for c in chunks], min(self.workers, len(chunks)))

        def run(indices: list[int]) -> tuple[DecodedPart, float]:
            t0 = time.perf_counter()
            mine = [chunks[i] for i in indices]
            for c in mine:
                if c.mel is None:  # like transcribe(): mel of the whole voiced audio, sliced on seek
                    c.mel = model.feature_extractor(c.audio)[..., :-1]
            features = np.stack([pad_or_trim(c.mel, frames) for c in mine if c.mel is not None])
            t1 = time.perf_counter()
            langs = [self.cfg.language or c.lang for c in mine]
            part = decode_part(
                model, features, languages=langs, beam_size=self.cfg.beam_size, encode_batch=self.encode_batch
            )
            return part, t1 - t0

        done = list((self._pool.map if self._pool and len(parts_of) > 1 else map)(run, parts_of))
        parts = [d[0] for d in done]
        by_index: dict[int, tuple[str, Any]] = {}
        for indices, part in zip(parts_of, parts, strict=True):
            if len(part.results) != len(indices):
                raise RuntimeError(f"CTranslate2 returned {len(part.results)} results for {len(indices)} chunks")
            by_index.update(zip(indices, zip(part.langs, part.results, strict=True), strict=True))
        langs = [by_index[i][0] for i in range(len(chunks))]
        results = [by_index[i][1] for i in range(len(chunks))]
        stats.features_s += sum(d[1] for d in done)
        stats.encode_s += sum(p.encode_s for p in parts)
        stats.generate_s += sum(p.generate_s for p in parts)
        stats.decode_batches.append(len(chunks))
        stats.generate_calls.extend(len(p.langs) for p in parts)
        # Only decoding text and timestamp positions: the language token plays no part there.
        tokenizer = Tokenizer(model.hf_tokenizer, bool(model.model.is_multilingual), task="transcribe", language="en")
        out = []
        for c, lang, res in zip(chunks, langs, results, strict=True):
            assert c.mel is not None
            content = c.mel.shape[-1]
            segs, seek = raw_segments(model, tokenizer, res, c.offset, content)
            rest = None
            step = model.feature_extractor.time_per_frame
            # Whisper stopped early: decode the rest next round, as transcribe() does, unless the
            # rest is too short to hold a word (see ``min_rest_s``).
            if 0 < seek < content and (content - seek) * step >= self.min_rest_s:
                stats.rests += 1
                left = c.mel[:, seek:]
                rest = _Chunk(
                    c.window, c.audio, c.offset + seek * step, left.shape[-1] * step, c.speech, lang, left, True
                )
            elif 0 < seek < content:
                stats.rests_skipped += 1
            out.append(_Decoded(c, lang, segs, rest))
        return out

    # -- public API ----------------------------------------------------------------------------

    def transcribe_batch(self, windows: Sequence[AudioWindow]) -> list[list[TranscriptSegment] | Exception]:
        """Transcripts of many windows (any mix of streams), one result per window, in order.

        A window that cannot be read (NaN, wrong rate, not 1-D) gets its ``ValueError`` in its
        slot; an empty or silent window gets ``[]``. Shaped for
        :class:`moderation.infer.batcher.DynamicBatcher`.
        """
        stats = BatchStats(windows=len(windows))
        results: list[list[TranscriptSegment] | Exception] = [[] for _ in windows]
        chunks: list[_Chunk] = []
        t0 = time.perf_counter()
        self.load()  # also starts the replica pool, which VAD uses too (ONNX Runtime releases the GIL)
        pool_map = self._pool.map if self._pool and len(windows) > 1 else map
        found_all = list(pool_map(self._vad_window, range(len(windows)), windows))
        for i, (window, found) in enumerate(zip(windows, found_all, strict=True)):
            if isinstance(found, Exception):  # one broken window must not fail its neighbours
                results[i] = found
                stats.failed += 1
                continue
            window_chunks, voiced = found
            stats.audio_s += np.size(window.samples) / SAMPLE_RATE
            stats.voiced_s += voiced
            chunks.extend(window_chunks)
        stats.vad_s = time.perf_counter() - t0
        busy = len(windows) >= self.bucket_from

        for _ in range(MAX_ROUNDS):  # round 2+: the rest of chunks Whisper stopped short on
            if not chunks:
                break
            by_frames: dict[int, list[_Chunk]] = {}
            for chunk in chunks:
                by_frames.setdefault(self._frames(chunk, busy), []).append(chunk)
            chunks = []
            for frames, group in sorted(by_frames.items()):
                for b in range(0, len(group), self.max_batch):
                    stats.encoder_frames.append(frames)
                    decoded = self._decode(group[b : b + self.max_batch], frames, stats)
                    self._collect(windows, results, decoded)
                    chunks.extend(d.rest for d in decoded if d.rest is not None)
            stats.rounds += 1
        for slot in results:
            if isinstance(slot, list):
                slot.sort(key=lambda s: (s.start, s.end))
        self.last_stats = stats
        return results

    def _collect(
        self,
        windows: Sequence[AudioWindow],
        results: list[list[TranscriptSegment] | Exception],
        decoded: list[_Decoded],
    ) -> None:
        """Add each decoded chunk's segments to its window's result."""
        for d in decoded:
            slot = results[d.chunk.window]
            if not isinstance(slot, Exception):
                slot.extend(self._segments(windows[d.chunk.window], d.chunk, d.lang, d.segments))

    def _segments(
        self, window: AudioWindow, chunk: _Chunk, lang: str, segs: list[RawSegment]
    ) -> list[TranscriptSegment]:
        """Guarded, simplified, media-timed segments of one decoded chunk."""
        from faster_whisper.vad import SpeechTimestampsMap

        ts_map = SpeechTimestampsMap(chunk.speech, SAMPLE_RATE)
        simplify = lang in ("zh", "yue")
        out = []
        for seg in segs:
            text = seg.text.strip()
            if is_hallucination(text, seg.no_speech_prob, seg.avg_logprob, seg.compression_ratio):
                continue
            if simplify:
                text = self._to_simplified(text)
            start = window.start + max(0.0, ts_map.get_original_time(seg.start))
            end = min(window.end, window.start + ts_map.get_original_time(seg.end, is_end=True))
            out.append(
                TranscriptSegment(
                    stream=window.stream,
                    start=start,
                    end=max(start, end),
                    text=text,
                    lang=lang,
                    avg_logprob=seg.avg_logprob,
                    no_speech_prob=seg.no_speech_prob,
                )
            )
        return out


def load_batched_transcriber(registry: Registry, cfg: AsrConfig, **kwargs: Any) -> BatchedTranscriber:
    """A :class:`BatchedTranscriber` for ``cfg.model`` with its files verified (the model loads lazily)."""
    resolved = registry.resolve(cfg.model, verify=True)
    if resolved.kind != "whisper":
        raise ValueError(f"asr.model {cfg.model!r} is a {resolved.kind} model, not kind: whisper")
    return BatchedTranscriber(resolved.path, cfg, model_id=resolved.id, **kwargs)
