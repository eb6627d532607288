"""Per-stream stage order for live frames and audio windows (DESIGN.md §2), inference injected.

The offline graph (:mod:`moderation.pipeline.graph`) calls loaded models directly; here the same
signal code runs on results from :class:`moderation.pipeline.clients.InferenceClients`, so inference
can sit in shared batcher actors. Stateful per-stream parts (OCR rate, QR de-duplication, loop
detection, transcript stitching) live here, one instance per stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from moderation.config import PipelineConfig
from moderation.infer.asr_stitch import LiveStitcher
from moderation.messages import AudioWindow, OcrResult, Signal, VideoFrame, VisionResult
from moderation.pipeline.clients import InferenceClients
from moderation.sample.ocr_gate import OcrGate
from moderation.signals.keywords import ocr_signals, transcript_signals
from moderation.signals.qr import QrTracker, decode_qr
from moderation.signals.synthetic import SyntheticTracker
from moderation.signals.vision import vision_signals
from moderation.text.matcher import KeywordMatcher

log = logging.getLogger(__name__)
R = TypeVar("R")


@dataclass
class StageCounts:
    frames: int = 0
    ocr_frames: int = 0
    windows: int = 0
    errors: int = 0
    last_error: str | None = None


@dataclass
class FrameResult:
    signals: list[Signal]
    #: Frames whose image produced a signal (kept for thumbnails with boxes).
    signal_frames: list[VideoFrame] = field(default_factory=list)


def _ok(results: Sequence[R | Exception], what: str, counts: StageCounts) -> list[R]:
    good: list[R] = []
    for r in results:
        if isinstance(r, Exception):
            counts.errors += 1
            counts.last_error = f"{what}: {type(r).__name__}: {r}"
            log.warning("%s failed: %s", what, r)
        else:
            good.append(r)
    return good


class FrameAnalyzer:
    """Sampled frames → image, OCR, QR and synthetic signals for one stream."""

    def __init__(self, stream: str, cfg: PipelineConfig, clients: InferenceClients, matcher: KeywordMatcher,
                 resolver: Any = None) -> None:  # fmt: skip
        self.stream = stream
        self.cfg = cfg
        self.clients = clients
        self.matcher = matcher
        self.ocr_gate = OcrGate(cfg.ocr)  # OCR rate + text-likely + changed since last read (as offline)
        self.qr = QrTracker(stream, cfg.qr.blocked_domains, matcher.match if cfg.qr.url_keywords else None)
        self.synth = SyntheticTracker(stream, cfg.synthetic, matcher.match, resolver=resolver)
        self.counts = StageCounts()

    async def _call(self, fn: Any, items: Sequence[Any], what: str) -> list[Any]:
        try:
            results = await fn(items)
        except Exception as exc:  # the batcher itself failed: these items are lost, the stream goes on
            results = [exc] * len(items)
        return _ok(results, what, self.counts)

    async def analyse(self, frames: Sequence[VideoFrame]) -> FrameResult:
        cfg = self.cfg
        self.counts.frames += len(frames)
        to_read = self.ocr_gate.select(list(frames)) if cfg.ocr.enabled else []
        vision_call = self._call(self.clients.vision, frames, "vision") if cfg.vision.enabled else _none()
        ocr_call = self._call(self.clients.ocr, to_read, "ocr") if to_read else _none()
        # QR decoding needs no model: it runs (off the loop) while the batchers work, so a QR code
        # is not held up behind OCR.
        qr_call = asyncio.to_thread(self._qr, frames) if cfg.qr.enabled else _none()
        vision, ocr, qr = await asyncio.gather(vision_call, ocr_call, qr_call)
        self.counts.ocr_frames += len(to_read)
        vision_results: list[VisionResult] = vision
        ocr_results: list[OcrResult] = ocr
        signals = list(vision_signals(vision_results, cfg.vision))
        signals += ocr_signals(ocr_results, self.matcher.match)
        signals += qr
        signals += await asyncio.to_thread(self.synth.observe, frames, ocr_results)  # loop hashes: CPU, off the loop
        hit_times = {s.t for s in signals}
        return FrameResult(signals, [f for f in frames if f.t in hit_times])

    def _qr(self, frames: Sequence[VideoFrame]) -> list[Signal]:
        out: list[Signal] = []
        for f in frames:
            out += self.qr.observe(f.t, decode_qr(f.image))
        return out

    def finish(self) -> list[Signal]:
        return self.synth.finish()


async def _none() -> list[Any]:
    return []


class AudioAnalyzer:
    """Overlapping audio windows → stitched transcript → keyword signals for one stream."""

    def __init__(self, stream: str, clients: InferenceClients, matcher: KeywordMatcher, overlap_s: float) -> None:
        self.stream = stream
        self.clients = clients
        self.matcher = matcher
        self.stitcher = LiveStitcher(overlap_s)
        self.counts = StageCounts()

    async def analyse(self, windows: Sequence[AudioWindow]) -> list[Signal]:
        self.counts.windows += len(windows)
        try:
            results = list(await self.clients.asr(windows))
        except Exception as exc:
            results = [exc] * len(windows)
        signals: list[Signal] = []
        for w, r in zip(windows, results, strict=True):
            if isinstance(r, Exception):
                self.counts.errors += 1
                self.counts.last_error = f"asr: {type(r).__name__}: {r}"
                log.warning("%s: ASR of window %.1f-%.1f failed: %s", self.stream, w.start, w.end, r)
                r = []
            signals += transcript_signals(self.stitcher.push(w.start, w.end, r), self.matcher.match)
        return signals

    @property
    def watermark(self) -> float:
        """No keyword signal reported from now on lies before this media time (see
        :attr:`LiveStitcher.horizon`); keyword times never precede their segment's start."""
        return self.stitcher.horizon

    def finish(self) -> list[Signal]:
        return transcript_signals(self.stitcher.flush(), self.matcher.match)
