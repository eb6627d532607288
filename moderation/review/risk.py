"""Streamer risk rows of the review store (POLICY.md: 分类分级管理, 信用评价体系).

The rules — how one decision moves a streamer's points and tier, how points decay, what a tier
buys, that decisions on viewer verdicts leave the streamer's risk alone — are the one risk model,
:mod:`moderation.policy.risk` (configured by ``policy.risk``). This module keeps one row per
streamer in ``streamer_risk``, applies those rules inside each decision's transaction, writes
decayed tiers back (:func:`refresh_decay`) and stamps ``changed_at`` whenever the tier the pool
applies changes, so the pool can poll one index for changes.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import sqlalchemy as sa

from moderation.policy.risk import (
    MAX_TIER,
    RiskModel,
    StreamerRisk,
    counts_against_streamer,
    next_risk,
    sampling_multiplier,
)
from moderation.review import schema

__all__ = [
    "MAX_TIER",
    "StreamerRisk",
    "apply_decision",
    "counts_against_streamer",
    "ensure_row",
    "get_risk",
    "list_risk",
    "next_risk",
    "refresh_decay",
    "sampling_multiplier",
]

R = schema.streamer_risk
_FIELDS = tuple(f.name for f in fields(StreamerRisk))


def row_risk(row: Any) -> StreamerRisk:
    """A ``streamer_risk`` row as the model's :class:`StreamerRisk`."""
    return StreamerRisk(**{k: row._mapping[k] for k in _FIELDS})


def get_risk(conn: sa.Connection, streamer: str) -> StreamerRisk:
    """Current risk row of a streamer as stored (the defaults when never decided on)."""
    row = conn.execute(sa.select(R).where(R.c.streamer == streamer)).first()
    return row_risk(row) if row else StreamerRisk(streamer)


def ensure_row(conn: sa.Connection, insert: Any, streamer: str, now: float) -> StreamerRisk:
    """The streamer's row, created if missing (``ON CONFLICT DO NOTHING``) and locked (``SELECT ...
    FOR UPDATE`` on PostgreSQL; SQLite already holds the write lock here) so concurrent decisions
    never lose a count."""
    conn.execute(
        insert(R)
        .values(
            streamer=streamer,
            tier=0,
            confirmed=0,
            dismissed=0,
            escalated=0,
            fp_weight=1.0,
            updated_at=now,
            points=0.0,
            changed_at=now,
        )
        .on_conflict_do_nothing(index_elements=[R.c.streamer])
    )
    return row_risk(conn.execute(sa.select(R).where(R.c.streamer == streamer).with_for_update()).one())


def copy_tier_to_open_items(conn: sa.Connection, streamer: str, tier: int) -> None:
    """Open items carry their streamer's tier so the queue can filter and sort by it from an index."""
    I = schema.items  # noqa: E741
    conn.execute(sa.update(I).where(I.c.streamer == streamer, I.c.status == "open", I.c.tier != tier).values(tier=tier))


def apply_decision(
    conn: sa.Connection,
    insert: Any,
    streamer: str,
    action: str,
    severity: str,
    now: float,
    subject: str | None = "streamer",
    *,
    model: RiskModel | None = None,
    category: str | None = None,
) -> StreamerRisk:
    """Update ``streamer_risk`` inside the decision's transaction and return the new row.

    A decision on a viewer verdict (:func:`counts_against_streamer`) changes nothing and returns
    the streamer's current risk. ``insert`` is the dialect's ``insert`` (``db.insert_for``).
    """
    if not counts_against_streamer(subject):
        return get_risk(conn, streamer)
    m = model or RiskModel()
    cur = ensure_row(conn, insert, streamer, now)
    new = m.next_risk(cur, action, severity, now, category=category)
    changed = new.effective_tier != cur.effective_tier
    new = replace(new, changed_at=now if changed else cur.changed_at)
    values = {
        k: getattr(new, k)
        for k in ("tier", "confirmed", "dismissed", "escalated", "fp_weight", "updated_at", "points", "changed_at")
    }
    conn.execute(sa.update(R).where(R.c.streamer == streamer).values(**values))
    return new


def refresh_decay(conn: sa.Connection, model: RiskModel, now: float) -> list[str]:
    """Write back the tiers that decay has lowered by ``now``; return those streamers.

    Only rows above tier 0 can fall, so this reads few rows. The ``UPDATE`` restates the tier it
    read, so several pollers running it at once change each row once.
    """
    if model.cfg.half_life_days is None:
        return []
    fallen: list[str] = []
    for row in conn.execute(sa.select(R).where(R.c.tier > 0)).all():
        cur = row_risk(row)
        new = model.current(cur, now)
        if new.tier >= cur.tier:
            continue
        res = conn.execute(
            sa.update(R)
            .where(R.c.streamer == cur.streamer, R.c.tier == cur.tier, R.c.updated_at == cur.updated_at)
            .values(
                tier=new.tier,
                points=new.points,
                updated_at=new.updated_at,
                changed_at=now if cur.override_tier is None else cur.changed_at,
            )
        )
        if res.rowcount == 1:
            fallen.append(cur.streamer)
            if cur.override_tier is None:
                copy_tier_to_open_items(conn, cur.streamer, new.tier)
    return fallen


def list_risk(conn: sa.Connection, limit: int = 500) -> list[StreamerRisk]:
    """Streamers by tier (highest first), then by most recent change."""
    rows = conn.execute(
        sa.select(R)
        .order_by(sa.func.coalesce(R.c.override_tier, R.c.tier).desc(), R.c.changed_at.desc(), R.c.streamer)
        .limit(limit)
    )
    return [row_risk(r) for r in rows]
