"""Streamer risk rows of the review store (POLICY.md: 分类分级管理, 信用评价体系).

The rules — how one decision moves a streamer's tier and ``fp_weight``, what a tier buys, that
decisions on viewer verdicts leave the streamer's risk alone — are the one risk model,
:mod:`moderation.policy.risk` (configured by ``policy.risk``). This module keeps one row per
streamer in ``streamer_risk`` and applies those rules inside each decision's transaction.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from moderation.policy.risk import MAX_TIER, StreamerRisk, counts_against_streamer, next_risk, sampling_multiplier
from moderation.review import schema

__all__ = [
    "MAX_TIER",
    "StreamerRisk",
    "apply_decision",
    "counts_against_streamer",
    "get_risk",
    "list_risk",
    "next_risk",
    "sampling_multiplier",
]


def get_risk(conn: sa.Connection, streamer: str) -> StreamerRisk:
    """Current risk of a streamer (the defaults when never decided on)."""
    row = conn.execute(sa.select(schema.streamer_risk).where(schema.streamer_risk.c.streamer == streamer)).first()
    return StreamerRisk(**row._mapping) if row else StreamerRisk(streamer)


def apply_decision(
    conn: sa.Connection,
    insert: Any,
    streamer: str,
    action: str,
    severity: str,
    now: float,
    subject: str | None = "streamer",
) -> StreamerRisk:
    """Update ``streamer_risk`` inside the decision's transaction and return the new row.

    A decision on a viewer verdict (:func:`counts_against_streamer`) changes nothing and returns
    the streamer's current risk.

    ``insert`` is the dialect's ``insert`` (``db.insert_for``). The row is created if missing
    (``ON CONFLICT DO NOTHING``), then locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
    already holds the write lock here) so concurrent decisions never lose a count.
    """
    if not counts_against_streamer(subject):
        return get_risk(conn, streamer)
    t = schema.streamer_risk
    conn.execute(
        insert(t)
        .values(streamer=streamer, tier=0, confirmed=0, dismissed=0, escalated=0, fp_weight=1.0, updated_at=now)
        .on_conflict_do_nothing(index_elements=[t.c.streamer])
    )
    row = conn.execute(sa.select(t).where(t.c.streamer == streamer).with_for_update()).one()
    new = next_risk(StreamerRisk(**row._mapping), action, severity, now)
    values = {k: getattr(new, k) for k in ("tier", "confirmed", "dismissed", "escalated", "fp_weight", "updated_at")}
    conn.execute(sa.update(t).where(t.c.streamer == streamer).values(**values))
    return new


def list_risk(conn: sa.Connection, limit: int = 500) -> list[StreamerRisk]:
    """Streamers by tier (highest first), then by most recent decision."""
    t = schema.streamer_risk
    rows = conn.execute(sa.select(t).order_by(t.c.tier.desc(), t.c.updated_at.desc()).limit(limit))
    return [StreamerRisk(**r._mapping) for r in rows]
