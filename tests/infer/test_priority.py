"""Lower-priority executor threads for Whisper on CPU (Linux niceness is per thread, inherited)."""

from __future__ import annotations

import sys
import threading

import pytest

from moderation.infer.priority import background_executor, thread_niceness

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="per-thread niceness is Linux-only")


@linux_only
def test_executor_thread_and_the_threads_it_starts_are_niced() -> None:
    base = thread_niceness()
    assert base is not None
    ex = background_executor(5, "test-nice")
    assert ex is not None

    def inside() -> tuple[int | None, int | None]:
        child: list[int | None] = []
        t = threading.Thread(target=lambda: child.append(thread_niceness()))  # like CTranslate2's workers
        t.start()
        t.join()
        return thread_niceness(), child[0]

    try:
        own, child = ex.submit(inside).result(timeout=10)
    finally:
        ex.shutdown()
    assert own == min(19, base + 5) and child == own
    assert thread_niceness() == base  # the caller is untouched


def test_no_executor_without_niceness() -> None:
    assert background_executor(0, "x") is None
