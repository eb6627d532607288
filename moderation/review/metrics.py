"""Prometheus gauges of the review queue, at ``GET /metrics`` of the review app (same auth as the API).

Computed at scrape time from the database, so every replica of the review app shows the same
numbers and nothing is lost when one restarts:

* ``moderation_review_open_items{category,severity}`` — the backlog. One ``GROUP BY`` over the
  ``(status, category, severity_rank…)`` index; ``severity`` is the queue's rank name
  (``info``…``critical``), so a record's free-text severity cannot grow the label set.
* ``moderation_review_oldest_open_age_seconds`` — ``min(created_at)`` of open items, read from
  the ``(status, created_at)`` index.
* ``moderation_review_claims_expired`` / ``…_claims_active`` — open items whose lease ran out
  (a reviewer walked away; the item is claimable again) or is still held.
* ``moderation_review_decisions_total{reviewer,action}`` — decisions from the audit log. The
  first scrape counts the whole log once; later scrapes read only the rows past a watermark on
  the audit id (the primary key), so a scrape costs the decisions made since the last one. Rows
  newer than ``GRACE_S`` are re-read (by id, never counted twice) until they are older, so a
  transaction that committed late (ids are handed out before commit) is still counted.
  ``reviewer`` is bounded by the review team (users are created by an admin), which is why it is
  an acceptable label where a stream id is not.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from moderation.review import schema
from moderation.review.auth import Principal
from moderation.review.decisions import ACTIONS
from moderation.review.deps import api_user
from moderation.review.store import ReviewStore

__all__ = ["GRACE_S", "ReviewMetrics", "router"]

I, A = schema.items, schema.audit  # noqa: E741 - same alias as in store.py
#: Seconds during which a newly seen audit row is read again (late commits; see the docstring).
GRACE_S = 120.0
_RANK_NAME = {rank: name for name, rank in schema.SEVERITY_RANK.items()}


class ReviewMetrics(Collector):
    """The review gauges of one store; thread-safe (scrapes may overlap)."""

    def __init__(self, store: ReviewStore, prefix: str = "moderation_review") -> None:
        self.store, self.prefix = store, prefix
        self._lock = threading.Lock()
        self._decisions: Counter[tuple[str, str]] = Counter()  # (reviewer, action)
        self._mark: int | None = None  # every audit row with an id up to this one is counted
        self._counted: set[int] = set()  # decision rows past the mark already counted

    def render(self) -> bytes:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        return generate_latest(registry)

    def _count_decisions(self, conn: sa.Connection, now: float) -> None:
        if self._mark is None:  # the whole log once, aggregated in the database
            top = conn.execute(sa.select(sa.func.max(A.c.id))).scalar() or 0
            rows = conn.execute(
                sa.select(A.c.actor, A.c.action, sa.func.count())
                .where(A.c.id <= top, A.c.action.in_(ACTIONS))
                .group_by(A.c.actor, A.c.action)
            )
            for actor, action, n in rows:
                self._decisions[(actor, action)] += int(n)
            self._mark = int(top)
            return
        mark = self._mark
        rows = conn.execute(sa.select(A.c.id, A.c.actor, A.c.action, A.c.at).where(A.c.id > mark).order_by(A.c.id))
        settled = mark
        for row_id, actor, action, at in rows:
            if row_id not in self._counted:
                self._counted.add(row_id)
                if action in ACTIONS:
                    self._decisions[(actor, action)] += 1
            if at < now - GRACE_S:  # old enough that no row before it can still be uncommitted
                settled = max(settled, row_id)
        self._mark = settled
        self._counted = {i for i in self._counted if i > settled}

    def collect(self) -> Iterator[Metric]:
        p, now = self.prefix, self.store.clock()
        with self._lock, self.store.engine.connect() as conn:
            backlog = conn.execute(
                sa.select(I.c.category, I.c.severity_rank, sa.func.count())
                .where(I.c.status == "open")
                .group_by(I.c.category, I.c.severity_rank)
            ).all()
            oldest = conn.execute(sa.select(sa.func.min(I.c.created_at)).where(I.c.status == "open")).scalar()
            claimed = I.c.claimed_by.is_not(None)
            expired = conn.execute(
                sa.select(sa.func.count()).where(I.c.status == "open", claimed, I.c.lease_until < now)
            ).scalar()
            active = conn.execute(
                sa.select(sa.func.count()).where(I.c.status == "open", claimed, I.c.lease_until >= now)
            ).scalar()
            self._count_decisions(conn, now)
            decisions = sorted(self._decisions.items())
        open_items = GaugeMetricFamily(
            f"{p}_open_items", "Open items in the review queue.", labels=["category", "severity"]
        )
        by_key: Counter[tuple[str, str]] = Counter()
        for category, rank, n in backlog:
            by_key[(category, _RANK_NAME.get(rank, "info"))] += int(n)
        for (category, severity), n in sorted(by_key.items()):
            open_items.add_metric([category, severity], float(n))
        yield open_items
        age = GaugeMetricFamily(f"{p}_oldest_open_age_seconds", "Age of the oldest open item (0 when none).")
        age.add_metric([], max(0.0, now - oldest) if oldest is not None else 0.0)
        yield age
        g = GaugeMetricFamily(f"{p}_claims_expired", "Open items whose claim lease ran out (claimable again).")
        g.add_metric([], float(expired or 0))
        yield g
        g = GaugeMetricFamily(f"{p}_claims_active", "Open items a reviewer holds a lease on.")
        g.add_metric([], float(active or 0))
        yield g
        dec = CounterMetricFamily(
            f"{p}_decisions", "Decisions recorded in the audit log.", labels=["reviewer", "action"]
        )
        for (reviewer, action), n in decisions:
            dec.add_metric([reviewer, action], float(n))
        yield dec


router = APIRouter(tags=["review"])
_MAKE = threading.Lock()


def _metrics(request: Request) -> ReviewMetrics:
    with _MAKE:
        m: ReviewMetrics | None = getattr(request.app.state, "review_metrics", None)
        if m is None:
            m = request.app.state.review_metrics = ReviewMetrics(request.app.state.store)
        return m


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, _: Annotated[Principal, Depends(api_user)]) -> Response:
    """Prometheus text of the review queue (bearer token or session, like every API route)."""
    return Response(_metrics(request).render(), media_type="text/plain; version=0.0.4; charset=utf-8")
