"""What one live stream counts, as plain picklable values: :class:`StreamMetrics` snapshots.

Why snapshots instead of module-level prometheus ``Counter`` objects: a stream's counters live
wherever its pipeline runs — in this process (``watch``) or in a Ray actor process (``serve``).
Each :class:`StreamPipeline` keeps plain counters (its latencies and verdict/signal counts through
a :class:`LatencyObserver`, one of its observers) and hands out a frozen :class:`StreamMetrics`.
The pool sums them, with the totals of streams that already ended, into pool-wide counters and
renders those (:mod:`moderation.pipeline.pool_metrics`); no series is labelled by stream.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from moderation.messages import Signal
from moderation.pipeline.alerts import Alert
from moderation.pipeline.observe import FrameBatchDone, NullObserver, VerdictWritten
from moderation.pipeline.status import StreamStatus

#: Seconds; covers in-batch frame latency (~0.1 s) up to slow closed verdicts (minutes).
LATENCY_BUCKETS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)


class LatencyHistogram:
    """A plain, cumulative-on-export histogram (pickles across Ray; no prometheus objects inside).

    ``keep``: how many recent observations to keep for quick percentiles (0: none, e.g. for the
    batchers' histograms, which are only ever exported).
    """

    def __init__(self, buckets: Sequence[float] = LATENCY_BUCKETS, keep: int = 1024) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)  # last: +Inf
        self.total = 0.0
        self.n = 0
        self.keep = keep
        self._recent: list[float] = []  # last observations, for quick percentiles in status/benchmarks

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1
        if self.keep:
            self._recent.append(value)
            if len(self._recent) > self.keep:
                del self._recent[: self.keep // 2]

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

    @property
    def count(self) -> int:
        return sum(self.counts)

    def plus(self, other: HistogramSnapshot) -> HistogramSnapshot:
        """Both histograms' observations together (same buckets; recent values are not kept).

        Why summing is right: each bucket counts observations, so the pool's histogram is the
        bucket-wise sum of its streams' (or its nodes' batchers') histograms.
        """
        if other.buckets != self.buckets:
            raise ValueError(f"cannot add histograms with different buckets: {self.buckets} and {other.buckets}")
        width = len(self.buckets) + 1
        mine, theirs = self.counts or (0,) * width, other.counts or (0,) * width
        return HistogramSnapshot(
            self.buckets, tuple(a + b for a, b in zip(mine, theirs, strict=True)), self.total + other.total
        )

    def cumulative(self) -> list[tuple[str, float]]:
        out, acc = [], 0
        for le, c in zip([*map(str, self.buckets), "+Inf"], self.counts or [0] * (len(self.buckets) + 1), strict=True):
            acc += c
            out.append((le, float(acc)))
        return out


class LatencyObserver(NullObserver):
    """One stream's latency histograms and verdict/signal counts, fed by its pipeline's observer callbacks.

    ``frame``: frame arrival → inference result (failed batches are not latencies);
    ``verdict``: last evidence arrival → written to the sinks; ``alert``: first evidence arrival →
    violation known. ``verdict_kinds`` counts written verdicts by (category, severity) and
    ``signal_kinds`` the signals given to the fuser by kind: both label sets are bounded by the
    policy and the configured models, unlike stream ids.
    """

    def __init__(self) -> None:
        self.frame, self.verdict, self.alert = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()
        self.verdict_kinds: Counter[tuple[str, str]] = Counter()
        self.signal_kinds: Counter[str] = Counter()

    def on_frame_batch(self, ev: FrameBatchDone) -> None:
        if not ev.failed:
            for s in ev.latencies():
                self.frame.observe(s)

    def on_verdict(self, ev: VerdictWritten) -> None:
        self.verdict_kinds[(ev.verdict.category, ev.verdict.severity)] += 1
        if ev.latency_s is not None:
            self.verdict.observe(ev.latency_s)

    def on_alert(self, stream: str, alert: Alert) -> None:
        if alert.latency_s is not None:
            self.alert.observe(alert.latency_s)

    def on_signals(self, stream: str, signals: Sequence[Signal]) -> None:
        for s in signals:
            self.signal_kinds[s.kind] += 1


#: Stream states in which a stream holds a slot (``ended``/``error`` ones no longer do).
RUNNING_STATES = frozenset({"starting", "live", "reconnecting"})


@dataclass(frozen=True)
class StreamMetrics:
    """Counters of one stream at one moment (monotonic within the stream's life).

    The stream id is here for the status API and for the pool's bookkeeping only: it never
    becomes a Prometheus label (10,000 rooms would be 10,000 series per metric, and each would
    vanish when its stream ends). The pool sums these into pool-wide counters.
    """

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
    running: bool = True  # still holds a slot (starting, live or reconnecting)
    verdict_kinds: tuple[tuple[str, str, int], ...] = ()  # (category, severity, count)
    signal_kinds: tuple[tuple[str, int], ...] = ()  # (signal kind, count)

    def without_recent(self) -> StreamMetrics:
        """This snapshot without the recent observations behind :meth:`HistogramSnapshot.percentile`:
        what a pool needs for ``/metrics`` (a few hundred bytes instead of ~25 KB per stream)."""
        return replace(
            self,
            frame_latency=replace(self.frame_latency, recent=()),
            verdict_latency=replace(self.verdict_latency, recent=()),
            alert_latency=replace(self.alert_latency, recent=()),
        )

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
            running=st.state in RUNNING_STATES,
            verdict_kinds=tuple((c, s, n) for (c, s), n in sorted(latency.verdict_kinds.items())),
            signal_kinds=tuple(sorted(latency.signal_kinds.items())),
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

#: Plain counters of :class:`StreamMetrics` the pool sums: (metric name, attribute, help).
COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("frames", "frames_in", "Sampled frames that arrived from the streams."),
    ("frames_processed", "frames_processed", "Frames that went through inference."),
    ("frames_dropped", "frames_dropped", "Frames dropped (oldest first) because inference lagged."),
    ("audio_windows", "audio_windows", "Audio windows that arrived for ASR."),
    ("audio_dropped", "audio_dropped", "Audio windows dropped because ASR lagged."),
    ("corrupt_packets", "corrupt_packets", "Packets that failed to decode and were skipped."),
    ("reconnects", "reconnects", "Reconnections after a drop or a publisher restart."),
    ("inference_errors", "inference_errors", "Inference calls or items that failed (a full batcher queue included)."),
    ("chat_messages", "chat_messages", "Chat messages read from the streams' chat feeds."),
    ("chat_bad_lines", "chat_bad_lines", "Chat feed lines skipped as bad input."),
    ("gift_events", "gift_events", "Gift events read from the streams' gift feeds."),
    ("gift_bad_lines", "gift_bad_lines", "Gift feed lines skipped as bad input."),
    ("task_errors", "task_errors", "Items a per-stream task skipped because handling them raised."),
    ("task_restarts", "task_restarts", "Per-stream tasks that died and were restarted."),
)

#: Latency histograms of :class:`StreamMetrics`: (metric name, attribute, help).
HISTOGRAMS: tuple[tuple[str, str, str], ...] = (
    ("frame_latency_seconds", "frame_latency", "Frame arrival to its inference result."),
    ("verdict_latency_seconds", "verdict_latency", "Arrival of a verdict's last evidence to its sink write."),
    (
        "alert_latency_seconds",
        "alert_latency",
        "A violation's first evidence complete (a frame's arrival; for speech, the offending words' end) to its "
        "detection.",
    ),
)


def render_snapshots(snaps: Iterable[StreamMetrics]) -> bytes:
    """Prometheus text of these streams' pool-wide sums (see :func:`moderation.pipeline.pool_metrics.render_pool`)."""
    from moderation.pipeline.pool_metrics import PoolSnapshot, render_pool  # it imports this module

    return render_pool(PoolSnapshot(live=tuple(snaps)))
