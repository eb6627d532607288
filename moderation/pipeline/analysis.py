"""The one per-stream stage graph (DESIGN.md §2), live or offline, inference injected.

Sampled frames → vision | OCR (gated) | QR | synthetic classifiers → signals; audio windows → ASR
→ transcript → keyword signals. Every model call goes through
:class:`moderation.pipeline.clients.InferenceClients`, so the models sit in batchers shared by every
stream (and every file of a scan) of a node: in-process (:class:`~moderation.pipeline.clients.LocalClients`)
or in Ray actors. The live host (:mod:`moderation.pipeline.stream`) feeds it from a real-time
source; an offline scan (:mod:`moderation.pipeline.graph`) feeds it from a file, as fast as the
batchers take the work.

Stateful per-stream parts (OCR gate, QR de-duplication, loop detection, face-age k-of-n,
transcript stitching) are built from the config in ONE place, :func:`build_trackers`, so live and
offline use the same settings. Two optional parts are given from outside because they are not one
stream's: the pool-wide replay index (:class:`~moderation.signals.replay_index.ReplayIndex`, one
per process: :attr:`moderation.pipeline.graph.Engines.replay_index`) and the stream's record
keeper (:class:`~moderation.evidence.records.RecordKeeper`, which keeps one image every
``records.image_every_s`` of the frames analysed here).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from moderation.config import PipelineConfig
from moderation.config.intent import IntentConfig
from moderation.evidence.records import RecordKeeper
from moderation.infer.asr_stitch import LiveStitcher
from moderation.messages import AudioWindow, OcrResult, Signal, TranscriptSegment, VideoFrame, VisionResult
from moderation.pipeline.clients import InferenceClients, age_enabled
from moderation.sample.frames import GrayFrames
from moderation.sample.ocr_gate import OcrGate
from moderation.signals.age import AgeSignals
from moderation.signals.captions import CaptionTracker
from moderation.signals.intent import classifiable, rules_reading, speech_intent_signals
from moderation.signals.keywords import SpeechContext, ocr_signals, transcript_signals
from moderation.signals.qr import QrTracker, decode_qr
from moderation.signals.qr_search import QrSearch
from moderation.signals.replay_index import ReplayIndex, keyframe_hash
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
    age: AgeSignals | None = None  # k-of-n over the face ages the vision batcher estimated


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
        age=AgeSignals(stream, cfg.age) if age_enabled(cfg) else None,
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

    ``replay``: the pool's replay index. Live, each keyframe is looked up and indexed as it is
    analysed (the pool clock is wall time). With ``defer_replay`` (an offline scan) keyframes are
    only fingerprinted here and kept in :attr:`replay_keys`; the scan indexes its files in input
    order afterwards (:mod:`moderation.pipeline.graph`), so of two files showing the same footage
    the later one is the replay, however the files were interleaved. ``records``: the stream's
    record keeper (one JPEG every ``records.image_every_s``).
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
        replay: ReplayIndex | None = None,
        defer_replay: bool = False,
        records: RecordKeeper | None = None,
    ) -> None:
        del resolver  # models live behind the clients; kept so older callers still construct this
        self.stream = stream
        self.cfg = cfg
        self.clients = clients
        self.matcher = matcher
        self.strict = strict
        t = build_trackers(stream, cfg, matcher)
        self.ocr_gate, self.qr, self.synth, self.captions = t.ocr_gate, t.qr, t.synth, t.captions
        self.age = t.age
        self.replay = replay
        self.defer_replay = defer_replay
        self.records = records
        self.replay_keys: list[tuple[float, int | None]] = []  # deferred: (media t, keyframe hash)
        self._replay_last: float | None = None
        self._qr_last: float | None = None  # media time of the last frame searched for QR codes
        # a code still shown in an unchanged region is not decoded again (decode_qr looked up per
        # call, so the module's function is the one used)
        self._qr_search = QrSearch(lambda image: decode_qr(image))
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
        gray = GrayFrames()  # the gate, the QR search and the loop hash share each frame's grey copy
        to_read = self.ocr_gate.select(list(frames), gray) if cfg.ocr.enabled else []
        vision_call = self._call(self.clients.vision, frames, "vision") if cfg.vision.enabled else _none()
        ocr_call = self._call(self.clients.ocr, to_read, "ocr") if to_read else _none()
        synth_on = scoring_enabled(cfg.synthetic) and bool(frames)
        synth_call = self._call(self.clients.synthetic, frames, "synthetic") if synth_on else _none()
        # QR decoding needs no model: it runs (off the loop) while the batchers work, so a QR code
        # is not held up behind OCR.
        qr_call = asyncio.to_thread(self._qr, frames, gray) if self._qr_work(frames) else _none()
        vision, ocr, scores, qr = await asyncio.gather(vision_call, ocr_call, synth_call, qr_call)
        self.counts.ocr_frames += len(to_read)
        vision_results: list[VisionResult] = [r for r in vision if r is not None]
        ocr_results: list[OcrResult] = [r for r in ocr if r is not None]
        frame_scores: list[FrameScores] = [s if s is not None else () for s in scores] if synth_on else []
        signals = list(vision_signals(vision_results, cfg.vision))
        if self.age is not None:
            for vr in vision_results:
                signals += self.age.observe_result(vr)
        ocr_sigs = ocr_signals(ocr_results, self.matcher.match)
        signals += ocr_sigs
        signals += self._captions(frames, ocr_results, ocr_sigs)
        signals += qr
        # loop hashes: CPU, off the loop
        signals += await asyncio.to_thread(self.synth.observe, frames, ocr_results, frame_scores, gray)
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

    @property
    def _side_on(self) -> bool:
        return self.replay is not None or self.records is not None

    def _qr_work(self, frames: Sequence[VideoFrame]) -> bool:
        """Whether :meth:`_qr` has anything to do for this batch: a frame due for a QR search, or the
        replay index or image record on. A batch without (every other one at 1 fps with the default
        ``qr.every_s``) does not pay a worker-thread round trip for nothing."""
        if self._side_on:
            return True
        if not self.cfg.qr.enabled:
            return False
        return any(self._qr_due(f.t) for f in frames)

    def _qr(self, frames: Sequence[VideoFrame], gray: GrayFrames) -> list[Signal]:
        """Model-free frame work, off the loop: QR codes, the replay index, the image record."""
        out: list[Signal] = []
        for f in frames:
            if self.cfg.qr.enabled and self._qr_due(f.t):
                self._qr_last = f.t
                out += self.qr.observe(f.t, self._qr_search(gray(f.image)))
            if self.records is not None:
                self.records.frame(f)
            if self.replay is not None:
                out += self._replay(f)
        return out

    def _qr_due(self, t: float) -> bool:
        """Whether frame ``t`` is searched for QR codes (``qr.every_s``): a code that stays on screen
        is one appearance across searches up to ``qr.gap_s`` apart, so its span is kept to within
        ``every_s``, and a frame *with* a code costs ~10x one without, so it is not searched more."""
        last = self._qr_last
        return last is None or t < last or t - last >= self.cfg.qr.every_s - 1e-6

    def _replay(self, f: VideoFrame) -> list[Signal]:
        assert self.replay is not None
        if self.defer_replay:
            last, every = self._replay_last, self.replay.cfg.every_s
            if last is None or not 0 <= f.t - last < every:
                self._replay_last = f.t
                self.replay_keys.append((f.t, keyframe_hash(f.image)))
            return []
        with self.replay.lock:
            return self.replay.observe(self.stream, f.t, f.image, now=time.time())

    def finish(self) -> list[Signal]:
        """What the trackers still hold at the end of the stream: loops, QR spans, caption spans,
        the tail of a replay run (live; a scan's deferred keyframes are indexed by the scan)."""
        out = self.synth.finish() + self.qr.finish() + self.captions.finish()
        if self.replay is not None and not self.defer_replay:
            with self.replay.lock:
                out += self.replay.end_stream(self.stream)
        return out


async def _none() -> list[Any]:
    return []


class AudioAnalyzer:
    """Audio windows → transcript → keyword signals for one stream (and, with ``intent`` on and its
    ``speech_min_score`` set, the intent classifier's ``asr.intent`` signals of the stitched
    segments, one batch per call).

    Live windows overlap by ``overlap_s`` and are stitched into once-only segments
    (:class:`LiveStitcher`); an offline scan's windows are back to back (``stitch=False``: each
    window's segments are used as they are). ``strict`` as for :class:`FrameAnalyzer`.

    The stitcher holds a window's last words until the next window has heard them too, which
    delays them by a hop. So, live, each window's own (unstitched) keyword signals are also kept
    for :meth:`take_early`: the stream's preview fuser opens a spoken violation from them as soon
    as the window is transcribed (an alert, not a verdict: the verdict still comes from the
    stitched, once-only words). Repeats across the overlap are one observation to fusion.

    ``context_s``: seconds of the stream's earlier speech that may corroborate an ambiguous term
    of a new segment (:class:`~moderation.signals.keywords.SpeechContext`, ``asr.context_s``).
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
        intent: IntentConfig | None = None,
        context_s: float = 0.0,
    ) -> None:
        self.stream = stream
        self.clients = clients
        self.matcher = matcher
        self.stitcher = LiveStitcher(overlap_s) if stitch else None
        self.strict = strict
        # the classifier reads the streamer's words only where it is on and given a speech bar
        self.intent = intent if intent is not None and intent.enabled and intent.speech_min_score else None
        self._end = 0.0
        self.counts = StageCounts()
        self._early: list[Signal] = []
        # the stitched transcript and the windows' own (overlapping) one are read in separate contexts
        self._context = SpeechContext(context_s)
        self._early_context = SpeechContext(context_s)

    async def analyse(self, windows: Sequence[AudioWindow]) -> list[Signal]:
        self.counts.windows += len(windows)
        try:
            results = list(await self.clients.asr(windows))
        except Exception as exc:
            if self.strict:
                raise
            results = [exc] * len(windows)
        signals: list[Signal] = []
        said: list[TranscriptSegment] = []
        for w, r in zip(windows, results, strict=True):
            if isinstance(r, Exception):
                if self.strict:
                    raise r
                self.counts.errors += 1
                self.counts.last_error = f"asr: {type(r).__name__}: {r}"
                log.warning("%s: ASR of window %.1f-%.1f failed: %s", self.stream, w.start, w.end, r)
                r = []
            if self.stitcher is not None:
                self._early += transcript_signals(r, self.matcher.match, self._early_context)
            segments = self.stitcher.push(w.start, w.end, r) if self.stitcher is not None else r
            signals += transcript_signals(segments, self.matcher.match, self._context)
            said += segments
            self._end = max(self._end, w.end)
        if self.intent is not None and said:
            signals += await self._classify(said, self.intent)
        return signals

    async def _classify(self, segments: Sequence[TranscriptSegment], cfg: IntentConfig) -> list[Signal]:
        """The intent classifier on the stitched segments (one batch), as ``asr.intent`` signals; a
        failed call costs those signals, never the keyword ones (``strict``: it raises)."""
        segments = [seg for seg in segments if classifiable(seg.text, cfg)]
        if not segments:
            return []
        try:
            probs = list(await self.clients.intent([seg.text for seg in segments]))
            if len(probs) != len(segments):
                raise RuntimeError(f"intent classifier returned {len(probs)} results for {len(segments)} segments")
        except Exception as exc:
            if self.strict:
                raise
            probs = [exc] * len(segments)
        good = [(seg, p) for seg, p in zip(segments, probs, strict=True) if not isinstance(p, Exception)]
        if len(good) < len(segments):
            failed = next(p for p in probs if isinstance(p, Exception))
            if self.strict:
                raise failed
            self.counts.errors += len(segments) - len(good)
            self.counts.last_error = f"intent: {type(failed).__name__}: {failed}"
            log.warning(
                "%s: intent classifier failed on %d speech segments: %s", self.stream, len(segments) - len(good), failed
            )
        return speech_intent_signals([s for s, _ in good], [p for _, p in good], cfg, rules_reading(self.matcher))

    def take_early(self) -> list[Signal]:
        """Keyword signals of the windows transcribed since the last call, before stitching."""
        early, self._early = self._early, []
        return early

    @property
    def watermark(self) -> float:
        """No keyword signal reported from now on lies before this media time (see
        :attr:`LiveStitcher.horizon`); keyword times never precede their segment's start."""
        return self.stitcher.horizon if self.stitcher is not None else self._end

    def finish(self) -> list[Signal]:
        if self.stitcher is None:
            return []
        return transcript_signals(self.stitcher.flush(), self.matcher.match, self._context)


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
        replay: ReplayIndex | None = None,
        records: RecordKeeper | None = None,
    ) -> StreamAnalyser:
        """``offline``: a file scan (back-to-back audio windows, a failed item fails the file,
        replay lookups deferred to the scan); ``replay`` / ``records``: see :class:`FrameAnalyzer`."""
        return cls(
            FrameAnalyzer(
                stream, cfg, clients, matcher, strict=offline, replay=replay, defer_replay=offline, records=records
            ),
            AudioAnalyzer(
                stream,
                clients,
                matcher,
                audio_overlap_s,
                stitch=not offline,
                strict=offline,
                intent=cfg.intent,
                context_s=cfg.asr.context_s,
            ),
        )
