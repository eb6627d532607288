"""Dynamic batching across callers, in plain asyncio (no Ray, no models).

Many stream workers each submit one item (a frame, an audio window) and await its result; the
batcher collects what is waiting, up to ``max_batch`` items or ``max_wait_ms`` after the first
one arrived, whichever comes first, runs ONE batched call, and hands each caller its own result.
This is the performance core of DESIGN.md §7: on a GPU one call of 64 frames costs about what one
call of 1 frame costs.

Rules the batch function must follow, and that are checked:
- it returns exactly one result per input (a mismatch fails the whole batch with a clear error,
  rather than silently handing callers each other's results);
- it may return an ``Exception`` instance in place of a result, which fails only that item.
If the batch function raises, every item of that batch gets the exception.

The input queue is bounded: :meth:`DynamicBatcher.submit` waits for room (backpressure), and
:meth:`DynamicBatcher.try_submit` refuses at once when full so a live stream can drop and count
instead of blocking ingest.

An optional :class:`BatchObserver` hears of every batch (its size, how long each item waited in
the queue, how long the call ran, how many items failed) and of every refused item; the
``/metrics`` histograms are one (:class:`moderation.pipeline.batch_metrics.BatcherMetrics`). The
batcher itself knows nothing of Prometheus, so it stays a plain asyncio building block.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")

BatchFn = Callable[[Sequence[In]], Awaitable[Sequence["Out | Exception"]]]


class BatchSizeMismatch(RuntimeError):
    """The batch function returned a different number of results than it was given inputs."""


class QueueFull(RuntimeError):
    """The batcher's bounded input queue has no room; the caller should drop and count."""


class BatchObserver(Protocol):
    """Told what each batch did; called on the batcher's event loop, so it must be quick."""

    def on_batch(self, size: int, waits_s: Sequence[float], run_s: float, failed: int) -> None:
        """A batch of ``size`` items ran for ``run_s``; ``waits_s``: each item's time in the queue."""

    def on_reject(self) -> None:
        """An item was refused because the queue was full."""


@dataclass
class BatcherStats:
    batches: int = 0
    items: int = 0
    failed_items: int = 0
    rejected: int = 0
    max_batch_seen: int = 0

    @property
    def mean_batch(self) -> float:
        return self.items / self.batches if self.batches else 0.0


class DynamicBatcher(Generic[In, Out]):
    """Collect items from many callers into batches for one batched function."""

    def __init__(
        self,
        fn: Callable[[Sequence[In]], Awaitable[Sequence[Out | Exception]]],
        max_batch: int = 32,
        max_wait_ms: float = 10.0,
        max_queue: int = 1024,
        observer: BatchObserver | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {max_wait_ms}")
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000.0
        self.stats = BatcherStats()
        self.observer = observer
        # each entry: (item, its caller's future, monotonic time it was queued)
        self._queue: asyncio.Queue[tuple[In, asyncio.Future[Out], float]] = asyncio.Queue(max_queue)
        self._task: asyncio.Task[None] | None = None

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def submit(self, item: In) -> Out:
        """Submit one item and wait for its result; waits for queue room (backpressure)."""
        self._ensure_running()
        fut: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, fut, time.monotonic()))
        return await fut

    def try_submit(self, item: In) -> asyncio.Future[Out]:
        """Submit without waiting for room; raises :class:`QueueFull` when the queue is full."""
        self._ensure_running()
        fut: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((item, fut, time.monotonic()))
        except asyncio.QueueFull:
            self.stats.rejected += 1
            if self.observer is not None:
                with contextlib.suppress(Exception):  # a metrics fault must not change the refusal
                    self.observer.on_reject()
            raise QueueFull(f"batcher queue full ({self._queue.maxsize} pending)") from None
        return fut

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def _collect(self) -> list[tuple[In, asyncio.Future[Out], float]]:
        batch = [await self._queue.get()]
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _loop(self) -> None:
        while True:
            batch = await self._collect()
            live = [entry for entry in batch if not entry[1].cancelled()]
            if live:
                await self._run(live)

    async def _run(self, entries: list[tuple[In, asyncio.Future[Out], float]]) -> None:
        started = time.monotonic()
        failed_before = self.stats.failed_items
        try:
            await self._call([(item, fut) for item, fut, _ in entries])
        finally:
            if self.observer is not None:
                waits = [started - queued for _, _, queued in entries]
                failed = self.stats.failed_items - failed_before
                try:
                    self.observer.on_batch(len(entries), waits, time.monotonic() - started, failed)
                except Exception:  # a metrics fault must never stop the batches
                    log.exception("batch observer failed")

    async def _call(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        items = [item for item, _ in batch]
        self.stats.batches += 1
        self.stats.items += len(items)
        self.stats.max_batch_seen = max(self.stats.max_batch_seen, len(items))
        try:
            results = await self.fn(items)
            if len(results) != len(items):
                raise BatchSizeMismatch(f"batch function returned {len(results)} results for {len(items)} inputs")
        except Exception as exc:  # the whole batch failed: every caller learns why
            self.stats.failed_items += len(batch)
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), res in zip(batch, results, strict=True):
            if fut.done():
                continue
            if isinstance(res, Exception):
                self.stats.failed_items += 1
                fut.set_exception(res)
            else:
                fut.set_result(res)

    async def close(self) -> None:
        """Stop the loop; pending callers get ``CancelledError``."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            _, fut, _ = self._queue.get_nowait()
            fut.cancel()


def in_thread(
    fn: Callable[[Sequence[In]], Sequence[Out | Exception]], executor: Executor | None = None
) -> BatchFn[In, Out]:
    """Adapt a blocking batch function (an ONNX or CTranslate2 call) so the event loop keeps
    accepting submissions while it runs; ``executor`` (default: the loop's) is where it runs."""

    async def run(items: Sequence[In]) -> Sequence[Out | Exception]:
        return await asyncio.get_running_loop().run_in_executor(executor, fn, items)

    return run
