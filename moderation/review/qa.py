"""Second review (QA): a reproducible share of decisions is decided again by another reviewer.

Which decisions are sampled is a hash of the item id against ``ReviewSettings.qa_sample_rate``,
so the first reviewer cannot steer it and a re-run picks the same items. The second reviewer's
decision is recorded beside the first one (it never changes the item's decision); agreement is
the share of second reviews whose action, and for confirmations the category, match the first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from moderation.review import schema
from moderation.review.queue_types import Conflict, Invalid, NotFound

Q = schema.qa
QA_ACTIONS = ("confirm", "dismiss", "escalate")


def sampled(item_id: int, rate: float) -> bool:
    """Whether the decision on ``item_id`` goes to QA at this sampling ``rate`` (0..1)."""
    if rate <= 0:
        return False
    h = int.from_bytes(hashlib.sha256(f"qa:{item_id}".encode()).digest()[:8], "big")
    return h / 2**64 < rate


def record_first(conn: sa.Connection, item_id: int, action: str, category: str | None, user: str, now: float) -> None:
    conn.execute(
        sa.insert(Q).values(item_id=item_id, first_action=action, first_category=category, first_by=user, first_at=now)
    )


def get(conn: sa.Connection, item_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(Q).where(Q.c.item_id == item_id)).first()
    return dict(row._mapping) if row else None


def second(
    conn: sa.Connection, item_id: int, user: str, action: str, category: str | None, now: float
) -> dict[str, Any]:
    """Record the second review; the first reviewer may not review their own decision."""
    if action not in QA_ACTIONS:
        raise Invalid(f"unknown QA decision {action!r}; use one of {', '.join(QA_ACTIONS)}")
    row = get(conn, item_id)
    if row is None:
        raise NotFound(f"item {item_id} is not in the QA sample")
    if row["first_by"] == user:
        raise Conflict(f"item {item_id} was decided by you; QA needs another reviewer")
    if row["second_at"] is not None:
        raise Conflict(f"item {item_id} was already QA-reviewed by {row['second_by']}")
    res = conn.execute(
        sa.update(Q)
        .where(Q.c.item_id == item_id, Q.c.second_at.is_(None))
        .values(second_action=action, second_category=category, second_by=user, second_at=now)
    )
    if res.rowcount != 1:
        raise Conflict(f"item {item_id} was QA-reviewed meanwhile; reload it")
    got = get(conn, item_id)
    assert got is not None
    return got


def agrees(row: dict[str, Any]) -> bool:
    if row["first_action"] != row["second_action"]:
        return False
    return (
        row["first_action"] != "confirm" or (row["second_category"] or row["first_category"]) == row["first_category"]
    )


@dataclass
class QaStats:
    """Agreement of the QA sample, overall and per first reviewer."""

    sampled: int = 0
    reviewed: int = 0
    agreed: int = 0
    by_reviewer: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (reviewed, agreed)
    pending: list[dict[str, Any]] = field(default_factory=list)

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.reviewed if self.reviewed else None


def stats(conn: sa.Connection, pending_limit: int = 200) -> QaStats:
    out = QaStats()
    out.sampled = int(conn.execute(sa.select(sa.func.count()).select_from(Q)).scalar_one())
    for r in conn.execute(sa.select(Q).where(Q.c.second_at.is_not(None))):
        row = dict(r._mapping)
        ok = agrees(row)
        out.reviewed += 1
        out.agreed += ok
        n, a = out.by_reviewer.get(row["first_by"], (0, 0))
        out.by_reviewer[row["first_by"]] = (n + 1, a + ok)
    q = sa.select(Q).where(Q.c.second_at.is_(None)).order_by(Q.c.first_at).limit(pending_limit)
    out.pending = [dict(r._mapping) for r in conn.execute(q)]
    return out
