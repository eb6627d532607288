"""Fixtures for the review-queue tests: a real PostgreSQL server, stores, verdict/clip factories.

PostgreSQL comes from Debian's binaries (``/usr/lib/postgresql/*/bin``), started by ``pg_ctl`` in
a temp dir on a free loopback port, once per test session; each test gets its own database. When
running as root the server runs as the ``postgres`` system user (PostgreSQL refuses root). The
PostgreSQL cases skip only when the binaries are absent.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # review_factories

from review_factories import Clock, make_evidence

from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self._n = itertools.count()

    def new_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(self._n)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not installed (Debian package postgresql)")
    root = Path(tempfile.mkdtemp(prefix="review-pg-"))
    data = root / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    run = lambda *a: subprocess.run([*prefix, *a], check=True, capture_output=True, text=True)  # noqa: E731
    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c max_connections=200"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "-t", "60", "start")
    try:
        yield PgServer(port)
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()


@pytest.fixture
def store(queue_url: str, tmp_path: Path, clock: Clock) -> Iterator[ReviewStore]:
    s = ReviewStore.open(ReviewSettings(queue_url=queue_url, media_dir=tmp_path / "media", lease_s=60), clock=clock)
    yield s
    s.engine.dispose()


@pytest.fixture
def evidence(tmp_path: Path) -> Callable[..., tuple[str, list[str]]]:
    """Write a real small MP4 + JPEG thumbnail under ``tmp_path/scan``; return their paths."""

    def make(name: str = "s1/000012", seconds: float = 2.0) -> tuple[str, list[str]]:
        return make_evidence(tmp_path / "scan", name, seconds)

    return make
