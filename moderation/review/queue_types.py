"""Plain types of the review queue: its errors, filters, results and the allowed categories.

Split from ``store.py`` (which re-exports them) so the store module holds only queue operations.
Everything here validates what a request may put in front of the database: ids beyond 32 bits,
NUL characters and free-text categories are refused here, as 4xx errors, never as a database
exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from moderation.review import schema
from moderation.review.records import CANONICAL_CATEGORIES

I = schema.items  # noqa: E741 - same alias as in store.py


class QueueError(Exception):
    """Base of errors the API maps to 4xx responses."""


class NotFound(QueueError):
    pass


class Conflict(QueueError):
    """Someone else holds the item, or it was already decided."""


class Invalid(QueueError):
    pass


#: Largest item id / offset the store accepts: ids are 32-bit on PostgreSQL, so anything larger
#: cannot exist and is answered "not found" instead of reaching the database as an overflow.
MAX_ID = 2**31 - 1


def no_nul(**fields: str | None) -> None:
    """Refuse text with a NUL character (PostgreSQL cannot store or even compare it)."""
    for name, value in fields.items():
        if value is not None and "\0" in value:
            raise Invalid(f"{name} contains a NUL character")


@dataclass(frozen=True)
class Filters:
    """Queue filters; ``status=None`` means any status."""

    status: str | None = "open"
    category: str | None = None
    stream: str | None = None
    streamer: str | None = None

    def __post_init__(self) -> None:
        no_nul(status=self.status, category=self.category, stream=self.stream, streamer=self.streamer)
        for name in ("status", "category", "stream", "streamer"):
            value = getattr(self, name)
            if value is not None and len(value) > 200:
                raise Invalid(f"filter {name} is longer than 200 characters")

    def where(self) -> list[sa.ColumnElement[bool]]:
        conds: list[sa.ColumnElement[bool]] = []
        for name in ("status", "category", "stream", "streamer"):
            value = getattr(self, name)
            if value:
                conds.append(I.c[name] == value)
        return conds


def allowed_categories(extra: Iterable[str] = ()) -> frozenset[str]:
    """Categories a reviewer may choose: DESIGN.md §4.2's, the default policy's, and ``extra``.

    ``extra`` is for the categories a deployment's policy files add (``ReviewSettings.categories``).
    Free text is never a category: it would feed the streamer risk tiers unchecked.
    """
    from moderation.config.policy import PolicyConfig

    policy = PolicyConfig()
    defined = set(policy.categories) - set(policy.non_verdict_categories)
    return frozenset(CANONICAL_CATEGORIES) | defined | set(extra)


@dataclass(frozen=True)
class UpsertResult:
    item_id: int
    created: bool
    changed: bool


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
