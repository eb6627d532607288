"""Prometheus metrics of live streams, from per-stream snapshots.

Why snapshots plus a custom collector instead of module-level ``Counter`` objects: a stream's
counters live wherever its pipeline runs — in this process (``watch``) or in a Ray actor process
(``serve``). Each :class:`StreamPipeline` keeps plain counters (its latencies through a
:class:`LatencyObserver`, one of its observers) and hands out a frozen :class:`StreamMetrics`;
:class:`LiveMetrics` renders the snapshots it is given at scrape time into
its OWN ``CollectorRegistry`` (never the global one, so several pools or tests in one process never
collide). The pool gathers snapshots from its actors and calls :meth:`LiveMetrics.render`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from moderation.pipeline.alerts import Alert
from moderation.pipeline.observe import FrameBatchDone, NullObserver, VerdictWritten
from moderation.pipeline.status import StreamStatus

#: Seconds; covers in-batch frame latency (~0.1 s) up to slow closed verdicts (minutes).
LATENCY_BUCKETS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)


class LatencyHistogram:
    """A plain, cumulative-on-export histogram (pickles across Ray; no prometheus objects inside)."""

    def __init__(self, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)  # last: +Inf
        self.total = 0.0
        self.n = 0
        self._recent: list[float] = []  # last observations, for quick percentiles in status/benchmarks

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1
        self._recent.append(value)
        if len(self._recent) > 1024:
            del self._recent[:512]

    def snapshot(self) -> HistogramSnapshot:
        return HistogramSnapshot(self.buckets, tuple(self.counts), self.total, tuple(self._recent))


@dataclass(frozen=True)
class HistogramSnapshot:
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: tuple[int, ...] = ()
    total: float = 0.0
    recent: tuple[float, ...] = ()

    def percentile(self, q: float) -> float | None:
        """``q`` in [0, 100] over the most recent observations (None when there are none)."""
        if not self.recent:
            return None
        values = sorted(self.recent)
        return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]

    def cumulative(self) -> list[tuple[str, float]]:
        out, acc = [], 0
        for le, c in zip([*map(str, self.buckets), "+Inf"], self.counts or [0] * (len(self.buckets) + 1), strict=True):
            acc += c
            out.append((le, float(acc)))
        return out


class LatencyObserver(NullObserver):
    """One stream's latency histograms, fed by its pipeline's observer callbacks.

    ``frame``: frame arrival → inference result (failed batches are not latencies);
    ``verdict``: last evidence arrival → written to the sinks; ``alert``: first evidence arrival →
    violation known.
    """

    def __init__(self) -> None:
        self.frame, self.verdict, self.alert = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()

    def on_frame_batch(self, ev: FrameBatchDone) -> None:
        if not ev.failed:
            for s in ev.latencies():
                self.frame.observe(s)

    def on_verdict(self, ev: VerdictWritten) -> None:
        if ev.latency_s is not None:
            self.verdict.observe(ev.latency_s)

    def on_alert(self, stream: str, alert: Alert) -> None:
        if alert.latency_s is not None:
            self.alert.observe(alert.latency_s)


@dataclass(frozen=True)
class StreamMetrics:
    """Counters of one stream at one moment (monotonic within the stream's life)."""

    stream: str
    frames_in: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    audio_windows: int = 0
    audio_dropped: int = 0
    corrupt_packets: int = 0
    reconnects: int = 0
    verdicts: int = 0
    inference_errors: int = 0
    chat_messages: int = 0
    chat_bad_lines: int = 0
    gift_events: int = 0
    gift_bad_lines: int = 0
    task_errors: int = 0
    task_restarts: int = 0
    lag_s: float = 0.0
    enforcements: tuple[tuple[str, str, int], ...] = ()  # (action, outcome, count)
    frame_latency: HistogramSnapshot = field(default_factory=HistogramSnapshot)
    verdict_latency: HistogramSnapshot = field(default_factory=HistogramSnapshot)
    alert_latency: HistogramSnapshot = field(default_factory=HistogramSnapshot)

    @classmethod
    def of(cls, st: StreamStatus, latency: LatencyObserver, **more: Any) -> StreamMetrics:
        """The counters a stream's status already holds, its latency histograms, and ``more``."""
        shared = {f: getattr(st, f) for f in _FROM_STATUS}
        lag = st.lag_s if math.isfinite(st.lag_s) else 0.0
        return cls(
            stream=st.stream,
            lag_s=lag,
            frame_latency=latency.frame.snapshot(),
            verdict_latency=latency.verdict.snapshot(),
            alert_latency=latency.alert.snapshot(),
            **shared,
            **more,
        )


#: Fields of :class:`StreamMetrics` copied from :class:`~moderation.pipeline.status.StreamStatus`.
_FROM_STATUS = (
    "frames_in",
    "frames_processed",
    "frames_dropped",
    "audio_windows",
    "audio_dropped",
    "corrupt_packets",
    "reconnects",
    "verdicts",
    "chat_messages",
    "gift_events",
    "task_errors",
    "task_restarts",
)


_COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("frames", "frames_in", "Sampled frames that arrived from the stream."),
    ("frames_processed", "frames_processed", "Frames that went through inference."),
    ("frames_dropped", "frames_dropped", "Frames dropped (oldest first) because inference lagged."),
    ("audio_windows", "audio_windows", "Audio windows that arrived for ASR."),
    ("audio_dropped", "audio_dropped", "Audio windows dropped because ASR lagged."),
    ("corrupt_packets", "corrupt_packets", "Packets that failed to decode and were skipped."),
    ("reconnects", "reconnects", "Reconnections after a drop or a publisher restart."),
    ("verdicts", "verdicts", "Verdicts written to the sinks."),
    ("inference_errors", "inference_errors", "Inference calls or items that failed."),
    ("chat_messages", "chat_messages", "Chat messages read from the stream's chat feed."),
    ("chat_bad_lines", "chat_bad_lines", "Chat feed lines skipped as bad input."),
    ("gift_events", "gift_events", "Gift events read from the stream's gift feed."),
    ("gift_bad_lines", "gift_bad_lines", "Gift feed lines skipped as bad input."),
    ("task_errors", "task_errors", "Items a per-stream task skipped because handling them raised."),
    ("task_restarts", "task_restarts", "Per-stream tasks that died and were restarted."),
)


class _SnapshotCollector(Collector):
    def __init__(self, source: Callable[[], Iterable[StreamMetrics]], prefix: str) -> None:
        self.source = source
        self.prefix = prefix

    def collect(self) -> Iterator[Metric]:
        snaps = list(self.source())
        p = self.prefix
        for name, attr, doc in _COUNTERS:
            fam = CounterMetricFamily(f"{p}_{name}", doc, labels=["stream"])
            for s in snaps:
                fam.add_metric([s.stream], float(getattr(s, attr)))
            yield fam
        lag = GaugeMetricFamily(f"{p}_lag_seconds", "Media seconds inference trails ingest.", labels=["stream"])
        for s in snaps:
            lag.add_metric([s.stream], s.lag_s)
        yield lag
        enf = CounterMetricFamily(
            f"{p}_enforcements", "Enforcements (warn/cut) by outcome.", labels=["stream", "action", "outcome"]
        )
        for s in snaps:
            for action, outcome, n in s.enforcements:
                enf.add_metric([s.stream, action, outcome], float(n))
        yield enf
        for name, attr, doc in (
            ("frame_latency_seconds", "frame_latency", "Frame arrival to its inference result."),
            ("verdict_latency_seconds", "verdict_latency", "Arrival of a verdict's last evidence to its sink write."),
            ("alert_latency_seconds", "alert_latency", "Arrival of a violation's first evidence to its detection."),
        ):
            hist = HistogramMetricFamily(f"{p}_{name}", doc, labels=["stream"])
            for s in snaps:
                h: HistogramSnapshot = getattr(s, attr)
                hist.add_metric([s.stream], h.cumulative(), sum_value=h.total)
            yield hist


class LiveMetrics:
    """A private registry rendering the snapshots ``source()`` returns at each scrape."""

    def __init__(self, source: Callable[[], Iterable[StreamMetrics]], prefix: str = "moderation_live") -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_SnapshotCollector(source, prefix))

    def render(self) -> bytes:
        """Prometheus text exposition format."""
        return generate_latest(self.registry)


def render_snapshots(snaps: Iterable[StreamMetrics]) -> bytes:
    """One-off rendering of given snapshots (what ``GET /metrics`` returns)."""
    items = list(snaps)
    return LiveMetrics(lambda: items).render()
