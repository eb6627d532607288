"""The batching algorithm, tested as plain asyncio: no Ray, no models."""

import asyncio
from collections.abc import Sequence

import pytest

from moderation.infer.batcher import BatchSizeMismatch, DynamicBatcher, QueueFull, in_thread


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_concurrent_callers_share_batches_and_get_their_own_results() -> None:
    calls: list[int] = []

    async def double(items: Sequence[int]) -> list[int]:
        calls.append(len(items))
        await asyncio.sleep(0.01)
        return [2 * i for i in items]

    async def main() -> list[int]:
        b = DynamicBatcher(double, max_batch=8, max_wait_ms=50)
        out = await asyncio.gather(*(b.submit(i) for i in range(20)))
        await b.close()
        return list(out)

    assert run(main()) == [2 * i for i in range(20)]
    assert max(calls) == 8 and sum(calls) == 20 and len(calls) == 3


def test_max_wait_bounds_latency_of_a_lone_item() -> None:
    async def ident(items: Sequence[int]) -> list[int]:
        return list(items)

    async def main() -> float:
        b = DynamicBatcher(ident, max_batch=64, max_wait_ms=20)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        assert await b.submit(7) == 7
        dt = loop.time() - t0
        await b.close()
        return dt

    assert run(main()) < 1.0  # returns after ~max_wait, not waiting for a full batch


def test_one_bad_item_fails_only_itself() -> None:
    async def f(items: Sequence[int]) -> list[int | Exception]:
        return [ValueError(f"bad {i}") if i == 3 else i for i in items]

    async def main() -> list[object]:
        b = DynamicBatcher(f, max_batch=8, max_wait_ms=20)
        res = await asyncio.gather(*(b.submit(i) for i in range(6)), return_exceptions=True)
        assert b.stats.failed_items == 1
        await b.close()
        return list(res)

    res = run(main())
    assert [r for i, r in enumerate(res) if i != 3] == [0, 1, 2, 4, 5]
    assert isinstance(res[3], ValueError) and "bad 3" in str(res[3])


def test_result_count_mismatch_fails_the_batch_clearly() -> None:
    async def short(items: Sequence[int]) -> list[int]:
        return list(items)[:-1]

    async def main() -> list[object]:
        b = DynamicBatcher(short, max_batch=4, max_wait_ms=20)
        res = await asyncio.gather(*(b.submit(i) for i in range(4)), return_exceptions=True)
        await b.close()
        return list(res)

    res = run(main())
    assert all(isinstance(r, BatchSizeMismatch) for r in res)
    assert "3 results for 4 inputs" in str(res[0])


def test_raising_batch_fn_fails_every_caller_and_loop_survives() -> None:
    n = {"calls": 0}

    async def flaky(items: Sequence[int]) -> list[int]:
        n["calls"] += 1
        if n["calls"] == 1:
            raise RuntimeError("device lost")
        return list(items)

    async def main() -> None:
        b = DynamicBatcher(flaky, max_batch=4, max_wait_ms=5)
        with pytest.raises(RuntimeError, match="device lost"):
            await b.submit(1)
        assert await b.submit(2) == 2  # next batch works
        await b.close()

    run(main())


def test_bounded_queue_rejects_instead_of_growing() -> None:
    gate = asyncio.Event()

    async def slow(items: Sequence[int]) -> list[int]:
        await gate.wait()
        return list(items)

    async def main() -> None:
        b = DynamicBatcher(slow, max_batch=1, max_wait_ms=0, max_queue=2)
        first = b.try_submit(0)
        await asyncio.sleep(0.01)  # the loop takes item 0 and blocks in slow()
        b.try_submit(1)
        b.try_submit(2)
        with pytest.raises(QueueFull):
            b.try_submit(3)
        assert b.stats.rejected == 1
        gate.set()
        assert await first == 0
        await b.close()

    run(main())


def test_blocking_function_in_thread() -> None:
    def blocking(items: Sequence[int]) -> list[int]:
        return [i + 1 for i in items]

    async def main() -> list[int]:
        b = DynamicBatcher(in_thread(blocking), max_batch=4, max_wait_ms=5)
        out = await asyncio.gather(*(b.submit(i) for i in range(5)))
        await b.close()
        return list(out)

    assert run(main()) == [1, 2, 3, 4, 5]


def test_invalid_parameters() -> None:
    async def f(items: Sequence[int]) -> list[int]:
        return list(items)

    with pytest.raises(ValueError, match="max_batch"):
        DynamicBatcher(f, max_batch=0)
