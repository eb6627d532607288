"""Engines for the review store: SQLite (WAL) by default, PostgreSQL in production.

Everything dialect-specific in ``moderation.review`` is in this module: URL normalisation,
SQLite pragmas, and which ``INSERT ... ON CONFLICT`` constructor to use (both dialects offer the
same API for it, so the store keeps one code path).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

#: Seconds a connection waits for another one's lock (the busy timeout, and the WAL switch below).
SQLITE_BUSY_S = 30.0


class QueueUrlError(ValueError):
    """The ``--queue`` URL is not one the store supports."""


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` / ``postgres://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite://", "postgresql+psycopg://")):
        return url
    raise QueueUrlError(f"unsupported queue URL {url!r}: use sqlite:///path/to/file.db or postgresql://user@host/db")


def make_engine(url: str) -> sa.Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys on every connection.

    WAL lets the web server read while a scan writes verdicts; the busy timeout turns writer
    contention into waiting instead of "database is locked" errors.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_S}, pool_pre_ping=False
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
            if ":memory:" not in url:
                _switch_to_wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # 64 MiB page cache (default 2 MiB): a queue page reads 100 rows scattered over a
            # table of 100,000 JSON records; from the cache that is milliseconds, not disk reads.
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA mmap_size=268435456")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _switch_to_wal(cur: sqlite3.Cursor) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the file's lock.

    SQLite answers that pragma with "database is locked" at once, without its busy handler, while
    another process is mid-transaction on a file not yet in WAL mode (processes opening one fresh
    queue together); once one of them switched it (the mode is stored in the file) it is a no-op.
    """
    deadline = time.monotonic() + SQLITE_BUSY_S
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def insert_for(engine: sa.Engine) -> Any:
    """``insert`` constructor with ``on_conflict_do_nothing`` for this engine's dialect."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
