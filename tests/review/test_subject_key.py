"""Item keys include the verdict's subject: a viewer's chat verdict and the streamer's verdict of
the same category starting in the same millisecond are two items (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from review_factories import verdict

from moderation.review import media, migrations, schema
from moderation.review.db import make_engine
from moderation.review.records import parse_record, record_hash
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore


def _viewer(user: str = "spam_bot", **over: object) -> dict[str, object]:
    return verdict(subject={"kind": "viewer", "id": user}, **over)


def test_same_ms_viewer_and_streamer_verdicts_are_two_items(store: ReviewStore) -> None:
    streamer = store.upsert_verdict(verdict(subject={"kind": "streamer", "id": "s1"}))
    viewer = store.upsert_verdict(_viewer())
    other_viewer = store.upsert_verdict(_viewer("another"))
    room = store.upsert_verdict(verdict(subject={"kind": "room", "id": "s1"}))
    ids = {streamer.item_id, viewer.item_id, other_viewer.item_id, room.item_id}
    assert len(ids) == 4 and all(r.created for r in (streamer, viewer, other_viewer, room))
    assert store.get(streamer.item_id).subject == "streamer"
    assert store.get(viewer.item_id).subject == "viewer"
    assert store.get(viewer.item_id).record["subject_id"] == "spam_bot"
    assert store.get(other_viewer.item_id).record["subject_id"] == "another"
    # Re-upserting each is idempotent and lands on its own item.
    for rec, first in (
        (verdict(subject={"kind": "streamer", "id": "s1"}), streamer),
        (_viewer(), viewer),
        (_viewer("another"), other_viewer),
        (verdict(subject={"kind": "room", "id": "s1"}), room),
    ):
        again = store.upsert_verdict(rec)
        assert (again.item_id, again.created, again.changed) == (first.item_id, False, False)
    # A grown viewer verdict updates the viewer's item only.
    grown = store.upsert_verdict(_viewer(end=30.0, score=0.5))
    assert grown.item_id == viewer.item_id and grown.changed
    assert store.get(streamer.item_id).t_end == 18.5 and store.get(viewer.item_id).t_end == 30.0


def test_provisional_viewer_verdict_beside_streamer_item_is_not_refused(store: ReviewStore) -> None:
    streamer = store.upsert_verdict(verdict())
    live = store.upsert_verdict(_viewer(violation_id="v-1", provisional=True, end=13.0))
    assert live.created and live.item_id != streamer.item_id
    final = store.upsert_verdict(_viewer(violation_id="v-1", start=11.5, end=20.0))
    assert (final.item_id, final.created, final.changed) == (live.item_id, False, True)
    assert store.get(streamer.item_id).subject_key == "" and store.get(live.item_id).subject_key == "viewer:spam_bot"


def test_record_without_subject_is_the_streamers_item(store: ReviewStore) -> None:
    old = store.upsert_verdict(verdict())
    named = store.upsert_verdict(verdict(subject={"kind": "streamer", "id": "s1"}))
    assert named.item_id == old.item_id and not named.created
    plain_room = store.upsert_verdict(verdict(subject="room"))
    assert plain_room.created
    again = store.upsert_verdict(verdict(subject={"kind": "room", "id": verdict()["stream"]}))
    assert again.item_id == plain_room.item_id


def test_viewer_and_streamer_evidence_go_to_different_dirs(store: ReviewStore, evidence, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip, thumbs = evidence()
    base = [tmp_path / "scan"]
    s = store.get(store.upsert_verdict(verdict(clip=clip, thumbnails=thumbs), bases=base).item_id)
    v = store.get(store.upsert_verdict(_viewer(clip=clip, thumbnails=thumbs), bases=base).item_id)
    assert s.clip_path and v.clip_path and s.clip_path != v.clip_path
    assert (store.media_dir / s.clip_path).is_file() and (store.media_dir / v.clip_path).is_file()
    # The streamer's key dir is the one items had before subjects were part of the key.
    old = hashlib.sha256(b"s1\x00gambling\x0012000").hexdigest()[:20]
    assert s.clip_path.startswith(f"{old[:2]}/{old}/") and media.key_dir("s1", "gambling", 12000) == f"{old[:2]}/{old}"


def test_subject_key_of_records() -> None:
    assert parse_record(verdict()).subject_key() == ""
    assert parse_record(verdict(subject={"kind": "streamer", "id": "acct"})).subject_key() == ""
    assert parse_record(_viewer("u:1")).subject_key() == "viewer:u:1"
    assert parse_record(verdict(subject="room")).subject_key() == "room:s1"
    assert parse_record(verdict(subject="viewer")).subject_key() == "viewer:"


def _v2_database(url: str) -> sa.Engine:
    """A database as version 2 left it, with items, audit lines and a QA sample row."""
    engine = make_engine(url)
    with engine.begin() as conn:
        schema.schema_version.create(conn)
        for version, fn in ((1, migrations._v1), (2, migrations._v2)):
            fn(conn)
            conn.execute(sa.insert(schema.schema_version).values(version=version, description="v", applied_at=0.0))
    return engine


def _add_v2_rows(engine: sa.Engine) -> tuple[int, int]:
    """A confirmed streamer item (record without subject) with an audit line and a QA row, and an
    open viewer item; ids come from the database, with a gap before them."""
    ids = []
    with engine.begin() as conn:
        for rec, status in (
            (parse_record(verdict(start=90.0)), "open"),
            (parse_record(verdict()), "confirmed"),
            (parse_record(_viewer(start=40.0)), "open"),
        ):
            raw = rec.stored()
            ins = sa.insert(schema.items).values(
                stream=rec.stream,
                streamer=rec.stream,
                category=rec.category,
                window_ms=round(rec.start * 1000),
                severity=rec.severity,
                severity_rank=3,
                score=rec.score,
                t_start=rec.start,
                t_end=rec.end,
                record=raw,
                record_hash=record_hash(raw),
                thumb_paths=[],
                status=status,
                created_at=1.0,
                updated_at=1.0,
                revision=2,
                subject=rec.subject or "streamer",
                tier=0,
                decided_by="ann" if status == "confirmed" else None,
            )
            ids.append(conn.execute(ins.returning(schema.items.c.id)).scalar_one())
        conn.execute(sa.delete(schema.items).where(schema.items.c.id == ids[0]))
        conn.execute(
            sa.insert(schema.audit).values(at=1.0, actor="ann", action="confirm", item_id=ids[1], detail={"why": "x"})
        )
        conn.execute(sa.insert(schema.qa).values(item_id=ids[1], first_action="confirm", first_by="ann", first_at=1.0))
    return ids[1], ids[2]


def test_upgrade_from_v2_keeps_items_ids_and_audit(queue_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = _v2_database(queue_url)
    s_id, v_id = _add_v2_rows(engine)
    assert migrations.migrate(engine) == [3, 4]
    assert migrations.migrate(engine) == []
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(schema.items))}
        audit = conn.execute(sa.select(schema.audit)).all()
        qa = conn.execute(sa.select(schema.qa)).all()
    assert set(rows) == {s_id, v_id}
    s_row, v_row = rows[s_id], rows[v_id]
    assert (s_row.subject_key, s_row.status, s_row.decided_by, s_row.revision) == ("", "confirmed", "ann", 2)
    assert (v_row.subject_key, v_row.subject) == ("viewer:spam_bot", "viewer")
    assert s_row.record == parse_record(verdict()).stored() and v_row.record["subject_id"] == "spam_bot"
    assert [(a.item_id, a.action, a.detail) for a in audit] == [(s_id, "confirm", {"why": "x"})]
    assert [(q.item_id, q.first_by) for q in qa] == [(s_id, "ann")]
    engine.dispose()

    store = ReviewStore.open(ReviewSettings(queue_url=queue_url, media_dir=tmp_path / "media"))
    try:
        # Old records keep their items; re-upserting them changes nothing.
        same = store.upsert_verdict(verdict())
        assert (same.item_id, same.created, same.changed) == (s_id, False, False)
        same_viewer = store.upsert_verdict(_viewer(start=40.0))
        assert (same_viewer.item_id, same_viewer.created, same_viewer.changed) == (v_id, False, False)
        # The streamer's newer record (subject named) is still their item; a viewer at the same ms is new.
        named = store.upsert_verdict(verdict(subject={"kind": "streamer", "id": "s1"}))
        assert named.item_id == s_id and not named.created
        viewer = store.upsert_verdict(_viewer())
        assert viewer.created and viewer.item_id > v_id
        assert store.get(s_id).status == "confirmed"
        assert [e.action for e in store.audit_log(item_id=s_id)] == ["update", "confirm"]
    finally:
        store.engine.dispose()


def test_failed_sqlite_rebuild_leaves_version_2(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine = _v2_database(f"sqlite:///{tmp_path / 'queue.db'}")
    s_id, v_id = _add_v2_rows(engine)
    # Fail after the old table is dropped and the new one renamed: all of it must roll back.
    monkeypatch.setattr(
        migrations, "_V3_ITEM_INDEXES", (*migrations._V3_ITEM_INDEXES, "CREATE INDEX broken ON nowhere (x)")
    )
    with pytest.raises(sa.exc.OperationalError):
        migrations.migrate(engine)
    with engine.connect() as conn:
        assert migrations.current_version(conn) == 2
        assert not sa.inspect(conn).has_table("review_items_v3")
        assert {r.id for r in conn.execute(sa.text("SELECT id FROM review_items"))} == {s_id, v_id}
        names = {i["name"] for i in sa.inspect(conn).get_indexes("review_items")}
        assert "ix_review_items_tier" in names
    monkeypatch.undo()
    assert migrations.migrate(engine) == [3, 4]
    engine.dispose()
