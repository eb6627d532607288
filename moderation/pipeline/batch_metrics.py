"""What a model family's batcher did, for ``/metrics``: batch sizes, queue waits, run times, refusals.

:class:`BatcherMetrics` is the :class:`~moderation.infer.batcher.BatchObserver` that
:class:`~moderation.pipeline.clients.LocalClients` and the Ray batcher actors give their
batchers. It holds plain histograms (no prometheus objects, so its :class:`BatcherSnapshot`
pickles across Ray); the pool merges the snapshots of every node's batchers by
(family, device, provider) and renders them (:mod:`moderation.pipeline.pool_metrics`).

Why these three histograms: batch size says whether cross-stream batching happens at all (a
mean near 1 on a busy node means ``max_wait_ms`` is too short or the streams are too few); queue
wait is what batching costs each frame; run time against queue wait says whether the device or
the batching window is the bottleneck.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from moderation.pipeline.metrics import HistogramSnapshot, LatencyHistogram

__all__ = ["BatcherMetrics", "BatcherSnapshot", "merge_batchers"]

#: Items per batch (the families' ``max_batch`` defaults are 4 to 16; a GPU node may use 256).
SIZE_BUCKETS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0)
#: Seconds an item waits in the queue before its batch starts (``max_wait_ms`` is 20–200 ms).
WAIT_BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Seconds one batched model call runs (an OCR or Whisper batch on CPU takes seconds).
RUN_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class BatcherSnapshot:
    """One batcher's (or several merged batchers') counts at one moment."""

    family: str
    device: str
    provider: str
    batch_size: HistogramSnapshot = field(default_factory=lambda: HistogramSnapshot(SIZE_BUCKETS))
    wait: HistogramSnapshot = field(default_factory=lambda: HistogramSnapshot(WAIT_BUCKETS))
    run: HistogramSnapshot = field(default_factory=lambda: HistogramSnapshot(RUN_BUCKETS))
    queue_depth: int = 0  # items waiting now
    max_queue: int = 0  # the queue's bound
    rejected: int = 0  # items refused because the queue was full
    failed_items: int = 0  # items whose inference raised

    @property
    def key(self) -> tuple[str, str, str]:
        return self.family, self.device, self.provider

    def plus(self, other: BatcherSnapshot) -> BatcherSnapshot:
        """Two batchers of the same family, device and provider (on two nodes) as one."""
        return BatcherSnapshot(
            self.family,
            self.device,
            self.provider,
            self.batch_size.plus(other.batch_size),
            self.wait.plus(other.wait),
            self.run.plus(other.run),
            self.queue_depth + other.queue_depth,
            self.max_queue + other.max_queue,
            self.rejected + other.rejected,
            self.failed_items + other.failed_items,
        )


class BatcherMetrics:
    """A :class:`~moderation.infer.batcher.BatchObserver` keeping one batcher's histograms.

    ``provider``: the execution provider the family's models run on (``CUDAExecutionProvider``,
    ``ctranslate2:cpu:int8``...), exported as a label of an info metric.
    """

    def __init__(self, family: str, device: str = "cpu", provider: str = "", max_queue: int = 0) -> None:
        self.family, self.device, self.provider, self.max_queue = family, device, provider or "unknown", max_queue
        self.size = LatencyHistogram(SIZE_BUCKETS, keep=0)
        self.wait = LatencyHistogram(WAIT_BUCKETS, keep=0)
        self.run = LatencyHistogram(RUN_BUCKETS, keep=0)
        self.rejected = 0
        self.failed_items = 0

    def on_batch(self, size: int, waits_s: Sequence[float], run_s: float, failed: int) -> None:
        self.size.observe(float(size))
        for w in waits_s:
            self.wait.observe(max(0.0, w))
        self.run.observe(max(0.0, run_s))
        self.failed_items += failed

    def on_reject(self) -> None:
        self.rejected += 1

    def snapshot(self, queue_depth: int = 0) -> BatcherSnapshot:
        """The counts now; ``queue_depth``: items waiting in the batcher's queue now."""
        return BatcherSnapshot(
            self.family,
            self.device,
            self.provider,
            self.size.snapshot(),
            self.wait.snapshot(),
            self.run.snapshot(),
            queue_depth,
            self.max_queue,
            self.rejected,
            self.failed_items,
        )


def merge_batchers(snaps: Sequence[BatcherSnapshot]) -> list[BatcherSnapshot]:
    """One snapshot per (family, device, provider): a Prometheus series may appear only once."""
    out: dict[tuple[str, str, str], BatcherSnapshot] = {}
    for s in snaps:
        out[s.key] = out[s.key].plus(s) if s.key in out else s
    return [out[k] for k in sorted(out)]
