"""One live stream, end to end, as a plain-Python object (no Ray): :class:`StreamPipeline`.

    pipe = StreamPipeline(StreamSpec.from_url(url), cfg, clients, sinks=[JsonlSink(path)], clips_dir=d)
    status = await pipe.run()          # until the stream ends, errors, or pipe.stop()
    pipe.status(); pipe.metrics()      # any time, from the same event loop or another thread

Inside (DESIGN.md §2, §7, §8):

* an **ingest thread** (:class:`moderation.pipeline.stream_ingest.StreamIngest`) iterates
  :class:`moderation.ingest.live_source.LiveSource` (reconnects, gaps, corrupt packets are its business),
  pushes encoded packets into the evidence ring and sampled frames / audio windows into bounded
  :class:`DropOldestQueue` s — it never blocks on inference;
* **frame** and **audio tasks** on the event loop take what is queued, call the injected
  :class:`InferenceClients` (local batchers or Ray batcher actors — the same code) and hand their
  signals to the per-stream :class:`moderation.policy.fuse.Fuser` in media-time order: a signal is
  held until the **watermark** (the media time every stage has finished: frames done, and the
  stitcher's horizon behind the last transcribed audio window) passes it, so live verdicts equal
  offline ones even though transcripts trail frames by an audio window;
* an optional **chat thread** (:class:`moderation.pipeline.chat_follower.ChatFollower`) follows the stream's
  chat feed; its ``chat.keyword`` signals join the rest;
* an optional **gift thread** (:class:`moderation.pipeline.chat_follower.GiftFollower`) follows the
  stream's gift feed; its events go, on the event loop, through the stream's one
  :class:`~moderation.signals.gifts.GiftTracker`, which also sees every other signal (an inducement
  in speech, a viewer's minor disclosure in chat), and its ``gift.*`` signals join the rest;
* frame and chat signals, and each audio window's own (not yet stitched) keyword signals, also go
  straight to a **preview** fuser, which opens a violation (alert, enforcement of open violations)
  as soon as its frames or its window are done instead of waiting for the watermark and the
  stitcher; :class:`moderation.pipeline.alerts.ViolationLog` makes the preview's sighting and the
  authoritative verdict one violation, alerted and enforced once; a violation first seen open
  is written at once, as a *provisional* record, to the sinks that take them (the review queue),
  and its final verdict carries the same ``violation_id`` so the queue updates that item;
* a **tick** releases held signals and advances both fusers, so verdicts close while the stream
  goes on (signals reach both fusers through :class:`moderation.pipeline.signal_feed.SignalFeed`);
* every task isolates its items: one that raises is skipped, logged once and counted
  (:class:`~moderation.pipeline.failures.TaskFailures`); a task that dies anyway is restarted;
* a verdict gets ``wallclock_start`` (arrival time of its first evidence), model versions, an
  evidence clip remuxed from the ring plus a thumbnail, goes to the sinks, and is enforced
  (warn/cut) when its policy action says so. Open violations are enforced as soon as detected.

Every moment worth timing goes to the **observers** (:mod:`moderation.pipeline.observe`); its own
latency histograms are one (:class:`moderation.pipeline.metrics.LatencyObserver`: frame arrival →
inference result, first evidence → detection, last evidence → sink write). ``status()``,
``metrics()`` and ``reconfigure()`` (:mod:`moderation.pipeline.steering`) run on its event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moderation.config import PipelineConfig, source_config
from moderation.evidence.room_images import RoomImageEvidence
from moderation.evidence.writer import EvidenceWriter, FrameKeeper
from moderation.ingest.source import FrameEvent, SourceConfig
from moderation.messages import ChatMessage, GiftEvent, Signal
from moderation.pipeline.alerts import Alert, AlertTracker
from moderation.pipeline.analysis import AudioAnalyzer, FrameAnalyzer
from moderation.pipeline.audio_pacing import AudioPacing
from moderation.pipeline.chat_follower import ChatFollower, GiftFollower, chat_source, gift_source
from moderation.pipeline.clients import InferenceClients
from moderation.pipeline.enforce import Enforcer
from moderation.pipeline.failures import TaskFailures, supervise
from moderation.pipeline.gift_hub import GiftHub
from moderation.pipeline.graph import Engines
from moderation.pipeline.intent_feed import IntentFeed
from moderation.pipeline.metrics import LatencyObserver, StreamMetrics
from moderation.pipeline.observe import AudioWindowDone, FrameArrived, FrameBatchDone, Observers, PipelineObserver
from moderation.pipeline.outlet import VerdictOutlet
from moderation.pipeline.queues import DropOldestQueue
from moderation.pipeline.signal_feed import SignalFeed
from moderation.pipeline.sinks import VerdictSink
from moderation.pipeline.status import Steering, StreamSpec, StreamStatus
from moderation.pipeline.steering import apply as steer
from moderation.pipeline.stream_duties import StreamDuties
from moderation.pipeline.stream_ingest import StreamIngest
from moderation.policy.fuse import Fuser
from moderation.signals.gifts import GiftTracker
from moderation.signals.intent import rules_reading

__all__ = ["StreamPipeline"]

log = logging.getLogger(__name__)

TICK_S = 0.5


class StreamPipeline:
    """Follow one stream until it ends; see the module docstring."""

    def __init__(
        self,
        spec: StreamSpec,
        cfg: PipelineConfig,
        clients: InferenceClients,
        sinks: Sequence[VerdictSink] = (),
        *,
        clips_dir: Path | None = None,
        enforcer: Enforcer | None = None,
        engines: Engines | None = None,
        source: SourceConfig | None = None,
        on_alert: Callable[[Alert], None] | None = None,
        observers: Sequence[PipelineObserver] = (),
    ) -> None:
        self.spec, self.cfg, self.clients, self.sinks = spec, cfg, clients, list(sinks)
        self.clips_dir = clips_dir
        self.enforcer = enforcer
        self.engines = engines or Engines(cfg)  # lexicon, matcher, registry; models are never touched here
        self.source_cfg = source or source_config(cfg)
        live = cfg.live
        self.failures = TaskFailures(spec.stream_id)  # what each task survived; in status and metrics
        self.ingest = StreamIngest(spec, cfg, self.source_cfg, on_frame=self._frame_arrived, failures=self.failures)
        ing = self.ingest
        self.ring, self.frames, self.audio, self.clock = ing.ring, ing.frames, ing.audio, ing.clock
        self.keeper = FrameKeeper()
        # The authoritative fuser gets every signal in media-time order behind the watermark (same
        # verdicts as offline); the preview gets frame signals at once, for early alerts only.
        self.fuser = Fuser(spec.stream_id, cfg.policy)
        self.preview = Fuser(spec.stream_id, cfg.policy)
        self.latency = LatencyObserver()  # the histograms of metrics(); more observers may be given
        self.observed = Observers([self.latency, *observers], lambda exc: self.failures.item("observer", exc))
        self._on_alert = on_alert
        evidence = (
            EvidenceWriter(
                self.ring,
                self.ingest.lock,
                self.keeper,
                cfg.evidence,
                clips_dir,
                live.clip_wait_s,
                ingest_done=lambda: self.ingest.stopping,
            )
            if clips_dir is not None and cfg.evidence.clips
            else None
        )
        self._frames_done_t = 0.0
        self._audio_done_t = 0.0
        self._frame_busy = self._audio_busy = False
        gap = lambda category: self.fuser.policy.category(category).merge_gap_s  # noqa: E731
        self._alerts = AlertTracker(gap, self._wall_at, self._alerted)  # violations known, each once
        self.alerts = self._alerts.recent  # the latest, for status and benchmarks
        rooms = RoomImageEvidence(clips_dir) if clips_dir is not None else None  # a room verdict's images
        self.outlet = VerdictOutlet(
            spec,
            sinks,
            evidence=evidence,
            room_evidence=rooms,
            enforcer=enforcer,
            gap_for=gap,
            failures=self.failures,
            wall_at=self._wall_at,
            model_versions=self.engines.model_versions,
            seen=self._alerts.see,
            refresh_s=live.provisional_refresh_s,
            notify=self.observed.on_verdict,
            settle_after=lambda c: self.fuser.policy.category(c).merge_gap_s + self.fuser.policy.category(c).window_s,
            on_cut=self.ingest.connection_ended,
        )
        self.verdicts = self.outlet.verdicts  # the latest, stamped and with their clips
        matcher = self.engines.matcher
        self._frame_an = FrameAnalyzer(spec.stream_id, cfg, clients, matcher, self.engines.registry)
        self._audio_an = AudioAnalyzer(
            spec.stream_id, clients, matcher, live.audio_overlap_s, intent=cfg.intent, context_s=cfg.asr.context_s
        )
        self._pacing = AudioPacing.from_config(live)
        chat = chat_source(spec, cfg)
        self._chat = (
            ChatFollower(
                chat,
                spec,
                cfg,
                self.clock,
                matcher,  # the matcher itself, not its match: the follower matches bursts with match_many
                self._from_chat,
                failures=self.failures,
                on_line=self._from_chat_line if cfg.intent.enabled else None,
            )
            if chat
            else None
        )
        gifts = gift_source(spec, cfg)
        self._gifts = (
            GiftFollower(gifts, spec, cfg, self.clock, self._from_gifts, failures=self.failures) if gifts else None
        )
        self.signals = SignalFeed(
            spec.stream_id,
            self.fuser,
            self.preview,
            self.outlet,
            self._alerts,
            self.failures,
            self.observed,
            self.watermark,
            self._frame_watermark,
            GiftHub(GiftTracker(spec.stream_id, cfg.gifts), self.failures) if gifts else None,
            enforce_open=live.enforcement.on_active,
        )
        an, replay = self._frame_an, self.engines.replay_index  # room metadata, records, replay index
        self.duties = StreamDuties(
            spec,
            cfg,
            clients,
            matcher,
            self._on_chat,
            an,
            self._chat,
            self._gifts,
            replay,
            rooms.remember if rooms else None,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The chat intent classifier's queue (``intent.enabled`` and a chat feed).
        on = cfg.intent.enabled and chat
        self._intent = (
            IntentFeed(
                clients,
                cfg.intent,
                self._on_chat,
                self.failures,
                dedup_window_s=cfg.chat.dedup_window_s,
                reading=rules_reading(matcher),
            )
            if on
            else None
        )
        self.steering, self.deferred = spec.steering, tuple[str, ...]()  # its standing; see reconfigure

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        """End following (thread-safe); ``run`` finishes the verdicts in flight and returns."""
        self.ingest.stop()

    def reconfigure(self, steering: Steering, cfg: PipelineConfig) -> tuple[str, ...]:
        """Re-steer while running (event loop): see :mod:`moderation.pipeline.steering`."""
        return steer(self, steering, cfg)

    def _frame_arrived(self, ev: FrameEvent) -> None:
        """Ingest thread, after each sampled frame is queued."""
        for feed in (self._chat, self._gifts):
            if feed is not None and not feed.started:  # send times now map onto media time
                feed.start()
        self.observed.on_frame(FrameArrived(self.spec.stream_id, ev.frame.t, ev.wall))

    def _alerted(self, alert: Alert) -> None:
        self.observed.on_alert(self.spec.stream_id, alert)
        if self._on_alert is not None:  # the tracker logs a listener that raises
            self._on_alert(alert)

    async def run(self) -> StreamStatus:
        loop = asyncio.get_running_loop()
        self.frames.bind(loop)
        self.audio.bind(loop)
        frame_an, audio_an = self._frame_an, self._audio_an
        ingest_done = loop.create_future()
        thread = threading.Thread(
            target=self.ingest.run, args=(loop, ingest_done), daemon=True, name=f"ingest-{self.spec.stream_id}"
        )
        thread.start()
        fail = self.failures
        workers = [
            asyncio.create_task(
                supervise("frame", lambda: self._frame_loop(frame_an), fail, self._pending(self.frames))
            ),
            asyncio.create_task(
                supervise("audio", lambda: self._audio_loop(audio_an), fail, self._pending(self.audio))
            ),
        ]
        ticker = asyncio.create_task(supervise("tick", self._tick_loop, fail, lambda: True))
        intent = self._intent
        classifier = asyncio.create_task(supervise("intent", intent.run, fail, lambda: True)) if intent else None
        self._loop = loop
        try:
            await self.ingest.finished(ingest_done)  # a stop does not wait on a blocked network call
            await asyncio.gather(*workers)
        finally:
            ticker.cancel()
            if classifier is not None:
                classifier.cancel()
            if intent is not None:
                intent.release_all()  # keyword hits of lines never classified keep counting
            self.stop()
            for feed in (self._chat, self._gifts):
                if feed is not None:
                    feed.stop()
        await self.duties.finish(self.ingest.ingested_t)
        rest: list[Signal] = []
        for name, finish in (("frame", frame_an.finish), ("audio", audio_an.finish)):
            try:
                rest += finish()
            except Exception as exc:
                self.failures.item(name, exc)
        self.signals.finish(rest)
        await self.outlet.drain()
        if not self.ingest.detached:  # a detached thread ends on its own network timeout
            await asyncio.to_thread(thread.join, 5.0)
        self.ingest.state = self.ingest.final
        return self.status()

    # ------------------------------------------------------------------ inference (event loop)
    def _pending(self, queue: DropOldestQueue[Any]) -> Callable[[], bool]:
        """Whether more may still come through ``queue`` (a dead task is restarted only then)."""
        return lambda: not (self.ingest.done and queue.closed and not len(queue))

    async def _frame_loop(self, an: FrameAnalyzer) -> None:
        while events := await self.frames.get_batch(self.cfg.live.frame_batch):
            self._frame_busy = True
            try:
                await self._frame_batch(an, events)
            except Exception as exc:  # this batch is lost; the stream's next frames are not
                self.failures.item("frame", exc)
                self._batch_done(events, 0, failed=True)
            finally:
                self._frames_done_t = max(self._frames_done_t, events[-1].frame.t)
                self._frame_busy = False

    async def _frame_batch(self, an: FrameAnalyzer, events: list[FrameEvent]) -> None:
        frames = [e.frame for e in events]
        ocr_before = an.counts.ocr_frames
        result = await an.analyse(frames)
        self._batch_done(events, an.counts.ocr_frames - ocr_before)
        for e in events:
            self.keeper.keep_recent(e.frame)
        for f in result.signal_frames:
            self.keeper.keep_signal(f)
        self._frames_done_t = max(self._frames_done_t, frames[-1].t)
        self._frame_busy = False
        self.signals.both(result.signals)

    def _batch_done(self, events: list[FrameEvent], ocr_frames: int, failed: bool = False) -> None:
        t, arrived = tuple(e.frame.t for e in events), tuple(e.wall for e in events)
        done = datetime.now(UTC)
        self.observed.on_frame_batch(FrameBatchDone(self.spec.stream_id, t, arrived, done, ocr_frames, failed))

    async def _audio_loop(self, an: AudioAnalyzer) -> None:
        while events := await self.audio.get_batch(2):
            self._audio_busy = True
            failed = False
            try:
                signals = await an.analyse([e.window for e in events])
            except Exception as exc:  # these windows are lost; transcripts resume at the next ones
                self.failures.item("audio", exc)
                signals, failed = [], True
                self._audio_done_t = max(self._audio_done_t, events[-1].window.start)
            now = datetime.now(UTC)
            for w in (e.window for e in events):
                at = self._wall_at(w.start)
                self.observed.on_audio_window(AudioWindowDone(self.spec.stream_id, w.start, w.end, at, now, failed))
                if self._pacing is not None:  # longer ASR windows while transcripts lag
                    self._pacing.transcribed(self._wall_at(w.end), now, self.ingest.set_audio_window)
            self._audio_done_t = max(self._audio_done_t, an.watermark)
            self._audio_busy = False
            self.signals.early(an.take_early())  # a spoken violation is alerted before stitching
            self.signals.feed(signals)

    def watermark(self) -> float:
        """Media time up to which every stage has reported (nothing earlier can still arrive)."""
        frame_wm = self._frame_watermark()
        if not self.ingest.has_audio:
            return frame_wm
        # Transcripts still to come (later windows, segments the stitcher holds) start at or after
        # the stitcher's horizon: about the last transcribed window's end minus the overlap.
        return min(frame_wm, self._audio_done_t)

    def _frame_watermark(self) -> float:
        """Media time up to which the frame stages (vision, OCR, QR, loop) have reported."""
        return self._frames_done_t if (self._frame_busy or len(self.frames)) else self.ingest.ingested_t

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.duties.tick(self.ingest.ingested_t)
            if self._intent is not None:
                self._intent.release_older_than()  # a stalled classifier holds no chat evidence back
            self.signals.tick()  # isolates its items

    def _from_chat(self, signals: list[Signal]) -> None:
        """From the chat thread: chat signals go to both fusers, on the event loop (through the
        intent feed when it may veto them)."""
        if self._loop is not None:
            on = self._intent.hold if self._intent is not None else self._on_chat
            with contextlib.suppress(RuntimeError):  # the loop is gone: the stream has ended
                self._loop.call_soon_threadsafe(on, signals)

    def _from_chat_line(self, line: ChatMessage) -> None:
        """From the chat thread: every line for the intent classifier, on the event loop."""
        if self._loop is not None and self._intent is not None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: the stream has ended
                self._loop.call_soon_threadsafe(self._intent.push, line)

    def _on_chat(self, signals: list[Signal]) -> None:
        self.signals.both(signals)

    def _from_gifts(self, events: list[GiftEvent]) -> None:
        """From the gift thread: gift events go to the tracker on the event loop, where every other
        signal reaches it too (one thread owns it)."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: the stream has ended
                self._loop.call_soon_threadsafe(self._on_gifts, events)

    def _on_gifts(self, events: list[GiftEvent]) -> None:
        self.signals.gifts(events)

    # ------------------------------------------------------------------ verdicts
    def _wall_at(self, t: float) -> datetime | None:
        """When media time ``t`` arrived; None when unknown or beyond any date."""
        try:
            return self.clock.wall_at(t)
        except (OverflowError, ValueError):
            return None

    # ------------------------------------------------------------------ status
    def status(self) -> StreamStatus:
        from moderation.pipeline.stream_status import stream_status  # reads this object: no cycle at import

        return stream_status(self)

    def metrics(self) -> StreamMetrics:
        from moderation.pipeline.stream_status import stream_metrics

        return stream_metrics(self)
