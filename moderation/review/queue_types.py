"""Plain types of the review queue: its errors, filters, results and the allowed categories.

Split from ``store.py`` (which re-exports them) so the store module holds only queue operations.
Everything here validates what a request may put in front of the database: ids beyond 32 bits,
NUL characters and free-text categories are refused here, as 4xx errors, never as a database
exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

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


#: Subjects a verdict can be about (``subject`` in the record; ``streamer`` when absent).
SUBJECTS: tuple[str, ...] = ("streamer", "viewer", "room")
#: Age filter values: only items flagged within this many seconds.
AGES: dict[str, float] = {"1h": 3600.0, "24h": 86400.0, "7d": 7 * 86400.0}
_TEXT_FILTERS = ("status", "category", "stream", "streamer", "severity", "subject")


@dataclass(frozen=True)
class Filters:
    """Queue filters; ``status=None`` means any status. Values are checked here, so an unknown
    severity, subject, tier or age is a one-line ``Invalid`` naming the filter, not an empty queue."""

    status: str | None = "open"
    category: str | None = None
    stream: str | None = None
    streamer: str | None = None
    severity: str | None = None
    subject: str | None = None
    tier: int | None = None
    age: str | None = None

    def __post_init__(self) -> None:
        no_nul(**{n: getattr(self, n) for n in (*_TEXT_FILTERS, "age")})
        for name in _TEXT_FILTERS:
            value = getattr(self, name)
            if value is not None and len(value) > 200:
                raise Invalid(f"filter {name} is longer than 200 characters")
        if self.status is not None and self.status not in schema.STATUSES:
            raise Invalid(f"unknown status {self.status[:40]!r}; use one of {', '.join(schema.STATUSES)} or all")
        if self.severity is not None and self.severity not in schema.SEVERITY_RANK:
            raise Invalid(f"unknown severity {self.severity[:40]!r}; use one of {', '.join(schema.SEVERITY_RANK)}")
        if self.subject is not None and self.subject not in SUBJECTS:
            raise Invalid(f"unknown subject {self.subject[:40]!r}; use one of {', '.join(SUBJECTS)}")
        if self.age is not None and self.age not in AGES:
            raise Invalid(f"unknown age {self.age[:40]!r}; use one of {', '.join(AGES)}")
        if self.tier is not None and not 0 <= self.tier <= 99:
            raise Invalid("filter tier must be a number from 0 to 99")

    def open_only(self) -> Filters:
        """The same filters restricted to open items (what a claim may take)."""
        return replace(self, status="open")

    def where(self, now: float = 0.0) -> list[sa.ColumnElement[bool]]:
        conds: list[sa.ColumnElement[bool]] = []
        for name in _TEXT_FILTERS:
            value = getattr(self, name)
            if value:
                conds.append(I.c[name] == value)
        if self.severity:  # the rank is indexed with status; the name narrows unknown names ranked 0
            conds.append(I.c.severity_rank == schema.SEVERITY_RANK[self.severity])
        if self.tier is not None:
            conds.append(I.c.tier == self.tier)
        if self.age:
            conds.append(I.c.created_at >= now - AGES[self.age])
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
