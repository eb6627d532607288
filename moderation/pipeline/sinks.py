"""Where a live verdict goes: a JSONL report, the review queue, or a callback.

The review queue's sink is :class:`moderation.review.sink.ReviewSink`: the host only knows the
:class:`VerdictSink` protocol and never imports the store.

Unlike the offline report (:mod:`moderation.report`, written atomically at the end), a live report
is appended and flushed line by line: a watched stream has no end to wait for, and a reader
tailing the file should see each verdict as soon as it is decided. The review queue upsert is
idempotent by (stream, category, window), so a verdict re-sent after a restart never duplicates.
Sinks are blocking; the pipeline calls them from a worker thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from moderation.messages import Verdict


class VerdictSink(Protocol):
    """Where verdicts go. A sink that also wants *provisional* records (a live violation still
    going on, ``Verdict.provisional``; its final verdict follows with the same ``violation_id``)
    sets a ``takes_provisional = True`` attribute; the others never see them."""

    def write(self, verdict: Verdict) -> None: ...

    def close(self) -> None: ...


def takes_provisional(sink: VerdictSink) -> bool:
    """Whether ``sink`` wants provisional records. Off unless a sink opts in: a JSONL report or a
    printing callback would show one violation twice, and only a store that updates an item in
    place by ``violation_id`` (the review queue) can turn the provisional into the final record."""
    return getattr(sink, "takes_provisional", False) is True


class JsonlSink:
    """Append one DESIGN.md §4.2 record per line; several pipelines may share one instance."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.count = 0

    def write(self, verdict: Verdict) -> None:
        line = json.dumps(verdict.to_record(), ensure_ascii=False) + "\n"
        with self._lock:
            self._fh.write(line)
            self._fh.flush()
            self.count += 1

    def close(self) -> None:
        with self._lock:
            self._fh.close()


class CallbackSink:
    """Call ``fn(verdict)`` (printing in ``moderation watch``, collecting in tests)."""

    def __init__(self, fn: Callable[[Verdict], None]) -> None:
        self.fn = fn

    def write(self, verdict: Verdict) -> None:
        self.fn(verdict)

    def close(self) -> None:
        pass
