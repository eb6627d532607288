"""The batcher reports each batch to its observer: the /metrics histograms move with real batches."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from moderation.infer.batcher import DynamicBatcher, QueueFull
from moderation.pipeline.batch_metrics import BatcherMetrics, merge_batchers


def test_histograms_move_after_batches() -> None:
    metrics = BatcherMetrics("vision", "cpu", "CPUExecutionProvider", max_queue=64)
    sizes: list[int] = []

    async def work(items: Sequence[int]) -> list[int | Exception]:
        sizes.append(len(items))
        await asyncio.sleep(0.03)
        return [ValueError("bad") if i == 5 else i for i in items]

    async def main() -> list[object]:
        b = DynamicBatcher(work, max_batch=4, max_wait_ms=50, max_queue=64, observer=metrics)
        out = await asyncio.gather(*(b.submit(i) for i in range(6)), return_exceptions=True)
        await b.close()
        return list(out)

    out = asyncio.run(main())
    assert isinstance(out[5], ValueError) and out[:5] == [0, 1, 2, 3, 4]
    snap = metrics.snapshot(queue_depth=0)
    assert snap.batch_size.count == len(sizes) == 2 and snap.batch_size.total == 6.0  # 4 + 2 items
    assert snap.wait.count == 6  # one wait per item
    assert snap.run.count == 2 and snap.run.total >= 2 * 0.03 * 0.9  # each call slept 30 ms
    waits = dict(snap.wait.cumulative())  # the last 2 items waited at least for the first 30 ms call
    assert waits["+Inf"] - waits["0.025"] >= 2
    assert snap.failed_items == 1 and snap.rejected == 0
    cum = dict(snap.batch_size.cumulative())
    assert cum["1.0"] == 0.0 and cum["2.0"] == 1.0 and cum["4.0"] == 2.0  # a batch of 2 and a batch of 4


def test_refused_items_are_counted_and_queue_depth_is_read_live() -> None:
    metrics = BatcherMetrics("ocr", "cpu", "CPUExecutionProvider", max_queue=2)
    release = asyncio.Event

    async def main() -> tuple[int, int]:
        gate = release()

        async def blocked(items: Sequence[int]) -> list[int]:
            await gate.wait()
            return list(items)

        b: DynamicBatcher[int, int] = DynamicBatcher(blocked, max_batch=1, max_wait_ms=0, max_queue=2, observer=metrics)
        first = b.try_submit(0)
        await asyncio.sleep(0.02)  # the loop took item 0 and is stuck in the call
        futs = [b.try_submit(1), b.try_submit(2)]
        with pytest.raises(QueueFull):
            b.try_submit(3)
        depth = metrics.snapshot(b.pending).queue_depth
        gate.set()
        await asyncio.gather(first, *futs)
        await b.close()
        return depth, b.stats.rejected

    depth, rejected = asyncio.run(main())
    assert depth == 2 and rejected == 1
    snap = metrics.snapshot()
    assert snap.rejected == 1 and snap.batch_size.count == 3 and snap.max_queue == 2


def test_an_observer_that_raises_never_stops_the_batches() -> None:
    class Broken(BatcherMetrics):
        def on_batch(self, size: int, waits_s: Sequence[float], run_s: float, failed: int) -> None:
            raise RuntimeError("metrics fault")

    async def ident(items: Sequence[int]) -> list[int]:
        return list(items)

    async def main() -> list[int]:
        b = DynamicBatcher(ident, max_batch=2, max_wait_ms=5, observer=Broken("asr"))
        out = [await b.submit(i) for i in range(3)]
        await b.close()
        return out

    assert asyncio.run(main()) == [0, 1, 2]


def test_two_nodes_batchers_merge_into_one_series() -> None:
    a, b = (
        BatcherMetrics("vision", "cuda", "CUDAExecutionProvider", 8),
        BatcherMetrics("vision", "cuda", "CUDAExecutionProvider", 8),
    )
    a.on_batch(3, [0.01] * 3, 0.02, 0)
    b.on_batch(5, [0.02] * 5, 0.04, 1)
    b.on_reject()
    (merged,) = merge_batchers([a.snapshot(1), b.snapshot(2)])
    assert merged.batch_size.count == 2 and merged.batch_size.total == 8.0
    assert merged.wait.count == 8 and merged.queue_depth == 3 and merged.rejected == 1 and merged.failed_items == 1
