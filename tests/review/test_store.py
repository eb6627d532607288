"""Review store against SQLite and a real PostgreSQL (both via the ``store`` fixture)."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from review_factories import Clock, verdict

from moderation.review import schema
from moderation.review.media import MediaError
from moderation.review.migrations import LATEST, current_version, migrate
from moderation.review.records import RecordError
from moderation.review.retention import purge_expired
from moderation.review.risk import MAX_TIER, sampling_multiplier
from moderation.review.store import Conflict, Filters, Invalid, NotFound, ReviewStore


def test_migrations_idempotent_and_match_schema(store: ReviewStore) -> None:
    assert migrate(store.engine) == []
    with store.engine.connect() as conn:
        assert current_version(conn) == LATEST
        insp = sa.inspect(conn)
        for table in schema.metadata.sorted_tables:
            got = {c["name"] for c in insp.get_columns(table.name)}
            assert got == {c.name for c in table.columns}, table.name
            indexes = {(i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table.name)}
            want = {(i.name, tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes}
            assert {i for i in indexes if i[0] in {w[0] for w in want}} == want, table.name
            uniques = {(u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(table.name)}
            want_uq = {
                (u.name, tuple(c.name for c in u.columns))
                for u in table.constraints
                if isinstance(u, sa.UniqueConstraint) and u.name
            }
            assert want_uq <= uniques, table.name


def test_upsert_is_idempotent_and_growing_verdict_updates(store: ReviewStore, clock: Clock) -> None:
    first = store.upsert_verdict(verdict())
    assert first.created and first.changed
    again = store.upsert_verdict(verdict())
    assert (again.item_id, again.created, again.changed) == (first.item_id, False, False)
    clock.advance(5)
    grown = store.upsert_verdict(verdict(end=25.0, score=0.99))
    assert grown.item_id == first.item_id and grown.changed and not grown.created
    item = store.get(first.item_id)
    assert (item.t_end, item.score, item.revision) == (25.0, 0.99, 1)
    assert store.count(Filters(status=None)) == 1
    other = store.upsert_verdict(verdict(start=40.0, end=44.0))
    assert other.item_id != first.item_id
    actions = [e.action for e in store.audit_log(item_id=first.item_id)]
    assert actions == ["update", "create"]


def test_upsert_after_decision_keeps_decision(store: ReviewStore) -> None:
    r = store.upsert_verdict(verdict())
    store.decide(r.item_id, "ann", "confirm")
    store.upsert_verdict(verdict(end=30.0))
    item = store.get(r.item_id)
    assert item.status == "confirmed" and item.t_end == 30.0


def test_evidence_is_copied_into_media_dir(store: ReviewStore, evidence, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clip, thumbs = evidence()
    r = store.upsert_verdict(verdict(clip=clip, thumbnails=thumbs), bases=[tmp_path / "scan"])
    item = store.get(r.item_id)
    assert item.clip_path and (store.media_dir / item.clip_path).stat().st_size > 1000
    assert len(item.thumb_paths) == 1 and (store.media_dir / item.thumb_paths[0]).is_file()


def test_bad_records_are_refused_with_reason(store: ReviewStore) -> None:
    with pytest.raises(RecordError, match="score"):
        store.upsert_verdict(verdict(score="high"))
    with pytest.raises(RecordError, match="before start"):
        store.upsert_verdict(verdict(start=10.0, end=5.0))
    with pytest.raises(MediaError, match="not found"):
        store.upsert_verdict(verdict(clip="nope/missing.mp4"))
    assert store.count(Filters(status=None)) == 0


def test_queue_order_severity_then_age_and_filters(store: ReviewStore, clock: Clock) -> None:
    ids = {}
    for i, (sev, cat, stream) in enumerate(
        [("medium", "vulgar", "a"), ("high", "gambling", "b"), ("medium", "gambling", "a"), ("critical", "vulgar", "c")]
    ):
        clock.advance(1)
        ids[i] = store.upsert_verdict(verdict(stream=stream, category=cat, severity=sev, start=float(i))).item_id
    order = [it.id for it in store.list_items()]
    assert order == [ids[3], ids[1], ids[0], ids[2]]
    assert [it.id for it in store.list_items(Filters(category="gambling"))] == [ids[1], ids[2]]
    assert [it.id for it in store.list_items(Filters(stream="a"))] == [ids[0], ids[2]]
    assert store.neighbours(ids[1]) == (ids[3], ids[0])
    assert store.count(Filters(stream="a")) == 2 and store.count(Filters(), cap=1) == 2  # capped: "more than 1"


def test_many_concurrent_claimers_never_share_an_item(store: ReviewStore) -> None:
    n_items, n_threads = 30, 12
    for i in range(n_items):
        store.upsert_verdict(verdict(start=float(i)))
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(n_threads)

    def worker(name: str) -> None:
        mine: list[int] = []
        try:
            barrier.wait()
            while (item := store.claim_next(name)) is not None:
                mine.append(item.id)
                store.decide(item.id, name, "dismiss", note="false positive")
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        got[name] = mine

    threads = [threading.Thread(target=worker, args=(f"r{i}",)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    counts = Counter(i for ids in got.values() for i in ids)
    assert len(counts) == n_items and set(counts.values()) == {1}
    assert store.count(Filters(status="dismissed")) == n_items


def test_lease_expiry_returns_item_to_queue(store: ReviewStore, clock: Clock) -> None:
    a = store.upsert_verdict(verdict()).item_id
    assert store.claim_next("ann") is not None
    assert store.claim_next("bob") is None
    with pytest.raises(Conflict, match="ann"):
        store.claim(a, "bob")
    with pytest.raises(Conflict, match="ann"):
        store.decide(a, "bob", "confirm")
    clock.advance(61)  # lease_s is 60 in the fixture
    item = store.claim_next("bob")
    assert item is not None and item.id == a and item.claimed_by == "bob"
    with pytest.raises(Conflict, match="bob"):
        store.decide(a, "ann", "dismiss")
    store.release(a, "bob")
    assert store.get(a).claimed_by is None


def test_decisions_audit_and_risk(store: ReviewStore, clock: Clock) -> None:
    a = store.upsert_verdict(verdict(streamer="alice", severity="medium")).item_id
    b = store.upsert_verdict(verdict(streamer="alice", start=30.0, end=31.0)).item_id
    c = store.upsert_verdict(verdict(streamer="alice", start=50.0, end=51.0)).item_id
    store.claim(a, "ann")
    item = store.decide(a, "ann", "confirm", category="vulgar", note="clear")
    assert (item.status, item.decision_category, item.decided_by) == ("confirmed", "vulgar", "ann")
    assert store.streamer_risk("alice").tier == 1
    with pytest.raises(Conflict, match="already confirmed"):
        store.decide(a, "ann", "dismiss")
    store.decide(b, "ann", "dismiss", note="false positive")
    r = store.streamer_risk("alice")
    assert (r.dismissed, r.fp_weight) == (1, pytest.approx(0.9))
    store.decide(c, "ann", "escalate")
    with pytest.raises(Conflict, match="already escalated"):
        store.decide(c, "ann", "confirm")
    store.decide(c, "boss", "confirm", admin=True)
    assert store.streamer_risk("alice").tier == MAX_TIER  # +1 (medium) then +2 (high), capped
    assert sampling_multiplier(MAX_TIER) > sampling_multiplier(0)
    log = store.audit_log()
    assert [(e.actor, e.action, e.item_id) for e in log[:3]] == [
        ("boss", "confirm", c),
        ("ann", "escalate", c),
        ("ann", "dismiss", b),
    ]
    assert all(e.at == clock.t for e in log)
    with pytest.raises(Invalid):
        store.decide(b, "ann", "delete")
    with pytest.raises(NotFound):
        store.decide(999, "ann", "confirm")


def test_bulk_decision_skips_items_held_by_others(store: ReviewStore) -> None:
    ids = [store.upsert_verdict(verdict(start=float(i))).item_id for i in range(4)]
    store.claim(ids[1], "bob")
    res = store.decide_many([*ids, 999], "ann", "dismiss", note="false positive")
    assert res.done == [ids[0], ids[2], ids[3]]
    assert set(res.skipped) == {ids[1], 999} and "bob" in res.skipped[ids[1]]
    assert all(e.detail.get("bulk") for e in store.audit_log(actor="ann"))
    assert store.streamer_risk("s1").dismissed == 3


def test_retention_purges_clips_keeps_decisions(store: ReviewStore, clock: Clock, evidence, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = [tmp_path / "scan"]
    clip1, th1 = evidence("s1/a")
    clip2, th2 = evidence("s1/b")
    old = store.upsert_verdict(verdict(clip=clip1, thumbnails=th1), bases=base).item_id
    pending = store.upsert_verdict(verdict(start=99.0, end=100.0, clip=clip2, thumbnails=th2), bases=base).item_id
    store.decide(old, "ann", "confirm")
    files = [store.media_dir / p for p in [store.get(old).clip_path or "", *store.get(old).thumb_paths]]
    clock.advance(10 * 86400)
    assert purge_expired(store, retention_days=30).items == 0
    clock.advance(25 * 86400)
    res = purge_expired(store, retention_days=30)
    assert (res.items, res.files) == (1, 2)
    assert not any(f.exists() for f in files)
    item = store.get(old)
    assert (item.status, item.decided_by, item.clip_path, item.media_purged_at) == ("confirmed", "ann", None, clock.t)
    assert item.record["signals"]  # the transcript that triggered it is kept
    assert store.get(pending).clip_path is not None  # undecided evidence is never purged
    assert store.audit_log(item_id=old)[0].action == "purge"
    assert purge_expired(store, retention_days=30).items == 0
