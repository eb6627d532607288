"""Streamer risk tiers fed by review decisions (POLICY.md: 分类分级管理, 信用评价体系).

Deliberately simple and monotone so a reviewer can predict it:

* ``tier`` starts at 0. Each **confirmed** violation raises it by one, up to ``MAX_TIER``; a
  confirmed ``high``/``critical`` verdict raises it by two. Tiers never drop automatically —
  lowering a tier is an admin decision outside this module.
* ``fp_weight`` (1.0 = trust the detectors fully) is how much a streamer's automatic flags are
  believed. Each **dismissed** (false-positive) verdict multiplies it by ``FP_DECAY`` down to
  ``FP_FLOOR``; a confirmation restores one step (divides by ``FP_DECAY``, capped at 1.0).
* **escalations** are counted only.
* Decisions on **viewer** verdicts (a viewer's chat, ``subject.kind == "viewer"``) never change
  the streamer's risk: the streamer is not answerable for what their audience writes.

The pipeline reads ``sampling_multiplier(tier)`` to give riskier streams denser sampling
(DESIGN.md §2: "riskier streams get more GPU").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from moderation.review import schema

MAX_TIER = 3
FP_DECAY = 0.9
FP_FLOOR = 0.5
_SAMPLING = (1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class StreamerRisk:
    streamer: str
    tier: int = 0
    confirmed: int = 0
    dismissed: int = 0
    escalated: int = 0
    fp_weight: float = 1.0
    updated_at: float = 0.0


def sampling_multiplier(tier: int) -> float:
    """Frame/audio sampling-rate multiplier for a stream of this tier."""
    return _SAMPLING[max(0, min(MAX_TIER, tier))]


def next_risk(cur: StreamerRisk, action: str, severity: str, now: float) -> StreamerRisk:
    """Pure rule: the risk after one decision (see module docstring)."""
    tier, fp = cur.tier, cur.fp_weight
    confirmed, dismissed, escalated = cur.confirmed, cur.dismissed, cur.escalated
    if action == "confirm":
        tier = min(MAX_TIER, tier + (2 if severity in ("high", "critical") else 1))
        fp = min(1.0, fp / FP_DECAY)
        confirmed += 1
    elif action == "dismiss":
        fp = max(FP_FLOOR, fp * FP_DECAY)
        dismissed += 1
    elif action == "escalate":
        escalated += 1
    return StreamerRisk(cur.streamer, tier, confirmed, dismissed, escalated, round(fp, 6), now)


def get_risk(conn: sa.Connection, streamer: str) -> StreamerRisk:
    """Current risk of a streamer (the defaults when never decided on)."""
    row = conn.execute(sa.select(schema.streamer_risk).where(schema.streamer_risk.c.streamer == streamer)).first()
    return StreamerRisk(**row._mapping) if row else StreamerRisk(streamer)


def counts_against_streamer(subject: str | None) -> bool:
    """Whether a decision on a verdict about ``subject`` (its kind) changes the streamer's risk."""
    return subject != "viewer"


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
