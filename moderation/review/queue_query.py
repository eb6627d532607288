"""Queue pages: the sort orders a reviewer can pick and keyset ("after this row") pagination.

Every sort ends in ``id`` so the order is total, and each has an index starting with ``status``
(``schema.py``), so the first page and every following page read only the rows they show: a
keyset condition instead of ``OFFSET`` keeps page 1,000 as fast as page 1 on 100,000 items.
The cursor is the sort key of the last row shown, as URL-safe base64 JSON; a cursor that does
not decode, or does not fit the sort, is an ``Invalid`` naming the problem.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import sqlalchemy as sa

from moderation.review import schema
from moderation.review.queue_types import Filters, Invalid
from moderation.review.records import Item

I = schema.items  # noqa: E741 - same alias as in store.py

#: Sort name -> (column, descending) keys. ``severity`` is the default review order.
SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "severity": (("severity_rank", True), ("created_at", False), ("id", False)),
    "oldest": (("created_at", False), ("id", False)),
    "newest": (("created_at", True), ("id", True)),
    "tier": (("tier", True), ("severity_rank", True), ("created_at", False), ("id", False)),
    "score": (("score", True), ("id", False)),
}
DEFAULT_SORT = "severity"


def check_sort(sort: str | None) -> str:
    """The sort name, or ``Invalid`` listing the ones that exist."""
    name = sort or DEFAULT_SORT
    if name not in SORTS:
        raise Invalid(f"unknown sort {name[:40]!r}; use one of {', '.join(SORTS)}")
    return name


def order_by(sort: str) -> list[sa.ColumnElement[Any]]:
    return [I.c[col].desc() if desc else I.c[col].asc() for col, desc in SORTS[check_sort(sort)]]


def cursor_of(item: Item, sort: str) -> str:
    """The cursor that continues after ``item`` in ``sort`` order."""
    values = [getattr(item, col) for col, _ in SORTS[check_sort(sort)]]
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> list[Any]:
    keys = SORTS[sort]
    try:
        if len(cursor) > 400:
            raise ValueError
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("page cursor is not valid; go back to the first page") from None
    ok = isinstance(values, list) and len(values) == len(keys)
    if ok:
        for (col, _), v in zip(keys, values, strict=True):
            integral = col in ("id", "tier", "severity_rank")
            if isinstance(v, bool) or not isinstance(v, int if integral else int | float):
                ok = False
    if not ok:
        raise Invalid(f"page cursor does not fit sort {sort!r}; go back to the first page")
    return values


def after(cursor: str | None, sort: str) -> list[sa.ColumnElement[bool]]:
    """``WHERE`` terms selecting the rows after ``cursor`` (none for the first page).

    Expanded as ``k1 > v1 OR (k1 = v1 AND k2 > v2) OR ...`` (with ``<`` for descending keys),
    which both databases evaluate against the sort's index.
    """
    if not cursor:
        return []
    sort = check_sort(sort)
    values = _decode(cursor, sort)
    keys = SORTS[sort]
    ors: list[sa.ColumnElement[bool]] = []
    for i, (col, desc) in enumerate(keys):
        eqs = [I.c[c] == values[j] for j, (c, _) in enumerate(keys[:i])]
        beyond = I.c[col] < values[i] if desc else I.c[col] > values[i]
        ors.append(sa.and_(*eqs, beyond))
    return [sa.or_(*ors)]


#: Query parameters the queue page understands; anything else is refused with a message.
QUEUE_PARAMS = ("status", "category", "stream", "streamer", "severity", "subject", "tier", "age", "sort", "after")
PAGE_PARAMS = ("view", "msg")


def queue_filters(params: Any) -> Filters:
    """Filters from query parameters; an unknown parameter or value is a one-line ``Invalid``."""
    unknown = sorted(set(params) - set(QUEUE_PARAMS) - set(PAGE_PARAMS) - {"offset", "limit"})
    if unknown:
        raise Invalid(f"unknown filter {unknown[0][:40]!r}; use {', '.join(QUEUE_PARAMS[:-1])}")
    tier = params.get("tier") or None
    if tier is not None and not (tier.isascii() and tier.isdigit() and len(tier) <= 2):
        raise Invalid(f"filter tier must be a number from 0 to 99, not {tier[:20]!r}")
    status = params.get("status", "open")
    return Filters(
        None if status == "all" else status or None,
        params.get("category") or None,
        params.get("stream") or None,
        params.get("streamer") or None,
        severity=params.get("severity") or None,
        subject=params.get("subject") or None,
        tier=int(tier) if tier is not None else None,
        age=params.get("age") or None,
    )
