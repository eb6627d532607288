"""Bounded drop-oldest queue between a stream's ingest thread and its inference tasks.

Why drop-oldest (DESIGN.md §7): when inference lags, a live stream must neither block its
demuxer (the origin would drop *us*, and the evidence ring would stop filling) nor buffer without
bound. The newest frames are the ones worth looking at, so the oldest pending item is thrown away
and counted. ``put`` never blocks and is safe from any thread; the consumer side is asyncio
(``await get_batch``), woken through ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """``put`` from a thread (never blocks), ``await get_batch`` from one event loop."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._closed = False
        #: Items accepted by ``put`` (including ones later dropped).
        self.put_count = 0
        #: Items thrown away because the queue was full.
        self.dropped = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach the consumer's event loop (done by the first ``get_batch``; call earlier if a
        producer may put before the consumer starts waiting)."""
        if self._loop is None:
            self._loop = loop
            self._event = asyncio.Event()
            if self._items or self._closed:
                self._event.set()

    def _wake(self) -> None:
        loop, event = self._loop, self._event
        if loop is None or event is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop closed between the check and the call
            loop.call_soon_threadsafe(event.set)

    def put(self, item: T) -> T | None:
        """Add ``item``; if full, drop the oldest pending item and return it (else None)."""
        dropped: T | None = None
        with self._lock:
            if self._closed:
                return item
            if len(self._items) >= self.maxsize:
                dropped = self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self.put_count += 1
        self._wake()
        return dropped

    def close(self) -> None:
        """No more items will come; a waiting consumer gets what is left, then ``[]``."""
        with self._lock:
            self._closed = True
        self._wake()

    def drain(self, max_items: int) -> list[T]:
        """Up to ``max_items`` oldest items, without waiting."""
        with self._lock:
            n = min(max_items, len(self._items))
            return [self._items.popleft() for _ in range(n)]

    async def get_batch(self, max_items: int, timeout: float | None = None) -> list[T]:
        """Wait until something is queued (or closed, or ``timeout``), then take up to ``max_items``.

        Returns ``[]`` only when the queue is closed and empty, or on timeout.
        """
        self.bind(asyncio.get_running_loop())
        assert self._event is not None
        while True:
            self._event.clear()
            items = self.drain(max_items)
            if items or self._closed:
                if items and len(self) > 0:
                    self._event.set()
                return items
            try:
                await asyncio.wait_for(self._event.wait(), timeout)
            except TimeoutError:
                return self.drain(max_items)
