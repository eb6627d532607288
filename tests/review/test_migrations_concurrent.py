"""Several processes opening one fresh queue at once (stream workers starting side by side) all
migrate it without error, and each migration is applied exactly once — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import sqlalchemy as sa

from moderation.review import schema
from moderation.review.db import make_engine
from moderation.review.migrations import LATEST, MIGRATIONS, current_version

_OPENER = """
import json, sys, time
from moderation.review.db import make_engine
from moderation.review.migrations import migrate
engine = make_engine(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all start migrating at the same instant
print(json.dumps(migrate(engine)))
"""


def test_processes_migrating_one_fresh_queue_at_once_all_succeed(queue_url: str) -> None:
    start = time.time() + 3.0  # after every interpreter has imported the package
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPENER, queue_url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(5)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    failed = [err for p, (_, err) in zip(procs, outs, strict=True) if p.returncode != 0]
    assert not failed, failed[0][-2000:]
    applied = sorted(v for out, _ in outs for v in json.loads(out.strip().splitlines()[-1]))
    assert applied == [v for v, _, _ in MIGRATIONS]  # each migration once, by whichever process got it
    engine = make_engine(queue_url)
    with engine.connect() as conn:
        assert current_version(conn) == LATEST
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.schema_version)).scalar() == len(MIGRATIONS)
    engine.dispose()
