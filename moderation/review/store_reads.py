"""Reads and side records of the review store that are not queue transitions: the audit log,
streamer risk, the QA second review, and the transcript/chat context of an item.

Split from ``store.py`` (a mixin of ``ReviewStore``) so that module holds the queue's writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from moderation.review import item_view, qa, risk, schema
from moderation.review.queue_types import MAX_ID, no_nul
from moderation.review.records import AuditEntry, Item

I = schema.items  # noqa: E741 - same alias as in store.py


class StoreReads:
    """Needs ``engine``, ``clock`` and ``_audit`` from ``ReviewStore``."""

    engine: sa.Engine
    clock: Callable[[], float]
    _audit: Callable[..., None]

    def audit_log(self, item_id: int | None = None, limit: int = 200, actor: str | None = None) -> list[AuditEntry]:
        """Newest first."""
        no_nul(actor=actor)
        if item_id is not None and not 1 <= item_id <= MAX_ID:
            return []
        a = schema.audit
        q = sa.select(a).order_by(a.c.at.desc(), a.c.id.desc()).limit(limit)
        if item_id is not None:
            q = q.where(a.c.item_id == item_id)
        if actor is not None:
            q = q.where(a.c.actor == actor)
        with self.engine.connect() as conn:
            return [AuditEntry(**r._mapping) for r in conn.execute(q)]

    def streamer_risk(self, streamer: str) -> risk.StreamerRisk:
        with self.engine.connect() as conn:
            return risk.get_risk(conn, streamer)

    def streamer_risks(self) -> list[risk.StreamerRisk]:
        with self.engine.connect() as conn:
            return risk.list_risk(conn)

    # -- second review (QA) and context ------------------------------------------------------

    def qa_entry(self, item_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return qa.get(conn, item_id)

    def qa_review(self, item_id: int, user: str, action: str, category: str | None = None) -> dict[str, Any]:
        """Record a second reviewer's decision on a sampled item (the item itself is unchanged)."""
        no_nul(category=category)
        now = self.clock()
        with self.engine.begin() as conn:
            row = qa.second(conn, item_id, user, action, category, now)
            self._audit(conn, user, "qa", item_id, {"action": action, "agrees": qa.agrees(row)}, now)
        return row

    def qa_stats(self) -> qa.QaStats:
        with self.engine.connect() as conn:
            return qa.stats(conn)

    def context(self, item: Item, radius_s: float = 30.0) -> list[item_view.ContextLine]:
        """Transcript and chat lines of the same stream within ``radius_s`` of the item."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(I.c.id, I.c.record)
                .where(I.c.stream == item.stream, I.c.t_start <= item.t_end + radius_s)
                .where(I.c.t_end >= item.t_start - radius_s)
                .order_by(I.c.t_start)
                .limit(200)
            ).all()
        return item_view.context_lines(item, [(r.id, r.record) for r in rows], radius_s)
