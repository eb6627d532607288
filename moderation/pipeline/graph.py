"""The one place that knows stage order (DESIGN.md §2) for a recorded file.

decode → (vision | OCR at a lower rate | QR) on sampled frames, audio windows → ASR; every result
→ signals → per-stream fusion → verdicts → evidence clips and thumbnails.

:class:`Engines` holds the loaded models of one process; they are built lazily from the registry
on first use, never at import time, so a worker that only needs vision never loads Whisper.
Nothing here imports Ray: the Ray actors in :mod:`moderation.cluster.actors` wrap these objects.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import TypeVar

from moderation.config import PipelineConfig, project_root
from moderation.evidence.clip import clip_error_text, cut_clip, write_thumbnail
from moderation.infer.asr import Transcriber, load_transcriber
from moderation.infer.asr_batch import BatchedTranscriber, load_batched_transcriber
from moderation.infer.ocr import OcrEngine, load_ocr
from moderation.infer.registry import Registry
from moderation.infer.vision import VisionModels
from moderation.ingest.chat import ChatStats, iter_chat
from moderation.ingest.decode import DecodeStats, MediaInfo, frame_at, iter_audio_windows, iter_frames, probe
from moderation.messages import OcrResult, Signal, Verdict, VideoFrame
from moderation.policy.fuse import fuse
from moderation.sample.ocr_gate import OcrGate
from moderation.signals.chat import chat_signals
from moderation.signals.keywords import ocr_signals, transcript_signals
from moderation.signals.qr import QrTracker, decode_qr
from moderation.signals.synthetic import SyntheticTracker
from moderation.signals.vision import vision_signals
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Audio windows a scan transcribes per call (8 × 30 s: ~15 MB of samples, a few decode rounds).
ASR_SCAN_BATCH = 8
Progress = Callable[[float], None]
"""Called with media seconds newly processed, for progress bars."""


def batched(items: Iterator[T], n: int) -> Iterator[list[T]]:
    while chunk := list(islice(items, n)):
        yield chunk


class Engines:
    """Models and matchers of one process, loaded on first use."""

    def __init__(self, cfg: PipelineConfig, registry: Registry | None = None) -> None:
        self.cfg = cfg
        self.registry = registry or Registry.load(project_root() / "models")

    @cached_property
    def lexicon(self) -> Lexicon:
        path = Path(self.cfg.lexicon_dir) if self.cfg.lexicon_dir else project_root() / "models" / "lexicons"
        return Lexicon.load(path)

    @cached_property
    def matcher(self) -> KeywordMatcher:
        return KeywordMatcher(self.lexicon)

    @cached_property
    def vision(self) -> VisionModels:
        return VisionModels.from_registry(self.registry, self.cfg.vision)

    @cached_property
    def ocr(self) -> OcrEngine:
        return load_ocr(self.registry, self.cfg.ocr)

    @cached_property
    def asr(self) -> Transcriber:
        """One window per call (faster-whisper ``transcribe``); kept for callers that need it."""
        return load_transcriber(self.registry, self.cfg.asr)

    @cached_property
    def asr_batch(self) -> BatchedTranscriber:
        """Whisper over several windows per call (VAD first, one decoder pass, replicas per core):
        what a scan uses; the same transcriber the live batchers use."""
        return load_batched_transcriber(self.registry, self.cfg.asr, max_batch=ASR_SCAN_BATCH)

    def model_versions(self) -> tuple[tuple[str, str], ...]:
        """Model ids and pinned versions that produced a verdict (kept with the evidence)."""
        ids: list[str] = []
        if self.cfg.vision.enabled:
            ids += [m for m, on in (("nudenet-320n", self.cfg.vision.nudenet),
                                    ("open-nsfw", self.cfg.vision.open_nsfw)) if on]
        if self.cfg.ocr.enabled:
            ids.append(self.cfg.ocr.model)
        if self.cfg.asr.enabled:
            ids.append(self.cfg.asr.model)
        return tuple((i, self.registry.version_of(i)) for i in ids)


@dataclass
class FileScan:
    """What scanning one file produced."""

    stream: str
    path: Path
    info: MediaInfo
    signals: list[Signal] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    frames: int = 0
    ocr_frames: int = 0
    ocr_gated: int = 0  # frames due at the OCR rate that the gate kept from OCR (no text / unchanged)
    chat: ChatStats | None = None  # lines / messages / bad lines of the chat feed, when one was given
    audio_s: float = 0.0
    decode: list[DecodeStats] = field(default_factory=list)  # one per decode pass run (span, corrupt packets)


def video_signals(
    frames: Iterator[VideoFrame], engines: Engines, scan: FileScan, progress: Progress | None
) -> Iterator[Signal]:
    cfg = engines.cfg
    ocr_gate = OcrGate(cfg.ocr)  # OCR rate + text-likely + changed-since-last-OCR
    qr = QrTracker(scan.stream, cfg.qr.blocked_domains,
                   engines.matcher.match if cfg.qr.url_keywords else None,
                   gap_s=cfg.qr.gap_s, url_patterns=cfg.qr.url_patterns)
    synth = SyntheticTracker(scan.stream, cfg.synthetic, engines.matcher.match, resolver=engines.registry)
    last_t = 0.0
    for chunk in batched(frames, cfg.vision.batch_size):
        scan.frames += len(chunk)
        if cfg.vision.enabled:
            yield from vision_signals(engines.vision.analyse(chunk), cfg.vision)
        ocr_results: list[OcrResult] = []
        if cfg.ocr.enabled:
            to_read = ocr_gate.select(chunk)
            scan.ocr_gated = ocr_gate.stats.gated
            if to_read:
                scan.ocr_frames += len(to_read)
                ocr_results = engines.ocr.read(to_read)
                yield from ocr_signals(ocr_results, engines.matcher.match)
        if cfg.qr.enabled:
            for f in chunk:
                yield from qr.observe(f.t, decode_qr(f.image))
        yield from synth.observe(chunk, ocr_results)  # loops, synthetic classifiers, disclosure labels
        if progress is not None:
            progress(max(chunk[-1].t - last_t, 0.0))
            last_t = chunk[-1].t
    yield from synth.finish()
    st = ocr_gate.stats
    if cfg.ocr.enabled:
        log.info("%s: OCR read %d frames, gate skipped %d (no text %d, unchanged %d), rate skipped %d",
                 scan.stream, st.ocr, st.gated, st.no_text, st.unchanged, st.rate_skipped)


def audio_signals(path: Path, engines: Engines, scan: FileScan, progress: Progress | None) -> Iterator[Signal]:
    """Windows of ``asr.window_s`` transcribed ``ASR_SCAN_BATCH`` at a time by the batched
    transcriber (about 2.3x the throughput of one ``transcribe`` call per window on CPU)."""
    cfg = engines.cfg.asr
    stats = DecodeStats()
    scan.decode.append(stats)
    windows = iter_audio_windows(path, scan.stream, window_s=cfg.window_s, stats=stats)
    for chunk in batched(windows, ASR_SCAN_BATCH):
        results = engines.asr_batch.transcribe_batch(chunk)
        for window, result in zip(chunk, results, strict=True):
            if isinstance(result, Exception):
                raise result
            scan.audio_s += window.end - window.start
            yield from transcript_signals(result, engines.matcher.match)
            if progress is not None:
                progress(window.end - window.start)


def _serialised(progress: Progress) -> Progress:
    """``progress`` made safe to call from the video and the audio branch at once."""
    lock = threading.Lock()

    def report(seconds: float) -> None:
        with lock:
            progress(seconds)

    return report


def scan_file(
    path: Path,
    stream: str,
    engines: Engines,
    clips_dir: Path | None = None,
    progress: Progress | None = None,
    chat: str | None = None,
) -> FileScan:
    """Run the whole pipeline over one recorded file and return its verdicts with evidence.

    ``chat``: a chat feed (JSONL file or HTTP(S) URL, :mod:`moderation.ingest.chat`) on the same
    media timeline; its ``chat.keyword`` signals are fused with the media's.
    """
    cfg = engines.cfg
    info = probe(path)
    scan = FileScan(stream=stream, path=path, info=info)
    do_video = info.has_video and (cfg.vision.enabled or cfg.ocr.enabled or cfg.qr.enabled)
    do_audio = info.has_audio and cfg.asr.enabled
    # The audio branch (its own demux, VAD, Whisper) runs beside the video branch in one more
    # thread: both spend their time in native code that releases the GIL (PyAV, ONNX Runtime,
    # CTranslate2), so a scan keeps a second core busy instead of doing one branch after the other.
    report = _serialised(progress) if progress is not None and do_video and do_audio else progress
    pool = ThreadPoolExecutor(1, thread_name_prefix=f"asr-{stream}") if do_video and do_audio else None
    try:
        audio_job = None
        if pool is not None:
            engines.matcher  # noqa: B018  # built once here, not raced for by the two branches
            audio_job = pool.submit(lambda: list(audio_signals(path, engines, scan, report)))
        if do_video:
            scan.decode.append(video_stats := DecodeStats())
            frames = iter_frames(path, stream, cfg.sampling.fps, max_side=cfg.sampling.max_side,
                                 max_frame_pixels=cfg.sampling.max_frame_pixels, stats=video_stats)
            scan.signals.extend(video_signals(frames, engines, scan, report))
        if audio_job is not None:
            scan.signals.extend(audio_job.result())
        elif do_audio:
            scan.signals.extend(audio_signals(path, engines, scan, report))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if chat is not None:
        scan.chat = ChatStats()
        limit = _chat_limit(scan, cfg.chat.recording_slack_s)
        messages = iter_chat(chat, stream, cfg.chat, stats=scan.chat, max_t=lambda: limit)
        scan.signals.extend(chat_signals(messages, engines.matcher.match, cfg.chat.dedup_window_s))
    verdicts = fuse(stream, scan.signals, cfg.policy)
    versions = engines.model_versions()
    scan.verdicts = [replace(v, model_versions=versions) for v in verdicts]
    if clips_dir is not None and cfg.evidence.clips and info.has_video:
        scan.verdicts = [attach_evidence(v, path, clips_dir, engines) for v in scan.verdicts]
    return scan


def _chat_limit(scan: FileScan, slack_s: float) -> float:
    """Latest media time a chat message of this recording may have: its end plus ``slack_s``.
    The end is the container's duration, or (when it has none) the latest decoded media."""
    dur = scan.info.duration
    if dur is None or not math.isfinite(dur) or dur < 0:
        dur = max([scan.audio_s, *(s.end if s.end is not None else s.t for s in scan.signals)])
    return dur + slack_s


def attach_evidence(verdict: Verdict, src: Path, clips_dir: Path, engines: Engines) -> Verdict:
    """Cut the clip (stream copy, no re-encode) and a thumbnail with the evidence boxes drawn."""
    ev = engines.cfg.evidence
    stem = f"{verdict.stream}/{int(verdict.start):06d}-{verdict.category}"
    clip_path = clips_dir / f"{stem}.mp4"
    thumb_path = clips_dir / f"{stem}.jpg"
    clip_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        cut_clip(src, clip_path, verdict.start, verdict.end, ev.pre_s, ev.post_s)
    except Exception as exc:  # evidence failure must not lose the verdict itself
        log.warning("clip for %s %s at %.1fs failed: %s", verdict.stream, verdict.category, verdict.start, exc)
        return replace(verdict, clip_error=clip_error_text(exc))
    thumbs: Sequence[str] = ()
    first = verdict.signals[0]
    image = frame_at(src, first.t, max_side=engines.cfg.sampling.max_side)
    if image is not None:
        boxes = [s.box for s in verdict.signals if s.box is not None and abs(s.t - first.t) < 1e-3]
        write_thumbnail(image, thumb_path, boxes=boxes or None)
        thumbs = (str(thumb_path),)
    return replace(verdict, clip=str(clip_path), thumbnails=tuple(thumbs))
