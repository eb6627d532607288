"""The penalty of a confirmation (``policy.penalties``), applied inside the decision's transaction.

A reviewer confirming an item chooses one of the penalties the policy allows for its category and
severity (the policy's default when none is given). What each one leaves in the store, in the same
transaction as the decision and its audit line:

* ``none`` — nothing but the record of it on the item;
* ``warn`` / ``cut`` — a queued row in ``review_actions`` that the pool carries out at the origin
  (``GovernanceSource.pending_actions`` / ``finish_action``);
* ``ban`` / ``permanent_ban`` — a row in ``review_bans`` (the pool refuses the streamer's publish
  while it is active) and a queued ``cut`` of the running stream.

Bans and tier changes stamp the streamer's ``streamer_risk.changed_at``, which is what the pool
polls (``changed_since``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from moderation.config.penalties import PenaltyConfig
from moderation.review import risk, schema
from moderation.review.queue_types import Invalid
from moderation.review.records import Item

I = schema.items  # noqa: E741 - same alias as in store.py
B = schema.bans
A = schema.actions
DAY = 86400.0


def resolve(
    cfg: PenaltyConfig,
    category: str,
    severity: str,
    subject: str | None,
    penalty: str | None,
    ban_days: float | None,
) -> tuple[str, float | None]:
    """The penalty to apply and a ban's length in days; ``Invalid`` naming the allowed ones."""
    choice = cfg.choice(category, severity, subject)
    chosen = penalty or choice.default
    if chosen not in choice.allowed:
        who = " about a viewer" if subject == "viewer" else ""
        raise Invalid(
            f"penalty {chosen[:32]!r} is not allowed for a {severity} {category} item{who}; "
            f"allowed: {', '.join(choice.allowed)}"
        )
    if chosen != "ban":
        if ban_days is not None:
            raise Invalid(f"ban_days goes with the penalty 'ban' only, not {chosen!r}")
        return chosen, None
    days = choice.ban_days if ban_days is None else ban_days
    if not 0 < days <= choice.max_ban_days:
        raise Invalid(f"ban_days must be more than 0 and at most {choice.max_ban_days:g} for this item")
    return chosen, days


def touch(conn: sa.Connection, insert: Any, streamer: str, now: float) -> None:
    """Mark the streamer's standing as changed (the pool's ``changed_since`` sees it)."""
    risk.ensure_row(conn, insert, streamer, now)
    conn.execute(
        sa.update(schema.streamer_risk).where(schema.streamer_risk.c.streamer == streamer).values(changed_at=now)
    )


def add_ban(
    conn: sa.Connection,
    insert: Any,
    *,
    streamer: str,
    until: float | None,
    reason: str,
    by: str,
    now: float,
    item_id: int | None = None,
) -> int:
    """Insert a ban row and mark the streamer's standing changed; return the ban id."""
    ban_id = conn.execute(
        sa.insert(B)
        .values(streamer=streamer, until=until, reason=reason, banned_by=by, created_at=now, item_id=item_id)
        .returning(B.c.id)
    ).scalar_one()
    touch(conn, insert, streamer, now)
    return int(ban_id)


def queue_action(conn: sa.Connection, item: Item, action: str, reason: str, now: float) -> int:
    """A warn/cut for the pool to carry out on the item's stream."""
    return int(
        conn.execute(
            sa.insert(A)
            .values(
                item_id=item.id,
                stream=item.stream,
                streamer=item.streamer,
                action=action,
                reason=reason,
                status="queued",
                attempts=0,
                created_at=now,
            )
            .returning(A.c.id)
        ).scalar_one()
    )


def apply(
    conn: sa.Connection,
    insert: Any,
    item: Item,
    *,
    penalty: str,
    ban_days: float | None,
    category: str,
    user: str,
    note: str | None,
    now: float,
) -> dict[str, Any]:
    """Write what ``penalty`` leaves in the store (see the module docstring); return audit detail."""
    reason = f"{category} ({item.severity}) confirmed on item {item.id}" + (f": {note}" if note else "")
    detail: dict[str, Any] = {"penalty": penalty}
    ban_id = None
    if penalty in ("ban", "permanent_ban"):
        until = None if penalty == "permanent_ban" else now + (ban_days or 0) * DAY
        ban_id = add_ban(
            conn, insert, streamer=item.streamer, until=until, reason=reason, by=user, now=now, item_id=item.id
        )
        detail.update(ban_id=ban_id, until=until)
        if ban_days is not None:
            detail["ban_days"] = ban_days
    action = {"warn": "warn", "cut": "cut", "ban": "cut", "permanent_ban": "cut"}.get(penalty)
    if action:
        detail["action_id"] = queue_action(conn, item, action, reason, now)
    conn.execute(sa.update(I).where(I.c.id == item.id).values(penalty=penalty, ban_id=ban_id, penalty_reverted_at=None))
    return detail
