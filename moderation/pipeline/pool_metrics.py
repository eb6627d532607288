"""The pool's ``/metrics``: pool-wide counters that outlive streams, pool gauges, batcher histograms.

A pool (:class:`~moderation.pipeline.pool.LocalPool` in one process, or the Ray
:class:`~moderation.cluster.manager.StreamManager`) answers a scrape with one
:class:`PoolSnapshot`: the current :class:`~moderation.pipeline.metrics.StreamMetrics` of the
streams it still holds, :class:`PoolTotals` of the streams it let go (ended, removed, crashed
and restarted), the batchers' :class:`~moderation.pipeline.batch_metrics.BatcherSnapshot` and its
slots. :func:`render_pool` turns that into Prometheus text with a private ``CollectorRegistry``
(never the global one, so several pools or tests in one process never collide).

Why no stream label: at 10,000 rooms a per-stream label makes 10,000 series per metric that
vanish (with their counts) when the room ends. Counters here are sums over every stream the pool
ever ran, so they only grow while the pool lives (a restarted pool starts again at zero, which
``rate()`` handles); per-stream detail is in the status API (``GET /streams``). Every label is
bounded: ``category``, ``severity``, ``kind`` (signal kind), ``action``/``outcome``
(enforcement), ``family``, ``device``, ``provider``, ``le``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from moderation.pipeline.batch_metrics import BatcherSnapshot, merge_batchers
from moderation.pipeline.metrics import COUNTERS, HISTOGRAMS, HistogramSnapshot, StreamMetrics

__all__ = ["LAG_BUCKETS", "PoolMetrics", "PoolSnapshot", "PoolTotals", "render_pool"]

#: Seconds: buckets of the per-stream lag gauge histogram (``moderation_pool_lag_streams``).
LAG_BUCKETS: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)


class PoolTotals:
    """Sums of stream counters and histograms (plain values: pickles across Ray)."""

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self.verdicts: Counter[tuple[str, str]] = Counter()  # (category, severity)
        self.signals: Counter[str] = Counter()  # signal kind
        self.enforcements: Counter[tuple[str, str]] = Counter()  # (action, outcome)
        self.histograms: dict[str, HistogramSnapshot] = {}
        self.streams = 0  # streams summed

    def add(self, m: StreamMetrics, sign: int = 1) -> None:
        """Count ``m``'s stream in (``sign=-1``: take a snapshot counted earlier out again)."""
        for _, attr, _ in COUNTERS:
            self.counters[attr] += sign * getattr(m, attr)
        for category, severity, n in m.verdict_kinds:
            self.verdicts[(category, severity)] += sign * n
        for kind, n in m.signal_kinds:
            self.signals[kind] += sign * n
        for action, outcome, n in m.enforcements:
            self.enforcements[(action, outcome)] += sign * n
        for _, attr, _ in HISTOGRAMS:
            h: HistogramSnapshot = getattr(m, attr)
            if sign < 0:
                h = HistogramSnapshot(h.buckets, tuple(-c for c in h.counts), -h.total)
            old = self.histograms.get(attr)
            self.histograms[attr] = HistogramSnapshot(h.buckets, h.counts, h.total) if old is None else old.plus(h)
        self.streams += sign

    def copy(self) -> PoolTotals:
        out = PoolTotals()
        out.counters, out.verdicts, out.signals = Counter(self.counters), Counter(self.verdicts), Counter(self.signals)
        out.enforcements, out.histograms, out.streams = Counter(self.enforcements), dict(self.histograms), self.streams
        return out


@dataclass(frozen=True)
class PoolSnapshot:
    """Everything one scrape shows; see the module docstring."""

    live: tuple[StreamMetrics, ...] = ()  # streams the pool holds now (ended ones included until let go)
    retired: PoolTotals = field(default_factory=PoolTotals)  # streams it let go
    batchers: tuple[BatcherSnapshot, ...] = ()
    slots_total: float | None = None  # None: unknown (not exported)
    slots_free: float | None = None
    streams_running: int | None = None  # None: the live snapshots that still hold a slot

    def totals(self) -> PoolTotals:
        """Every stream the pool ever ran, summed."""
        out = self.retired.copy()
        for m in self.live:
            out.add(m)
        return out

    def running(self) -> list[StreamMetrics]:
        return [m for m in self.live if m.running]


def _progress(m: StreamMetrics) -> int:
    return sum(getattr(m, attr) for _, attr, _ in COUNTERS) + sum(n for *_, n in m.verdict_kinds)


class PoolMetrics:
    """The totals of the streams a pool let go, so that its counters never drop.

    In one process (:class:`~moderation.pipeline.pool.LocalPool`) a stream's last snapshot is
    at hand when it is let go: :meth:`retire`. A remote pool (the Ray stream manager) only has the
    snapshot it last saw (:meth:`seen`, at each scrape) when a worker ends or dies: :meth:`let_go`
    retires that one at once, with the worker, so no scrape in between misses the stream; when the
    worker still answers, :meth:`final` swaps in its final counts. Counts a crashed worker made
    after the last scrape are lost (at most one scrape interval of that stream). Not thread-safe:
    the caller holds its own lock.
    """

    def __init__(self) -> None:
        self.retired = PoolTotals()
        self._seen: dict[str, tuple[object, StreamMetrics]] = {}

    def retire(self, m: StreamMetrics | None) -> None:
        if m is not None:
            self.retired.add(m)

    def seen(self, stream: str, owner: object, m: StreamMetrics) -> None:
        """``owner`` (a worker) reported ``m`` for ``stream`` (an older report never replaces a newer one)."""
        last = self._seen.get(stream)
        if last is None or last[0] is not owner or _progress(m) >= _progress(last[1]):
            self._seen[stream] = (owner, m)

    def last_seen(self, stream: str, owner: object) -> StreamMetrics | None:
        last = self._seen.get(stream)
        return last[1] if last is not None and last[0] is owner else None

    def let_go(self, stream: str, owner: object) -> StreamMetrics | None:
        """``owner`` no longer runs ``stream``: retire what it last reported; returns that (or None)."""
        last = self.last_seen(stream, owner)
        self._seen.pop(stream, None)
        self.retire(last)
        return last

    def final(self, before: StreamMetrics | None, m: StreamMetrics) -> None:
        """The final counts ``m`` of a stream let go with ``before`` (what :meth:`let_go` returned)."""
        if before is not None and _progress(m) < _progress(before):
            return  # not newer (a restarted worker answering): keep what was retired
        self.retired.add(m)
        if before is not None:
            self.retired.add(before, sign=-1)

    def snapshot(
        self,
        live: Iterable[StreamMetrics],
        *,
        batchers: tuple[BatcherSnapshot, ...] = (),
        slots_total: float | None = None,
        slots_free: float | None = None,
        streams_running: int | None = None,
    ) -> PoolSnapshot:
        """One scrape: ``live`` streams plus the retired totals (a copy: later retirements do not change it)."""
        return PoolSnapshot(tuple(live), self.retired.copy(), batchers, slots_total, slots_free, streams_running)


def _lag_gauges(p: str, running: list[StreamMetrics]) -> Iterator[Metric]:
    lag_max = GaugeMetricFamily(
        f"{p}_pool_lag_max_seconds", "Largest media lag of inference behind ingest, over running streams."
    )
    lag_max.add_metric([], max((m.lag_s for m in running), default=0.0))
    yield lag_max
    hist = GaugeMetricFamily(
        f"{p}_pool_lag_streams",
        "Running streams whose lag is at most le seconds (a histogram of per-stream lag now; "
        "histogram_quantile works on it).",
        labels=["le"],
    )
    for le in (*LAG_BUCKETS, float("inf")):
        hist.add_metric(["+Inf" if le == float("inf") else str(le)], float(sum(1 for m in running if m.lag_s <= le)))
    yield hist


def _batcher_metrics(p: str, batchers: list[BatcherSnapshot]) -> Iterator[Metric]:
    labels = ["family", "device"]
    info = GaugeMetricFamily(
        f"{p}_batcher_info",
        "A batcher runs: its model family, device and execution provider.",
        labels=[*labels, "provider"],
    )
    depth = GaugeMetricFamily(f"{p}_batcher_queue_depth", "Items waiting in the batcher's queue.", labels=labels)
    bound = GaugeMetricFamily(f"{p}_batcher_queue_capacity", "The batcher queue's bound (items).", labels=labels)
    rejected = CounterMetricFamily(
        f"{p}_batcher_rejected",
        "Items refused because the batcher queue was full (the stream drops them).",
        labels=labels,
    )
    failed = CounterMetricFamily(f"{p}_batcher_failed_items", "Items whose inference raised.", labels=labels)
    hists = [
        (
            HistogramMetricFamily(f"{p}_batcher_batch_size", "Items per batched model call.", labels=labels),
            "batch_size",
        ),
        (
            HistogramMetricFamily(
                f"{p}_batcher_wait_seconds", "Time an item waited in the queue before its batch ran.", labels=labels
            ),
            "wait",
        ),
        (HistogramMetricFamily(f"{p}_batcher_run_seconds", "Time one batched model call ran.", labels=labels), "run"),
    ]
    merged: dict[tuple[str, str], BatcherSnapshot] = {}
    for b in batchers:  # one series per (family, device): providers of one key are listed in the info metric
        info.add_metric([b.family, b.device, b.provider], 1.0)
        k = (b.family, b.device)
        merged[k] = merged[k].plus(b) if k in merged else b
    for (family, device), b in sorted(merged.items()):
        depth.add_metric([family, device], float(b.queue_depth))
        bound.add_metric([family, device], float(b.max_queue))
        rejected.add_metric([family, device], float(b.rejected))
        failed.add_metric([family, device], float(b.failed_items))
        for fam, attr in hists:
            h: HistogramSnapshot = getattr(b, attr)
            fam.add_metric([family, device], h.cumulative(), sum_value=h.total)
    yield from (info, depth, bound, rejected, failed, *(f for f, _ in hists))


class _PoolCollector(Collector):
    def __init__(self, source: Callable[[], PoolSnapshot], prefix: str) -> None:
        self.source, self.prefix = source, prefix

    def collect(self) -> Iterator[Metric]:
        snap = self.source()
        p, live = self.prefix, f"{self.prefix}_live"
        t = snap.totals()
        for name, attr, doc in COUNTERS:
            fam = CounterMetricFamily(f"{live}_{name}", doc)
            fam.add_metric([], float(t.counters[attr]))
            yield fam
        verdicts = CounterMetricFamily(
            f"{live}_verdicts", "Verdicts written to the sinks.", labels=["category", "severity"]
        )
        for (category, severity), n in sorted(t.verdicts.items()):
            verdicts.add_metric([category, severity], float(n))
        yield verdicts
        signals = CounterMetricFamily(f"{live}_signals", "Signals given to the fusers, by kind.", labels=["kind"])
        for kind, n in sorted(t.signals.items()):
            signals.add_metric([kind], float(n))
        yield signals
        enf = CounterMetricFamily(
            f"{live}_enforcements", "Enforcements (warn/cut) by outcome.", labels=["action", "outcome"]
        )
        for (action, outcome), n in sorted(t.enforcements.items()):
            enf.add_metric([action, outcome], float(n))
        yield enf
        for name, attr, doc in HISTOGRAMS:
            hist = HistogramMetricFamily(f"{live}_{name}", doc)
            h = t.histograms.get(attr, HistogramSnapshot())
            hist.add_metric([], h.cumulative(), sum_value=h.total)
            yield hist
        ended = CounterMetricFamily(f"{p}_pool_streams_ended", "Streams the pool let go (ended, removed or restarted).")
        ended.add_metric([], float(snap.retired.streams))
        yield ended
        running = snap.running()
        gauge = GaugeMetricFamily(
            f"{p}_pool_streams_running", "Streams holding a slot (starting, live or reconnecting)."
        )
        gauge.add_metric([], float(len(running) if snap.streams_running is None else snap.streams_running))
        yield gauge
        if snap.slots_total is not None:
            slots = GaugeMetricFamily(f"{p}_pool_slots", "Stream slots of the pool.")
            slots.add_metric([], snap.slots_total)
            yield slots
        if snap.slots_free is not None:
            free = GaugeMetricFamily(f"{p}_pool_slots_free", "Stream slots free for another stream.")
            free.add_metric([], snap.slots_free)
            yield free
        yield from _lag_gauges(p, running)
        yield from _batcher_metrics(p, merge_batchers(snap.batchers))


def render_pool(snap: PoolSnapshot, prefix: str = "moderation") -> bytes:
    """Prometheus text exposition of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_PoolCollector(lambda: snap, prefix))
    return generate_latest(registry)
