"""Failures a live stream survived: counted, each distinct one logged once.

A live stream runs for hours on untrusted input (chat lines, corrupt media) through several
per-stream tasks (ingest thread, frame and audio tasks, chat thread, the tick, verdict writers).
One bad item must cost that item only: every task catches what one item raises, records it here
and goes on. Logging each occurrence would flood the log when a fault repeats per frame, and
logging none would hide it, so each distinct failure (task, exception type, where it was raised)
is logged once with its traceback and the rest are only counted. A task that dies anyway (a
fault outside any item) is restarted by the pipeline and recorded as :attr:`TaskFailures.failure`,
which the stream's status shows, so a stream never goes on silently without a stage.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["TaskFailures", "supervise"]

log = logging.getLogger(__name__)

_MAX_KEYS = 64  # distinct failures remembered (logged) per stream; beyond, only counted


def _key(task: str, exc: BaseException) -> tuple[str, str, str]:
    tb = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ is not None else None
    where = f"{tb[-1].filename}:{tb[-1].lineno}" if tb else str(exc)[:200]
    return task, type(exc).__name__, where


class TaskFailures:
    """Per-stream record of isolated failures; thread-safe (the ingest and chat threads use it too)."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.errors = 0  # items that raised and were skipped
        self.restarts = 0  # tasks that died and were restarted
        self.failure: str | None = None  # the latest task death, for the stream's status
        self._seen: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    def _first(self, key: tuple[str, str, str]) -> bool:
        if key in self._seen or len(self._seen) >= _MAX_KEYS:
            return False
        self._seen.add(key)
        return True

    def item(self, task: str, exc: BaseException) -> None:
        """One item of ``task`` raised ``exc`` and was skipped; the task goes on."""
        with self._lock:
            self.errors += 1
            first = self._first(_key(task, exc))
        if first:
            log.error(
                "%s: %s task: an item failed and was skipped (%s: %s); later failures like it are only counted",
                self.stream,
                task,
                type(exc).__name__,
                exc,
                exc_info=exc,
            )

    def died(self, task: str, exc: BaseException) -> None:
        """``task`` ended with ``exc``; the caller restarts it."""
        with self._lock:
            self.restarts += 1
            self.failure = f"{task} task died ({type(exc).__name__}: {str(exc)[:200]}) and was restarted"
            first = self._first(_key(f"{task} (died)", exc))
        if first:
            log.error("%s: %s", self.stream, self.failure, exc_info=exc)
        else:
            log.error("%s: %s", self.stream, self.failure)


async def supervise(
    name: str,
    body: Callable[[], Coroutine[Any, Any, None]],
    failures: TaskFailures,
    pending: Callable[[], bool],
    max_backoff_s: float = 5.0,
) -> None:
    """Run the per-stream task ``body()``; if it dies, record it in ``failures`` and start it again
    (with backoff, so a fault that repeats at once does not spin) while ``pending()`` says more
    input may come. Cancelling still cancels: :class:`asyncio.CancelledError` is not caught."""
    deaths = 0
    while True:
        try:
            await body()
            return
        except Exception as exc:
            deaths += 1
            failures.died(name, exc)
        if not pending():
            return
        await asyncio.sleep(min(max_backoff_s, 0.1 * 2 ** (deaths - 1)))
