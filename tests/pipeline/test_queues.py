"""DropOldestQueue: bounded, drops the oldest, counts, never blocks the producer thread."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from moderation.pipeline.queues import DropOldestQueue


def test_drops_oldest_and_counts() -> None:
    q: DropOldestQueue[int] = DropOldestQueue(3)
    dropped = [q.put(i) for i in range(5)]
    assert dropped == [None, None, None, 0, 1]
    assert q.dropped == 2 and q.put_count == 5 and len(q) == 3
    assert q.drain(10) == [2, 3, 4]


def test_producer_thread_never_blocks_and_memory_is_bounded() -> None:
    q: DropOldestQueue[bytes] = DropOldestQueue(4)

    def produce() -> None:
        for _ in range(10_000):
            q.put(b"x" * 100)

    t0 = time.monotonic()
    th = threading.Thread(target=produce)
    th.start()
    th.join(5)
    assert not th.is_alive() and time.monotonic() - t0 < 2
    assert len(q) == 4 and q.dropped == 10_000 - 4


def test_async_consumer_is_woken_from_a_thread_and_sees_close() -> None:
    async def go() -> list[list[int]]:
        q: DropOldestQueue[int] = DropOldestQueue(10)
        q.bind(asyncio.get_running_loop())

        def produce() -> None:
            for i in range(3):
                time.sleep(0.05)
                q.put(i)
            q.close()

        threading.Thread(target=produce).start()
        batches = []
        while batch := await asyncio.wait_for(q.get_batch(2), 2):
            batches.append(batch)
        return batches

    assert [x for b in asyncio.run(go()) for x in b] == [0, 1, 2]


def test_get_batch_timeout_and_bad_size() -> None:
    async def go() -> list[int]:
        return await DropOldestQueue[int](2).get_batch(1, timeout=0.05)

    assert asyncio.run(go()) == []
    with pytest.raises(ValueError):
        DropOldestQueue(0)
