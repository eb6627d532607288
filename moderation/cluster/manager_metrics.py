"""The stream manager's ``/metrics``: gathered from its workers and batchers, read off the manager.

Kept apart from :mod:`moderation.cluster.manager` (which holds placement and restarts) so that
module stays about control; these functions read the manager's handles under its lock and
change nothing but its :class:`~moderation.pipeline.pool_metrics.PoolMetrics`.

Why a worker that does not answer in time is counted with what it last reported: a scrape that
left a busy worker out would show totals lower than the scrape before, which Prometheus takes for
a counter reset (and ``rate()`` for a burst of everything counted so far).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import ray

from moderation.pipeline.batch_metrics import BatcherSnapshot
from moderation.pipeline.metrics import StreamMetrics
from moderation.pipeline.pool_metrics import PoolSnapshot

if TYPE_CHECKING:
    from moderation.cluster.manager import StreamManager

#: Seconds a scrape waits for the workers and batchers to answer.
SCRAPE_WAIT_S = 10.0
#: Seconds to wait for a finished or stopped worker's final counts.
FINAL_WAIT_S = 2.0


def pool_snapshot(self: StreamManager) -> PoolSnapshot:
    """Running workers' counters, the totals of the streams let go, every batcher, the slots."""
    with self._lock:
        handles = list(self._handles.items())
        batchers = [h for fams in self._batchers.values() for h in fams.values()]
    srefs: list[Any] = [h.metrics.remote(False) for _, h in handles]  # without recent latencies
    brefs: list[Any] = []
    for b in batchers:
        with contextlib.suppress(Exception):  # a batcher of an older version has no batcher_metrics
            brefs.append(b.batcher_metrics.remote())
    refs = srefs + brefs
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=SCRAPE_WAIT_S) if refs else ([], [])
    done = set(ready)
    fresh: dict[str, StreamMetrics] = {}
    for (sid, _), ref in zip(handles, srefs, strict=True):
        if ref in done:
            with contextlib.suppress(Exception):
                fresh[sid] = ray.get(ref)
    got: list[BatcherSnapshot] = []
    for ref in brefs:
        if ref in done:
            with contextlib.suppress(Exception):
                got.append(ray.get(ref))
    with self._lock:
        live: list[StreamMetrics] = []
        for sid, h in handles:
            if self._handles.get(sid) is not h:
                continue  # let go meanwhile: already in the retired totals
            if sid in fresh:
                self._metrics.seen(sid, h, fresh[sid])
            last = self._metrics.last_seen(sid, h)
            if last is not None:
                live.append(last)
        running = sum(1 for a in self._state.values() if a.state == "running")
        workers = [n for n in self._nodes if not n.is_head] or list(self._nodes)  # as placement chooses
        slots = min(float(sum(n.slots for n in workers)), float(self.cfg.live.max_streams))
        return self._metrics.snapshot(
            live,
            batchers=tuple(got),
            slots_total=slots,
            slots_free=max(0.0, slots - running),
            streams_running=running,
        )


def final_metrics(self: StreamManager, handle: Any, before: StreamMetrics | None) -> None:
    """A worker let go that still answers: its final counts replace what it last reported."""
    try:
        final: StreamMetrics = ray.get(handle.metrics.remote(False), timeout=FINAL_WAIT_S)
    except Exception:
        return
    with self._lock:
        self._metrics.final(before, final)
