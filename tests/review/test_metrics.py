"""The review app's /metrics: backlog by severity and category, oldest open item, claims, decisions
per reviewer — read from the database at scrape time (SQLite and PostgreSQL), behind the API's auth."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from review_factories import Clock, verdict

from moderation.review import schema
from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.metrics import GRACE_S
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_review_gauges_reflect_the_queue(store: ReviewStore, clock: Clock, queue_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    auth = Auth(store.engine, store.clock)
    auth.create_user("ann", "reviewer")
    auth.create_user("bob", "reviewer")
    ann, bob = auth.create_token("ann"), auth.create_token("bob")
    ids = [
        store.upsert_verdict(verdict(start=float(10 * i), end=float(10 * i + 5), category=cat, severity=sev)).item_id
        for i, (cat, sev) in enumerate(
            [("gambling", "high"), ("gambling", "high"), ("vulgar", "low"), ("vulgar", "critical"), ("minors", "odd")]
        )
    ]
    created = clock.t
    settings = ReviewSettings(queue_url=queue_url, media_dir=tmp_path / "media", lease_s=60)
    with TestClient(create_app(settings, store=store)) as client:
        assert client.get("/metrics").status_code == 401  # like every API route
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401

        def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            r = client.get("/metrics", headers={"Authorization": f"Bearer {ann}"})
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            return _samples(r.text)

        clock.advance(100)
        s = scrape()
        open_items = "moderation_review_open_items"
        assert _value(s, open_items, category="gambling", severity="high") == 2
        assert _value(s, open_items, category="vulgar", severity="low") == 1
        assert _value(s, open_items, category="vulgar", severity="critical") == 1
        assert _value(s, open_items, category="minors", severity="info") == 1  # an unknown severity ranks as info
        assert _value(s, "moderation_review_oldest_open_age_seconds") == 100
        assert _value(s, "moderation_review_claims_expired") == 0

        store.claim(ids[0], "ann")
        store.claim(ids[2], "bob")
        store.decide(ids[1], "ann", "confirm")
        clock.advance(61)  # both leases (60 s) ran out
        store.claim(ids[3], "bob")  # a live one
        store.decide(ids[2], "bob", "dismiss")  # bob's expired lease on item 2: still his to decide
        s = scrape()
        assert _value(s, open_items, category="gambling", severity="high") == 1
        assert _value(s, open_items, category="vulgar", severity="low") == 0
        assert _value(s, "moderation_review_claims_expired") == 1  # ann walked away from item 0
        assert _value(s, "moderation_review_claims_active") == 1
        assert _value(s, "moderation_review_decisions_total", reviewer="ann", action="confirm") == 1
        assert _value(s, "moderation_review_decisions_total", reviewer="bob", action="dismiss") == 1
        assert _value(s, "moderation_review_oldest_open_age_seconds") == clock.t - created

        # later scrapes read only new audit rows, and never count one twice, inside the grace
        # window or after it
        store.decide(ids[3], "bob", "escalate")
        s = scrape()
        assert _value(s, "moderation_review_decisions_total", reviewer="bob", action="escalate") == 1
        clock.advance(GRACE_S + 1)
        s = scrape()
        assert _value(s, "moderation_review_decisions_total", reviewer="bob", action="escalate") == 1
        assert _value(s, "moderation_review_decisions_total", reviewer="ann", action="confirm") == 1
        store.decide(ids[0], "bob", "confirm")  # ann's lease expired: bob may decide it
        s = scrape()
        assert _value(s, "moderation_review_decisions_total", reviewer="bob", action="confirm") == 1
        assert _value(s, "moderation_review_claims_expired") == 0
        store.decide(ids[4], "bob", "dismiss")
        s = scrape()
        assert _value(s, "moderation_review_decisions_total", reviewer="bob", action="dismiss") == 2
        assert _value(s, "moderation_review_oldest_open_age_seconds") == 0  # nothing open
        assert not any(v for (name, _), v in s.items() if name == open_items)
        # every user sees the same numbers: they come from the database, not from who asks
        r = client.get("/metrics", headers={"Authorization": f"Bearer {bob}"})
        assert _samples(r.text) == s


def test_a_late_commit_inside_the_grace_window_is_still_counted(store: ReviewStore, clock: Clock) -> None:
    """Audit ids are handed out before commit: a row with a lower id may appear after a higher one
    was read. Rows newer than the grace window are read again, so it is counted once it appears."""
    from moderation.review.metrics import ReviewMetrics

    m = ReviewMetrics(store)
    _ = _samples(m.render().decode())  # first scrape: whole-log count (empty)
    with store.engine.begin() as conn:
        conn.execute(sa.insert(schema.audit).values(id=5, at=clock.t, actor="ann", action="confirm", detail={}))
    s = _samples(m.render().decode())
    assert _value(s, "moderation_review_decisions_total", reviewer="ann", action="confirm") == 1
    with store.engine.begin() as conn:  # committed late, with a lower id
        conn.execute(sa.insert(schema.audit).values(id=3, at=clock.t, actor="ann", action="confirm", detail={}))
        conn.execute(sa.insert(schema.audit).values(id=4, at=clock.t, actor="ann", action="claim", detail={}))
    s = _samples(m.render().decode())
    assert _value(s, "moderation_review_decisions_total", reviewer="ann", action="confirm") == 2
    clock.advance(GRACE_S + 1)
    s = _samples(m.render().decode())
    assert _value(s, "moderation_review_decisions_total", reviewer="ann", action="confirm") == 2
