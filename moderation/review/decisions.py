"""One decision on one item, inside the caller's transaction (split from ``store.py``).

A decision is a single conditional ``UPDATE`` on the item's revision (see ``store.py``), the
streamer-risk update, the tier copied onto the streamer's open items (so the queue can filter
and sort by tier from an index), a confirmation's penalty with the ban and actions it leads to
(``penalties.py``), the QA sample entry and the audit line, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from moderation.review import penalties, qa, risk, schema
from moderation.review.queue_types import MAX_ID, Conflict, Invalid, NotFound, no_nul
from moderation.review.records import Item

I = schema.items  # noqa: E741 - same alias as in store.py
ACTIONS = ("confirm", "dismiss", "escalate")
DECIDED = {"confirm": "confirmed", "dismiss": "dismissed", "escalate": "escalated"}
#: Dismissing an item of at least this severity rank needs a reason (``note``).
REASON_RANK = schema.SEVERITY_RANK["high"]


def check_sub_label(sub_labels: Mapping[str, Sequence[str]], category: str, sub_label: str | None) -> None:
    if sub_label is None:
        return
    allowed = sub_labels.get(category, ())
    if sub_label not in allowed:
        hint = f"use one of {', '.join(allowed)}" if allowed else "it has none configured"
        raise Invalid(f"unknown sub-label {sub_label[:64]!r} for category {category}; {hint}")


def decide_in(
    conn: sa.Connection,
    *,
    store: Any,
    item_id: int,
    user: str,
    action: str,
    category: str | None,
    note: str | None,
    admin: bool,
    sub_label: str | None = None,
    penalty: str | None = None,
    ban_days: float | None = None,
    bulk: bool = False,
) -> None:
    """Apply one decision; ``store`` supplies the clock, categories, sub-labels, QA rate and policy.

    A confirmation carries ``penalty`` (the policy's default for the item when None); other
    decisions carry none."""
    if action not in ACTIONS:
        raise Invalid(f"unknown decision {action!r}; use one of {', '.join(ACTIONS)}")
    if note is not None and len(note) > 2000:
        raise Invalid("note is longer than 2000 characters")
    if sub_label is not None and len(sub_label) > 64:
        raise Invalid("sub-label is longer than 64 characters")
    no_nul(note=note, category=category, sub_label=sub_label)
    if not 1 <= item_id <= MAX_ID:
        raise NotFound(f"item {item_id} does not exist")
    now = store.clock()
    row = conn.execute(sa.select(I).where(I.c.id == item_id)).first()
    if row is None:
        raise NotFound(f"item {item_id} does not exist")
    item = Item(**row._mapping)
    sources = ["open", "escalated"] if admin and action != "escalate" else ["open"]
    if item.status not in sources:
        raise Conflict(f"item {item_id} is already {item.status}")
    if item.claimed_by_other(user, now):
        raise Conflict(f"item {item_id} is being reviewed by {item.claimed_by}")
    if action == "confirm" and category and category != item.category and category not in store.categories:
        raise Invalid(
            f"unknown category {category[:64]!r}; confirm as the item's own ({item.category}) "
            f"or one of {', '.join(sorted(store.categories))}"
        )
    if action == "dismiss" and item.severity_rank >= REASON_RANK and not (note or "").strip():
        raise Invalid(f"item {item_id} is {item.severity}: dismissing it needs a reason (write it in the note)")
    decided_cat = (category or item.category) if action == "confirm" else None
    chosen: tuple[str, float | None] | None = None
    if action == "confirm":
        check_sub_label(store.sub_labels, decided_cat or item.category, sub_label)
        cfg = store.policy.penalties
        chosen = penalties.resolve(cfg, decided_cat or item.category, item.severity, item.subject, penalty, ban_days)
    elif penalty is not None or ban_days is not None:
        raise Invalid(f"a penalty goes with confirm only, not {action}")
    res = conn.execute(
        sa.update(I)
        .where(I.c.id == item_id, I.c.revision == item.revision)
        .values(
            status=DECIDED[action],
            decision_category=decided_cat,
            sub_label=sub_label if action == "confirm" else None,
            decided_by=user,
            decided_at=now,
            note=note,
            claimed_by=None,
            lease_until=None,
            revision=I.c.revision + 1,
        )
    )
    if res.rowcount != 1:
        raise Conflict(f"item {item_id} changed while deciding; reload it")
    new_risk = risk.apply_decision(
        conn,
        store._insert,
        item.streamer,
        action,
        item.severity,
        now,
        item.subject,
        model=store.risk_model,
        category=decided_cat,
    )
    if new_risk.effective_tier != item.tier:
        risk.copy_tier_to_open_items(conn, item.streamer, new_risk.effective_tier)
    detail: dict[str, Any] = {"from": item.status, "category": decided_cat, "tier": new_risk.effective_tier}
    if chosen is not None:
        detail |= penalties.apply(
            conn,
            store._insert,
            item,
            penalty=chosen[0],
            ban_days=chosen[1],
            category=decided_cat or item.category,
            user=user,
            note=note,
            now=now,
        )
    if sub_label and action == "confirm":
        detail["sub_label"] = sub_label
    if note:
        detail["note"] = note
    if bulk:
        detail["bulk"] = True
    if item.status == "open" and qa.sampled(item_id, store.qa_rate) and qa.get(conn, item_id) is None:
        qa.record_first(conn, item_id, action, decided_cat, user, now)
        detail["qa"] = True
    store._audit(conn, user, action, item_id, detail, now)
