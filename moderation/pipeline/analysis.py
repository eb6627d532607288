"""The one per-stream stage graph (DESIGN.md §2), live or offline, inference injected.

Sampled frames → vision | OCR (gated) | QR | synthetic classifiers → signals; audio windows → ASR
→ transcript → keyword signals. Every model call goes through
:class:`moderation.pipeline.clients.InferenceClients`, so the models sit in batchers shared by every
stream (and every file of a scan) of a node: in-process (:class:`~moderation.pipeline.clients.LocalClients`)
or in Ray actors. The live host (:mod:`moderation.pipeline.stream`) feeds it from a real-time
source; an offline scan (:mod:`moderation.pipeline.graph`) feeds it from a file, as fast as the
batchers take the work.

Stateful per-stream parts (OCR gate, QR de-duplication, loop detection, transcript stitching) are
built from the config in ONE place, :func:`build_trackers`, so live and offline use the same
settings.
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
from moderation.signals.captions import CaptionTracker
from moderation.signals.keywords import ocr_signals, transcript_signals
from moderation.signals.qr import QrTracker, decode_qr
from moderation.signals.synthetic import FrameScores, SyntheticTracker, scoring_enabled
from moderation.signals.vision import vision_signals
from moderation.text.matcher import KeywordMatcher

log = logging.getLogger(__name__)
R = TypeVar("R")


@dataclass
class Trackers:
    """The per-stream state of the frame branch."""

    ocr_gate: OcrGate  # OCR rate + text-likely + changed since the last read
    qr: QrTracker
    synth: SyntheticTracker  # loops, classifier scores → signals, disclosure labels
    captions: CaptionTracker  # a flagged caption lasts while its region still shows it (no re-OCR)


def build_trackers(stream: str, cfg: PipelineConfig, matcher: KeywordMatcher) -> Trackers:
    """Every per-stream tracker, from ``cfg``: the only place they are configured."""
    qr = cfg.qr
    return Trackers(
        ocr_gate=OcrGate(cfg.ocr),
        qr=QrTracker(
            stream,
            qr.blocked_domains,
            matcher.match if qr.url_keywords else None,
            gap_s=qr.gap_s,
            url_patterns=qr.url_patterns,
        ),
        synth=SyntheticTracker(stream, cfg.synthetic, matcher.match),
        captions=CaptionTracker(),
    )


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


def _ok(results: Sequence[R | Exception], what: str, counts: StageCounts, strict: bool) -> list[R | None]:
    """Results with failed slots as None (counted and logged), or with ``strict`` the first failure raised."""
    good: list[R | None] = []
    for r in results:
        if isinstance(r, Exception):
            if strict:
                raise r
            counts.errors += 1
            counts.last_error = f"{what}: {type(r).__name__}: {r}"
            log.warning("%s failed: %s", what, r)
            good.append(None)
        else:
            good.append(r)
    return good


class FrameAnalyzer:
    """Sampled frames → image, OCR, QR and synthetic signals for one stream.

    ``strict``: a failed inference item fails the call (an offline scan reports the file as
    failed); otherwise it is counted and the stream goes on (live).
    """

    def __init__(
        self,
        stream: str,
        cfg: PipelineConfig,
        clients: InferenceClients,
        matcher: KeywordMatcher,
        resolver: Any = None,
        *,
        strict: bool = False,
    ) -> None:
        del resolver  # models live behind the clients; kept so older callers still construct this
        self.stream = stream
        self.cfg = cfg
        self.clients = clients
        self.matcher = matcher
        self.strict = strict
        t = build_trackers(stream, cfg, matcher)
        self.ocr_gate, self.qr, self.synth, self.captions = t.ocr_gate, t.qr, t.synth, t.captions
        self.counts = StageCounts()

    async def _call(self, fn: Any, items: Sequence[Any], what: str) -> list[Any]:
        try:
            results = await fn(items)
        except Exception as exc:  # the batcher itself failed: these items are lost, the stream goes on
            if self.strict:
                raise
            results = [exc] * len(items)
        return _ok(results, what, self.counts, self.strict)

    async def analyse(self, frames: Sequence[VideoFrame]) -> FrameResult:
        cfg = self.cfg
        self.counts.frames += len(frames)
        to_read = self.ocr_gate.select(list(frames)) if cfg.ocr.enabled else []
        vision_call = self._call(self.clients.vision, frames, "vision") if cfg.vision.enabled else _none()
        ocr_call = self._call(self.clients.ocr, to_read, "ocr") if to_read else _none()
        synth_on = scoring_enabled(cfg.synthetic) and bool(frames)
        synth_call = self._call(self.clients.synthetic, frames, "synthetic") if synth_on else _none()
        # QR decoding needs no model: it runs (off the loop) while the batchers work, so a QR code
        # is not held up behind OCR.
        qr_call = asyncio.to_thread(self._qr, frames) if cfg.qr.enabled else _none()
        vision, ocr, scores, qr = await asyncio.gather(vision_call, ocr_call, synth_call, qr_call)
        self.counts.ocr_frames += len(to_read)
        vision_results: list[VisionResult] = [r for r in vision if r is not None]
        ocr_results: list[OcrResult] = [r for r in ocr if r is not None]
        frame_scores: list[FrameScores] = [s if s is not None else () for s in scores] if synth_on else []
        signals = list(vision_signals(vision_results, cfg.vision))
        ocr_sigs = ocr_signals(ocr_results, self.matcher.match)
        signals += ocr_sigs
        signals += self._captions(frames, ocr_results, ocr_sigs)
        signals += qr
        # loop hashes: CPU, off the loop
        signals += await asyncio.to_thread(self.synth.observe, frames, ocr_results, frame_scores)
        hit_times = {s.t for s in signals}
        return FrameResult(signals, [f for f in frames if f.t in hit_times])

    def _captions(
        self, frames: Sequence[VideoFrame], ocr_results: Sequence[OcrResult], ocr_sigs: Sequence[Signal]
    ) -> list[Signal]:
        """Frame by frame, in order: a caption read on a frame is remembered there, and every frame
        extends the captions still showing (reading the whole batch first would skip its earlier
        frames for a caption re-read later in the batch)."""
        read_at = {r.t for r in ocr_results}
        out: list[Signal] = []
        for f in frames:
            if f.t in read_at:
                out += self.captions.read(f, [s for s in ocr_sigs if s.t == f.t])
            out += self.captions.observe(f)
        return out

    def _qr(self, frames: Sequence[VideoFrame]) -> list[Signal]:
        out: list[Signal] = []
        for f in frames:
            out += self.qr.observe(f.t, decode_qr(f.image))
        return out

    def finish(self) -> list[Signal]:
        """What the trackers still hold at the end of the stream: loops, QR spans, caption spans."""
        return self.synth.finish() + self.qr.finish() + self.captions.finish()


async def _none() -> list[Any]:
    return []


class AudioAnalyzer:
    """Audio windows → transcript → keyword signals for one stream.

    Live windows overlap by ``overlap_s`` and are stitched into once-only segments
    (:class:`LiveStitcher`); an offline scan's windows are back to back (``stitch=False``: each
    window's segments are used as they are). ``strict`` as for :class:`FrameAnalyzer`.
    """

    def __init__(
        self,
        stream: str,
        clients: InferenceClients,
        matcher: KeywordMatcher,
        overlap_s: float,
        *,
        stitch: bool = True,
        strict: bool = False,
    ) -> None:
        self.stream = stream
        self.clients = clients
        self.matcher = matcher
        self.stitcher = LiveStitcher(overlap_s) if stitch else None
        self.strict = strict
        self._end = 0.0
        self.counts = StageCounts()

    async def analyse(self, windows: Sequence[AudioWindow]) -> list[Signal]:
        self.counts.windows += len(windows)
        try:
            results = list(await self.clients.asr(windows))
        except Exception as exc:
            if self.strict:
                raise
            results = [exc] * len(windows)
        signals: list[Signal] = []
        for w, r in zip(windows, results, strict=True):
            if isinstance(r, Exception):
                if self.strict:
                    raise r
                self.counts.errors += 1
                self.counts.last_error = f"asr: {type(r).__name__}: {r}"
                log.warning("%s: ASR of window %.1f-%.1f failed: %s", self.stream, w.start, w.end, r)
                r = []
            segments = self.stitcher.push(w.start, w.end, r) if self.stitcher is not None else r
            signals += transcript_signals(segments, self.matcher.match)
            self._end = max(self._end, w.end)
        return signals

    @property
    def watermark(self) -> float:
        """No keyword signal reported from now on lies before this media time (see
        :attr:`LiveStitcher.horizon`); keyword times never precede their segment's start."""
        return self.stitcher.horizon if self.stitcher is not None else self._end

    def finish(self) -> list[Signal]:
        return transcript_signals(self.stitcher.flush(), self.matcher.match) if self.stitcher is not None else []


@dataclass
class StreamAnalyser:
    """Both branches of one stream, built together."""

    frames: FrameAnalyzer
    audio: AudioAnalyzer

    @classmethod
    def build(
        cls,
        stream: str,
        cfg: PipelineConfig,
        clients: InferenceClients,
        matcher: KeywordMatcher,
        *,
        audio_overlap_s: float = 0.0,
        offline: bool = False,
    ) -> StreamAnalyser:
        """``offline``: a file scan (back-to-back audio windows, a failed item fails the file)."""
        return cls(
            FrameAnalyzer(stream, cfg, clients, matcher, strict=offline),
            AudioAnalyzer(stream, clients, matcher, audio_overlap_s, stitch=not offline, strict=offline),
        )
