"""The ingest side of one live stream: a thread that follows the source and never waits on inference.

:class:`StreamIngest` iterates :class:`moderation.ingest.live_source.LiveSource` (reconnects, gaps and
corrupt packets are the source's business), pushes encoded packets into the evidence ring and
sampled frames / audio windows into bounded :class:`DropOldestQueue` s, and records the stream's
state and counters. It opens with retries while the origin has nothing yet (right after an
``on_publish`` hook) and gives up after ``give_up_after_s``; a refused URL or non-media input is
permanent. :class:`moderation.pipeline.stream.StreamPipeline` reads what it records.

Stopping never waits on the network. The thread may be blocked inside a reconnect's open or a
stalled read, which end only on their own timeouts (``open_timeout_s`` and ``read_timeout_s`` in
FFmpeg, the guard's ``http_timeout_s`` for HTTP): PyAV's interrupt callback looks only at its own
clock, and an RTMP open never passes through Python, so nothing can cut such a call short from
another thread. So :meth:`StreamIngest.finished` gives a stopped thread a moment to end by itself
and otherwise *detaches* it: the queues are closed so the stream finalises what it has at once,
and whatever the thread produces later (a reconnect that succeeds, a late error) is discarded.
The daemon thread ends when its blocked call times out and it sees the stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable

from moderation.config import PipelineConfig
from moderation.evidence.ring import EvidenceRing
from moderation.ingest.decode import MediaError
from moderation.ingest.live_source import LiveSource
from moderation.ingest.source import (
    AudioEvent,
    Connected,
    Disconnected,
    Ended,
    FrameEvent,
    Gap,
    LiveEvent,
    PacketEvent,
    SourceConfig,
    TransientError,
)
from moderation.ingest.urlguard import UrlRefused
from moderation.pipeline.clock import WallClock
from moderation.pipeline.failures import TaskFailures
from moderation.pipeline.queues import DropOldestQueue
from moderation.pipeline.status import StreamSpec, StreamState

__all__ = ["STOP_GRACE_S", "StreamIngest"]

log = logging.getLogger(__name__)

#: How long a stopped ingest thread may take to end by itself before it is detached. Between
#: packets it ends within milliseconds; longer means it is blocked in a network call.
STOP_GRACE_S = 0.5


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class StreamIngest:
    """Source → evidence ring, frame and audio queues, wall clock, state; run in its own thread."""

    def __init__(
        self,
        spec: StreamSpec,
        cfg: PipelineConfig,
        source_cfg: SourceConfig,
        on_frame: Callable[[FrameEvent], None] | None = None,
        failures: TaskFailures | None = None,
    ) -> None:
        """``on_frame`` is called (in the ingest thread) for every sampled frame after it is queued;
        an event whose handling raises is skipped and recorded in ``failures``."""
        self.spec, self.cfg, self.source_cfg = spec, cfg, source_cfg
        self.failures = failures or TaskFailures(spec.stream_id)
        live = cfg.live
        self.ring = EvidenceRing(live.ring_s, int(live.ring_mb * 1024 * 1024))
        self.lock = threading.Lock()  # the ring, shared with evidence writers on the event loop
        self.frames: DropOldestQueue[FrameEvent] = DropOldestQueue(live.frame_queue)
        self.audio: DropOldestQueue[AudioEvent] = DropOldestQueue(live.audio_queue)
        self.clock = WallClock()
        self.on_frame = on_frame
        self.state: StreamState = "starting"
        self.final: StreamState = "ended"  # the state once everything in flight has finished
        self.error: str | None = None
        self.end_reason: str | None = None
        self.has_audio = False  # the stream has audio and ASR is on
        self.ingested_t = 0.0  # newest frame time ingested
        self.done = False
        self.gaps: list[Gap] = []
        self._corrupt = self._reconnects = 0
        self._stop = threading.Event()
        self._source: LiveSource | None = None
        self._on_stop: Callable[[], object] | None = None  # wakes finished() on the event loop
        self._events = threading.Lock()  # one event handled at a time versus detach()
        #: The thread was left behind by finished(); nothing it does later is recorded.
        self.detached = False

    def stop(self) -> None:
        """End following (thread-safe). The connection counts as ended at once, so clips waiting
        for a post-roll are cut now rather than when the reading thread notices."""
        self._stop.set()
        self.connection_ended()
        if self._source is not None:
            self._source.close()
        notify = self._on_stop
        if notify is not None:
            with contextlib.suppress(RuntimeError):  # the loop is gone (process shutting down)
                notify()

    async def finished(self, done: asyncio.Future[None], grace_s: float = STOP_GRACE_S) -> None:
        """Return when the thread running :meth:`run` has resolved ``done`` or, once stopped, after
        at most ``grace_s`` more: a thread still blocked in a network call then is detached."""
        loop = asyncio.get_running_loop()
        stopped: asyncio.Future[None] = loop.create_future()
        self._on_stop = lambda: loop.call_soon_threadsafe(_resolve, stopped)
        if self._stop.is_set():  # stop() came before the hook was set (it sets the flag first)
            _resolve(stopped)
        await asyncio.wait({done, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not done.done():
            await asyncio.wait({done}, timeout=grace_s)
        if not done.done():
            self.detach()

    def detach(self) -> None:
        """Stop recording what the ingest thread does and close the queues, so the stream ends
        now with what it has; the thread, told to stop, ends when its blocked call returns."""
        with self._events:
            self.detached = True
            self.final, self.error = "ended", None
            self.end_reason = self.end_reason or "closed"
        log.info("%s: stopped while ingest waits on the network; not waiting for it", self.spec.stream_id)
        self.frames.close()
        self.audio.close()

    @property
    def stopping(self) -> bool:
        """Ingest has ended or been told to stop: no more media is coming."""
        return self.done or self._stop.is_set()

    def connection_ended(self) -> None:
        """The connection feeding the evidence ring is over (thread-safe): dropped, ended, cut by
        our enforcement or being stopped. See :meth:`EvidenceRing.end_connection`."""
        with self.lock:
            self.ring.end_connection()

    def set_audio_window(self, window_s: float, hop_s: float | None, pause_s: float) -> None:
        """Cut ASR windows differently from the next one on, and after any reopen."""
        update = {"audio_window_s": window_s, "audio_hop_s": hop_s, "audio_pause_s": pause_s}
        self.source_cfg = self.source_cfg.model_copy(update=update)
        src = self._source
        if src is not None:
            src.set_audio_window(window_s, hop_s, pause_s)

    def set_fps(self, fps: float) -> None:
        """Sample frames at ``fps`` from the next one on, and after any reopen (a new standing)."""
        self.source_cfg = self.source_cfg.model_copy(update={"fps": float(fps)})
        src = self._source
        if src is not None:
            src.set_fps(fps)

    @property
    def corrupt_packets(self) -> int:
        src = self._source
        return self._corrupt + (src.stats.corrupt_packets if src is not None and not self.done else 0)

    @property
    def reconnects(self) -> int:
        src = self._source
        return self._reconnects + (src.stats.reconnects if src is not None and not self.done else 0)

    def run(self, loop: asyncio.AbstractEventLoop, done: asyncio.Future[None]) -> None:
        """Thread body: follow until the stream ends, then close the queues and resolve ``done``."""
        try:
            self._follow()
        except Exception as exc:  # permanent: refused URL, not media, ...
            with self._events:
                if self.detached:  # the stream already ended without us
                    log.info("%s: after stop: %s", self.spec.stream_id, exc)
                else:
                    self.final, self.error = "error", str(exc)
                    log.error("%s: %s", self.spec.stream_id, exc)
        finally:
            self.done = True
            self.frames.close()
            self.audio.close()
            with contextlib.suppress(RuntimeError):  # the loop is gone (process shutting down)
                loop.call_soon_threadsafe(_resolve, done)

    def _follow(self) -> None:
        """Open (retrying while the origin has nothing yet, e.g. right after on_publish) and follow."""
        started, attempt = time.monotonic(), 0
        while not self._stop.is_set():
            src = self._source = LiveSource(
                self.spec.url, self.spec.stream_id, self.source_cfg, start_at=self.spec.resume_at(time.time())
            )
            connected = False
            try:
                for ev in src:
                    connected = connected or isinstance(ev, Connected)
                    try:
                        self.on_event(ev)
                    except Exception as exc:  # one event's failure must not end the stream
                        self.failures.item("ingest", exc)
                return
            except UrlRefused:
                raise
            except (TransientError, MediaError) as exc:
                if connected or time.monotonic() - started > self.source_cfg.give_up_after_s:
                    raise
                attempt += 1
                log.info("%s: open attempt %d failed: %s", self.spec.stream_id, attempt, exc)
                self._stop.wait(src.backoff(attempt + 1))
            finally:
                self._corrupt += src.stats.corrupt_packets
                self._reconnects += src.stats.reconnects
        self.final, self.end_reason = "ended", "closed"

    def on_event(self, ev: LiveEvent) -> None:
        """Record one source event; nothing once detached (the stream has ended without it)."""
        with self._events:
            if not self.detached:
                self._record(ev)

    def _record(self, ev: LiveEvent) -> None:
        if isinstance(ev, PacketEvent):
            with self.lock:
                self.ring.push(ev.packet)
        elif isinstance(ev, FrameEvent):
            self.clock.observe(ev.frame.t, ev.wall)
            self.ingested_t = max(self.ingested_t, ev.frame.t)
            self.frames.put(ev)
            if self.on_frame is not None:
                self.on_frame(ev)
        elif isinstance(ev, AudioEvent):
            self.clock.observe(ev.window.start, ev.wall_start)
            self.audio.put(ev)
        elif isinstance(ev, Connected):
            with self.lock:
                self.ring.set_templates(ev.epoch, ev.templates)
            self.has_audio = ev.templates.audio is not None and self.cfg.asr.enabled
            self.state = "live"
        elif isinstance(ev, Disconnected):
            self.connection_ended()
            self.state = "reconnecting"
        elif isinstance(ev, Gap):
            self.gaps.append(ev)
            self.state = "live"
        elif isinstance(ev, Ended):
            self.connection_ended()
            self.end_reason = ev.reason
            self.final = "error" if ev.reason == "gave_up" else "ended"
            self.error = ev.error if ev.reason == "gave_up" else None
