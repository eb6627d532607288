"""Ordered, versioned schema migrations (a ``schema_version`` table; no Alembic needed).

Why not Alembic: the queue has a handful of tables and must migrate itself on first start of
``moderation review`` against SQLite or PostgreSQL without an ``alembic.ini`` beside the user.
The rules that keep this safe:

* A migration's body is frozen once released. Migration 1 therefore *snapshots* the v1 tables
  here instead of calling ``schema.metadata.create_all`` (which follows the current shape).
* Later changes append ``(version, description, fn)`` with explicit DDL (``ALTER TABLE ...``)
  and update ``schema.py``; ``tests/review/test_store.py`` reflects a migrated database and fails
  when ``schema.py`` and the migrations disagree.
* Each migration runs in its own transaction together with its ``schema_version`` row, so a
  failed migration leaves the previous version intact (PostgreSQL has transactional DDL; on
  SQLite ``CREATE TABLE`` is transactional too, inside the ``BEGIN IMMEDIATE`` each one opens).
* That transaction holds a database-wide lock, so processes that start together (stream
  workers opening one fresh queue) apply each migration once instead of racing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from moderation.review import schema


def _v1(conn: sa.Connection) -> None:
    """Initial tables: items, audit log, users, tokens, sessions, streamer risk."""
    md = sa.MetaData()
    items = sa.Table(
        "review_items",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("stream", sa.String(200), nullable=False),
        sa.Column("streamer", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        # Idempotency key part: verdict start in integer milliseconds (a float is a poor unique key).
        sa.Column("window_ms", sa.BigInteger, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("t_start", sa.Float, nullable=False),
        sa.Column("t_end", sa.Float, nullable=False),
        sa.Column("wallclock_start", sa.String(40)),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        # Paths relative to the store's media directory; never taken from a request.
        sa.Column("clip_path", sa.Text),
        sa.Column("thumb_paths", sa.JSON, nullable=False),
        sa.Column("media_purged_at", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("lease_until", sa.Float),
        sa.Column("decision_category", sa.String(64)),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("decided_at", sa.Float),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.UniqueConstraint("stream", "category", "window_ms", name="uq_review_items_key"),
    )
    sa.Index("ix_review_items_queue", items.c.status, items.c.severity_rank, items.c.created_at)
    sa.Index("ix_review_items_stream", items.c.stream, items.c.t_start)
    sa.Index("ix_review_items_streamer", items.c.streamer)

    audit = sa.Table(
        "review_audit",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("item_id", sa.Integer),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    sa.Index("ix_review_audit_item", audit.c.item_id, audit.c.at)

    sa.Table(
        "review_users",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(300)),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )

    sa.Table(
        "review_tokens",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float),
        sa.Column("revoked_at", sa.Float),
    )

    sa.Table(
        "review_sessions",
        md,
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.id"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )

    sa.Table(
        "streamer_risk",
        md,
        sa.Column("streamer", sa.String(200), primary_key=True),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("confirmed", sa.Integer, nullable=False),
        sa.Column("dismissed", sa.Integer, nullable=False),
        sa.Column("escalated", sa.Integer, nullable=False),
        sa.Column("fp_weight", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    md.create_all(conn)


def _v2(conn: sa.Connection) -> None:
    """Queue columns (subject, trigger, tier, violation key, sub-label), indexes matching each
    queue sort's directions (the v1 queue index is rebuilt that way), and the QA table."""
    for ddl in (
        "ALTER TABLE review_items ADD COLUMN subject VARCHAR(16) DEFAULT 'streamer' NOT NULL",
        "ALTER TABLE review_items ADD COLUMN trigger_term VARCHAR(200)",
        "ALTER TABLE review_items ADD COLUMN tier INTEGER DEFAULT 0 NOT NULL",
        "ALTER TABLE review_items ADD COLUMN violation_key VARCHAR(200)",
        "ALTER TABLE review_items ADD COLUMN sub_label VARCHAR(64)",
        "DROP INDEX ix_review_items_queue",
        "CREATE INDEX ix_review_items_queue ON review_items (status, severity_rank DESC, created_at, id)",
        "CREATE INDEX ix_review_items_age ON review_items (status, created_at, id)",
        "CREATE INDEX ix_review_items_cat ON review_items (status, category, severity_rank DESC, created_at, id)",
        "CREATE INDEX ix_review_items_score ON review_items (status, score DESC, id)",
        "CREATE INDEX ix_review_items_tier ON review_items (status, tier DESC, severity_rank DESC, created_at, id)",
        "CREATE UNIQUE INDEX ix_review_items_violation ON review_items (stream, violation_key)",
        "UPDATE review_items SET tier = COALESCE((SELECT r.tier FROM streamer_risk r"
        " WHERE r.streamer = review_items.streamer), 0)",
    ):
        conn.execute(sa.text(ddl))
    md = sa.MetaData()
    qa = sa.Table(
        "review_qa",
        md,
        sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("first_action", sa.String(16), nullable=False),
        sa.Column("first_category", sa.String(64)),
        sa.Column("first_by", sa.String(100), nullable=False),
        sa.Column("first_at", sa.Float, nullable=False),
        sa.Column("second_action", sa.String(16)),
        sa.Column("second_category", sa.String(64)),
        sa.Column("second_by", sa.String(100)),
        sa.Column("second_at", sa.Float),
    )
    sa.Index("ix_review_qa_pending", qa.c.second_at, qa.c.first_at)
    md.create_all(conn)


#: Review-item indexes as of version 3; the SQLite rebuild in ``_v3`` creates them anew.
_V3_ITEM_INDEXES: tuple[str, ...] = (
    "CREATE INDEX ix_review_items_queue ON review_items (status, severity_rank DESC, created_at, id)",
    "CREATE INDEX ix_review_items_stream ON review_items (stream, t_start)",
    "CREATE INDEX ix_review_items_streamer ON review_items (streamer)",
    "CREATE INDEX ix_review_items_age ON review_items (status, created_at, id)",
    "CREATE INDEX ix_review_items_cat ON review_items (status, category, severity_rank DESC, created_at, id)",
    "CREATE INDEX ix_review_items_score ON review_items (status, score DESC, id)",
    "CREATE INDEX ix_review_items_tier ON review_items (status, tier DESC, severity_rank DESC, created_at, id)",
    "CREATE UNIQUE INDEX ix_review_items_violation ON review_items (stream, violation_key)",
)

#: Columns of ``review_items`` at version 2, in table order (all copied by the SQLite rebuild).
_V2_ITEM_COLUMNS = (
    "id, stream, streamer, category, window_ms, severity, severity_rank, score, t_start, t_end,"
    " wallclock_start, record, record_hash, clip_path, thumb_paths, media_purged_at, status, claimed_by,"
    " lease_until, decision_category, decided_by, decided_at, note, created_at, updated_at, revision,"
    " subject, trigger_term, tier, violation_key, sub_label"
)


def _v3_items_table(md: sa.MetaData, name: str) -> sa.Table:
    """``review_items`` as of version 3 (a frozen snapshot, like ``_v1``'s)."""
    return sa.Table(
        name,
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("stream", sa.String(200), nullable=False),
        sa.Column("streamer", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("window_ms", sa.BigInteger, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("t_start", sa.Float, nullable=False),
        sa.Column("t_end", sa.Float, nullable=False),
        sa.Column("wallclock_start", sa.String(40)),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("clip_path", sa.Text),
        sa.Column("thumb_paths", sa.JSON, nullable=False),
        sa.Column("media_purged_at", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("lease_until", sa.Float),
        sa.Column("decision_category", sa.String(64)),
        sa.Column("decided_by", sa.String(100)),
        sa.Column("decided_at", sa.Float),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("subject", sa.String(16), nullable=False, server_default="streamer"),
        sa.Column("trigger_term", sa.String(200)),
        sa.Column("tier", sa.Integer, nullable=False, server_default="0"),
        sa.Column("violation_key", sa.String(200)),
        sa.Column("sub_label", sa.String(64)),
        sa.Column("subject_key", sa.String(210), nullable=False, server_default=""),
        sa.UniqueConstraint("stream", "category", "window_ms", "subject_key", name="uq_review_items_key"),
    )


def _v3_subject_key(kind: str, subject_id: object, stream: str) -> str:
    """``VerdictRecord.subject_key`` as of version 3, for rows stored before it existed."""
    if kind == "streamer":
        return ""
    if isinstance(subject_id, str):
        return f"{kind}:{subject_id}"
    return f"{kind}:{stream if kind == 'room' else ''}"


def _v3(conn: sa.Connection) -> None:
    """The subject in the item key: ``subject_key`` joins ``uq_review_items_key``.

    PostgreSQL swaps the constraint in place. SQLite cannot change an inline constraint, so the
    table is rebuilt (create, copy with ids, drop, rename, indexes) in one transaction; the audit
    log and the QA sample refer to items by id, which the copy keeps. Streamer rows keep the key
    ``""``; viewer and room rows get theirs from the stored record's ``subject_id``.
    """
    if conn.dialect.name == "sqlite":
        # pysqlite opens its transaction at the first DML statement only; this no-op UPDATE opens
        # it before the DDL, so a failure anywhere below leaves version 2 as it was.
        conn.execute(sa.text("UPDATE schema_version SET version = version WHERE 1 = 0"))
        _v3_items_table(sa.MetaData(), "review_items_v3").create(conn)
        cols = _V2_ITEM_COLUMNS
        for ddl in (
            f"INSERT INTO review_items_v3 ({cols}) SELECT {cols} FROM review_items",
            "DROP TABLE review_items",
            "ALTER TABLE review_items_v3 RENAME TO review_items",
            *_V3_ITEM_INDEXES,
        ):
            conn.execute(sa.text(ddl))
    else:
        for ddl in (
            "ALTER TABLE review_items ADD COLUMN subject_key VARCHAR(210) DEFAULT '' NOT NULL",
            "ALTER TABLE review_items DROP CONSTRAINT uq_review_items_key",
            "ALTER TABLE review_items ADD CONSTRAINT uq_review_items_key"
            " UNIQUE (stream, category, window_ms, subject_key)",
        ):
            conn.execute(sa.text(ddl))
    t = sa.table(
        "review_items",
        sa.column("id", sa.Integer),
        sa.column("stream", sa.String),
        sa.column("subject", sa.String),
        sa.column("record", sa.JSON),
        sa.column("subject_key", sa.String),
    )
    keys = [
        {"row_id": r.id, "key": _v3_subject_key(r.subject, (r.record or {}).get("subject_id"), r.stream)}
        for r in conn.execute(sa.select(t.c.id, t.c.stream, t.c.subject, t.c.record).where(t.c.subject != "streamer"))
    ]
    if keys:
        conn.execute(sa.update(t).where(t.c.id == sa.bindparam("row_id")).values(subject_key=sa.bindparam("key")), keys)


def _v4(conn: sa.Connection) -> None:
    """Governance: penalties on items, bans, actions for the pool, decaying risk and overrides.

    Existing risk rows keep their tier: their points start at it, and their change time at their
    last decision.
    """
    for ddl in (
        "ALTER TABLE review_items ADD COLUMN penalty VARCHAR(16)",
        "ALTER TABLE review_items ADD COLUMN ban_id INTEGER",
        "ALTER TABLE review_items ADD COLUMN penalty_reverted_at FLOAT",
        "ALTER TABLE streamer_risk ADD COLUMN points FLOAT DEFAULT 0 NOT NULL",
        "ALTER TABLE streamer_risk ADD COLUMN override_tier INTEGER",
        "ALTER TABLE streamer_risk ADD COLUMN override_reason TEXT",
        "ALTER TABLE streamer_risk ADD COLUMN override_by VARCHAR(100)",
        "ALTER TABLE streamer_risk ADD COLUMN changed_at FLOAT DEFAULT 0 NOT NULL",
        "UPDATE streamer_risk SET points = tier, changed_at = updated_at",
        "CREATE INDEX ix_streamer_risk_changed ON streamer_risk (changed_at)",
    ):
        conn.execute(sa.text(ddl))
    md = sa.MetaData()
    bans = sa.Table(
        "review_bans",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("streamer", sa.String(200), nullable=False),
        sa.Column("until", sa.Float),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("banned_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("item_id", sa.Integer),
        sa.Column("lifted_at", sa.Float),
        sa.Column("lifted_by", sa.String(100)),
        sa.Column("lift_reason", sa.Text),
    )
    sa.Index("ix_review_bans_streamer", bans.c.streamer, bans.c.lifted_at)
    actions = sa.Table(
        "review_actions",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer),
        sa.Column("stream", sa.String(200), nullable=False),
        sa.Column("streamer", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("done_at", sa.Float),
        sa.Column("claimed_until", sa.Float),
    )
    sa.Index("ix_review_actions_status", actions.c.status, actions.c.id)
    sa.Index("ix_review_actions_item", actions.c.item_id)
    md.create_all(conn)


Migration = tuple[int, str, Callable[[sa.Connection], None]]

MIGRATIONS: list[Migration] = [
    (1, "initial review queue tables", _v1),
    (2, "queue columns, indexes and the QA sample table", _v2),
    (3, "the verdict's subject in the item key", _v3),
    (4, "penalties, bans, actions for the pool, decaying risk and tier overrides", _v4),
]

#: The version a fully migrated database has.
LATEST: int = MIGRATIONS[-1][0]


class SchemaError(RuntimeError):
    """The database was written by a newer version of this program."""


def current_version(conn: sa.Connection) -> int:
    """Highest applied migration, 0 for an empty database."""
    if not sa.inspect(conn).has_table(schema.schema_version.name):
        return 0
    value = conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar()
    return int(value or 0)


#: PostgreSQL advisory lock key held by every migration transaction (any constant unique to us).
MIGRATION_LOCK = 0x6D6F645F7271  # "mod_rq"


@contextmanager
def _serialised(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that only one process at a time may hold on this database.

    Stream workers started side by side open one fresh queue at the same moment; without this,
    each sees version 0 and the losers fail on a table that appeared in between (SQLite's
    ``CREATE TABLE`` is not atomic with the check before it, and pysqlite runs DDL outside any
    transaction). SQLite: ``BEGIN IMMEDIATE`` takes the write lock up front, so the DDL below
    runs inside it and a second process waits (busy timeout) instead of racing. PostgreSQL: a
    transaction-scoped advisory lock. Either way the waiter then reads the version anew.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def migrate(engine: sa.Engine) -> list[int]:
    """Apply every pending migration in order; return the versions applied (idempotent).

    Each migration is one transaction under the database-wide migration lock
    (:func:`_serialised`), so processes starting at once apply each migration exactly once and
    the others find it done.
    """
    applied: list[int] = []
    with _serialised(engine) as conn:
        schema.schema_version.create(conn, checkfirst=True)
    for version, description, fn in MIGRATIONS:
        with _serialised(engine) as conn:
            have = current_version(conn)
            if have > LATEST:
                raise SchemaError(
                    f"database schema is version {have}, newer than this program ({LATEST}); upgrade moderation"
                )
            if version <= have:
                continue
            fn(conn)
            row = {"version": version, "description": description, "applied_at": time.time()}
            conn.execute(sa.insert(schema.schema_version).values(**row))
            applied.append(version)
    return applied
