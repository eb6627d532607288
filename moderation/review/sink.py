"""The review queue as a verdict sink of the pipeline host (:class:`moderation.pipeline.sinks.VerdictSink`).

The upsert is idempotent by (stream, category, window), so a verdict re-sent after a restart never
duplicates. It takes provisional records: a live violation appears (marked live) at its alert, and
its final verdict, with the same ``violation_id``, updates that item in place. Blocking; the
pipeline calls it from a worker thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

from moderation.messages import Verdict
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore


class ReviewSink:
    """Upsert into the review queue (SQLite or PostgreSQL URL); evidence files are copied in."""

    #: The store keys a record with a ``violation_id`` by it, so the final record replaces the live one.
    takes_provisional = True

    def __init__(self, queue_url: str, bases: tuple[Path, ...] = ()) -> None:
        self.store = ReviewStore.open(ReviewSettings(queue_url=queue_url))
        self.bases = bases
        self._lock = threading.Lock()

    def write(self, verdict: Verdict) -> None:
        with self._lock:  # SQLite: one writer at a time from this process
            self.store.upsert_verdict(verdict.to_record(), bases=list(self.bases), actor="live")

    def close(self) -> None:
        self.store.engine.dispose()
