"""Many streams in ONE process, without Ray: :class:`LocalPool`.

Used by ``moderation watch`` (a few URLs on one machine), by the control API in tests, and by
benchmarks. All pipelines share one :class:`moderation.pipeline.clients.LocalClients`, so their frames
and audio windows are batched together exactly as the Ray batcher actors would batch them.
It has the same async interface as :class:`moderation.cluster.managed_pool.ManagedPool` (``add``,
``remove``, ``reconfigure``, ``list_streams``, ``status``, ``metrics``), which is what the control
API needs. A spec's ``steering`` picks the stream's profile and sampling multiplier.
``observers`` (:mod:`moderation.pipeline.observe`) are given to every stream's pipeline; their
callbacks name the stream, so one observer watches the whole pool.
``/metrics`` sums every stream the pool ever ran (a stream let go is retired into
:class:`~moderation.pipeline.pool_metrics.PoolMetrics`), so its counters never drop when one ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2

from moderation.config import PipelineConfig
from moderation.pipeline.alerts import Alert
from moderation.pipeline.clients import InferenceClients, LocalClients
from moderation.pipeline.enforce import Enforcer
from moderation.pipeline.graph import Engines
from moderation.pipeline.observe import PipelineObserver
from moderation.pipeline.pool_metrics import PoolMetrics, render_pool
from moderation.pipeline.sinks import VerdictSink
from moderation.pipeline.status import Steering, StreamSpec, StreamStatus
from moderation.pipeline.steering import follow, stream_config
from moderation.pipeline.stream import StreamPipeline
from moderation.signals.room import RoomMeta

log = logging.getLogger(__name__)


class PoolFull(Exception):
    """No room for another stream (``live.max_streams``)."""


class DuplicateStream(Exception):
    """A stream with this id is already being watched."""


@dataclass
class _Entry:
    pipeline: StreamPipeline
    task: asyncio.Task[StreamStatus]


def set_native_threads(cfg: PipelineConfig) -> None:
    """Process-wide thread settings of a live pool's process (``live.opencv_threads``)."""
    if cfg.live.opencv_threads:
        cv2.setNumThreads(cfg.live.opencv_threads)


class LocalPool:
    """Follow streams as asyncio tasks of the running loop; create it inside that loop."""

    def __init__(
        self,
        cfg: PipelineConfig,
        clients: InferenceClients | None = None,
        sinks: Sequence[VerdictSink] = (),
        *,
        clips_dir: Path | None = None,
        on_alert: Callable[[str, Alert], None] | None = None,
        observers: Sequence[PipelineObserver] = (),
    ) -> None:
        self.cfg = cfg
        set_native_threads(cfg)
        self.clients = clients or LocalClients(cfg)
        self.sinks = list(sinks)
        self.clips_dir = clips_dir
        self.on_alert = on_alert  # (stream id, alert) when a violation is first known
        self.observers = list(observers)
        self.enforcer = Enforcer(cfg.live.enforcement) if cfg.live.enforcement.enabled else None
        self.engines = Engines(cfg)  # lexicon + matcher built once, shared by every stream
        self._streams: dict[str, _Entry] = {}
        self.pool_metrics = PoolMetrics()  # counts of the streams let go
        self._leaving: list[_Entry] = []  # removed, still stopping

    async def add(self, spec: StreamSpec) -> StreamStatus:
        old = self._streams.get(spec.stream_id)
        if old is not None and not old.task.done():
            raise DuplicateStream(f"stream {spec.stream_id!r} is already watched")
        active = sum(1 for e in self._streams.values() if not e.task.done())
        if active >= self.cfg.live.max_streams:
            raise PoolFull(f"already watching {active} streams (live.max_streams)")
        if old is not None:  # ended: its counts stay in the pool's totals
            self.pool_metrics.retire(old.pipeline.metrics())
        listen = self.on_alert
        pipe = StreamPipeline(
            spec,
            stream_config(self.cfg, spec.steering),  # its profile and sampling; ConfigError if unknown
            self.clients,
            self.sinks,
            clips_dir=self.clips_dir,
            enforcer=self.enforcer,
            engines=self.engines,
            observers=self.observers,
            on_alert=(lambda a: listen(spec.stream_id, a)) if listen else None,
        )
        self._streams[spec.stream_id] = _Entry(pipe, asyncio.create_task(pipe.run(), name=f"stream-{spec.stream_id}"))
        return pipe.status()

    async def reconfigure(self, stream_id: str, steering: Steering) -> StreamStatus | None:
        """Re-steer a running stream to a new standing without restarting it (what can change live
        does; the rest waits for its next publish, listed in its status' ``deferred``); None when
        the stream is not running. A profile pinned at publish stays."""
        entry = self._streams.get(stream_id)
        if entry is None or entry.task.done():
            return None
        pipe = entry.pipeline
        steering = follow(pipe.steering, steering)
        pipe.reconfigure(steering, stream_config(self.cfg, steering))
        return pipe.status()

    async def remove(self, stream_id: str, timeout: float = 15.0) -> StreamStatus | None:
        entry = self._streams.pop(stream_id, None)
        if entry is None:
            return None
        self._leaving.append(entry)  # still in /metrics while it stops: no scrape misses its counts
        try:
            entry.pipeline.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(entry.task), timeout)
        finally:
            self._leaving.remove(entry)
            self.pool_metrics.retire(entry.pipeline.metrics())
        return entry.pipeline.status()

    async def list_streams(self) -> list[StreamStatus]:
        return [e.pipeline.status() for e in self._streams.values()]

    async def status(self, stream_id: str) -> StreamStatus | None:
        entry = self._streams.get(stream_id)
        return entry.pipeline.status() if entry is not None else None

    async def metrics(self) -> bytes:
        live = [e.pipeline.metrics() for e in (*self._streams.values(), *self._leaving)]
        active = sum(1 for e in self._streams.values() if not e.task.done())
        of_batchers = getattr(self.clients, "batcher_metrics", None)  # LocalClients has them; fakes may not
        total = self.cfg.live.max_streams
        snap = self.pool_metrics.snapshot(
            live,
            batchers=tuple(of_batchers()) if of_batchers is not None else (),
            slots_total=float(total),
            slots_free=float(max(0, total - active)),
            streams_running=active,
        )
        return render_pool(snap)

    async def set_meta(self, stream_id: str, meta: RoomMeta) -> bool:
        """New room metadata for a running stream, checked at its next tick; False: no such stream."""
        entry = self._streams.get(stream_id)
        if entry is None or entry.task.done():
            return False
        entry.pipeline.duties.set_meta(meta)
        return True

    def pipeline(self, stream_id: str) -> StreamPipeline | None:
        entry = self._streams.get(stream_id)
        return entry.pipeline if entry is not None else None

    async def wait_all(self) -> list[StreamStatus]:
        """Until every stream ended (or errored). A stream whose task raised is reported in state
        ``error`` once the others have finished (so they still flush their open violations)."""
        entries = list(self._streams.values())
        results = await asyncio.gather(*(e.task for e in entries), return_exceptions=True)
        out: list[StreamStatus] = []
        for e, r in zip(entries, results, strict=True):
            if isinstance(r, BaseException):
                log.error("%s: stream task failed: %s: %s", e.pipeline.spec.stream_id, type(r).__name__, r)
                r = replace(e.pipeline.status(), state="error", error=f"stream task failed: {type(r).__name__}: {r}")
            out.append(r)
        return out

    async def close(self) -> None:
        for sid in list(self._streams):
            await self.remove(sid)
        close = getattr(self.clients, "close", None)
        if close is not None:
            await close()
