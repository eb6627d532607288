"""Review queue page latency with 100,000 items, on SQLite and on PostgreSQL.

Fills a fresh queue with ``--items`` verdicts (bulk ``INSERT`` of realistic rows: records with
signals, several streams/streamers/categories/severities/subjects, a fifth already decided), then
requests the queue page the way a reviewer's browser does (``GET /`` through the FastAPI app,
session cookie, full HTML render) for a mix of views: the default order, each filter, each sort,
the grid, and a deep keyset page. Reports p50/p95 per view and over all requests; the target is
p95 < 300 ms on both databases. PostgreSQL is a throwaway server from Debian's binaries (as the
review tests start one); it is skipped, and said so, when they are absent.

    .venv/bin/python benchmarks/review_queue.py            # 100,000 items, both databases
    .venv/bin/python benchmarks/review_queue.py --items 20000 --repeats 5
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from benchmarks.common import machine, machine_markdown, write_results  # noqa: E402
from moderation.review import schema  # noqa: E402
from moderation.review.api import create_app  # noqa: E402
from moderation.review.auth import Auth  # noqa: E402
from moderation.review.settings import ReviewSettings  # noqa: E402
from moderation.review.store import ReviewStore  # noqa: E402

TARGET_P95_MS = 300.0
CATEGORIES = ("gambling", "vulgar", "tipping_inducement", "synthetic_unlabeled", "minors", "tipping_abnormal")
SEVERITIES = ("low", "medium", "high", "critical")
SUBJECTS = ("streamer", "streamer", "streamer", "viewer", "room")
VIEWS: dict[str, str] = {
    "default": "/",
    "grid": "/?view=grid",
    "category": "/?category=gambling",
    "severity": "/?severity=critical",
    "subject": "/?subject=viewer",
    "tier": "/?tier=2",
    "age": "/?age=24h",
    "sort_newest": "/?sort=newest",
    "sort_tier": "/?sort=tier",
    "sort_score": "/?sort=score",
    "combined": "/?category=vulgar&severity=high&subject=streamer&sort=oldest",
}


def _rows(n: int, now: float, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(n):
        stream = f"room{i % 700:04d}"
        cat = CATEGORIES[rng.randrange(len(CATEGORIES))]
        sev = SEVERITIES[min(3, int(rng.expovariate(1.2)))]
        start = float((i // 700) * 30 + rng.randrange(20))
        created = now - rng.uniform(0, 14 * 86400)
        decided = rng.random() < 0.2
        term = ("百家乐", "加微信", "下注", "casino", "刷礼物")[i % 5]
        record = {
            "stream": stream,
            "category": cat,
            "severity": sev,
            "score": round(rng.uniform(0.5, 1.0), 3),
            "start": start,
            "end": start + 6.5,
            "signals": [
                {
                    "kind": "asr.keyword",
                    "t": start + 1.0,
                    "term": term,
                    "text": f"现在开始{term}了",
                    "span": [4, 4 + len(term)],
                },
                {
                    "kind": "ocr.keyword",
                    "t": start + 2.0,
                    "term": term,
                    "text": f"立即{term}",
                    "box": [40, 30, 120, 40],
                },
            ],
            "clip": None,
            "thumbnails": [],
            "model_versions": {"asr": "whisper-base"},
        }
        yield {
            "stream": stream,
            "streamer": f"anchor{i % 500:04d}",
            "category": cat,
            "window_ms": round(start * 1000) + i,  # unique per row
            "severity": sev,
            "severity_rank": schema.SEVERITY_RANK[sev],
            "score": record["score"],
            "t_start": start,
            "t_end": start + 6.5,
            "wallclock_start": None,
            "record": record,
            "record_hash": f"{i:064x}",
            "clip_path": None,
            "thumb_paths": ["x/thumb.jpg"],
            "media_purged_at": None,
            "status": rng.choice(("confirmed", "dismissed")) if decided else "open",
            "claimed_by": None,
            "lease_until": None,
            "decision_category": None,
            "decided_by": "bench" if decided else None,
            "decided_at": now if decided else None,
            "note": None,
            "created_at": created,
            "updated_at": created,
            "revision": 0,
            "subject": SUBJECTS[i % len(SUBJECTS)],
            "trigger_term": term,
            "tier": (i % 500) % 4,
            "violation_key": None,
            "sub_label": None,
        }


def fill(store: ReviewStore, n: int, seed: int = 7) -> float:
    """Bulk-insert ``n`` items; returns seconds taken."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    batch: list[dict[str, Any]] = []
    with store.engine.begin() as conn:
        for row in _rows(n, store.clock(), rng):
            batch.append(row)
            if len(batch) == 5000:
                conn.execute(sa.insert(schema.items), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(schema.items), batch)
    with store.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    return time.perf_counter() - t0


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def measure(url: str, media: Path, n: int, repeats: int) -> dict[str, Any]:
    settings = ReviewSettings(queue_url=url, media_dir=media)
    store = ReviewStore.open(settings)
    fill_s = fill(store, n)
    auth = Auth(store.engine)
    token = auth.ensure_admin() or auth.create_token("admin")
    per: dict[str, list[float]] = {}
    with TestClient(create_app(settings, store=store), follow_redirects=False) as client:
        login = client.get("/login")
        csrf = login.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        r = client.post("/login", data={"csrf_token": csrf, "token": token, "next": "/"})
        assert r.status_code == 303, r.text
        views = dict(VIEWS)
        nxt = "/"
        for _ in range(50):  # follow "More…" 50 pages deep (5,000 items in) for a deep keyset page
            page = client.get(nxt).text
            if 'id="more"' not in page:
                break
            nxt = page.split('id="more"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        views["deep_keyset_page"] = nxt
        for name, path in views.items():  # warm-up
            assert client.get(path).status_code == 200, (name, path)
        for _ in range(repeats):
            for name, path in views.items():
                t0 = time.perf_counter()
                r = client.get(path)
                per.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200
    store.engine.dispose()
    every = [x for xs in per.values() for x in xs]
    return {
        "items": n,
        "fill_s": round(fill_s, 1),
        "requests": len(every),
        "p50_ms": round(statistics.median(every), 1),
        "p95_ms": round(_pct(every, 95), 1),
        "max_ms": round(max(every), 1),
        "views": {
            k: {"p50_ms": round(statistics.median(v), 1), "p95_ms": round(_pct(v, 95), 1)} for k, v in per.items()
        },
        "meets_target": _pct(every, 95) < TARGET_P95_MS,
    }


@contextmanager
def postgres() -> Iterator[tuple[str, str] | None]:
    """A throwaway PostgreSQL server: ``(url, version)``, or ``None`` when not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        yield None
        return
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = root / "data"

    def run(*a: str) -> str:
        return subprocess.run([*prefix, *a], check=True, capture_output=True, text=True).stdout

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "-t", "60", "start")
    try:
        version = run(str(bindir / "postgres"), "--version").strip()
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", version
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=10, help="requests per view")
    ap.add_argument("--out", type=Path, default=None, help="results folder (default benchmarks/results)")
    args = ap.parse_args()
    import sqlite3

    results: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-review-"))
    try:
        results["sqlite"] = measure(f"sqlite:///{tmp / 'queue.db'}", tmp / "media", args.items, args.repeats)
        results["sqlite"]["version"] = sqlite3.sqlite_version
        print("sqlite", {k: v for k, v in results["sqlite"].items() if k != "views"}, flush=True)
        with postgres() as pg:
            if pg is None:
                results["postgresql"] = {"skipped": "PostgreSQL binaries not installed"}
            else:
                results["postgresql"] = measure(pg[0], tmp / "media-pg", args.items, args.repeats)
                results["postgresql"]["version"] = pg[1]
                print("postgresql", {k: v for k, v in results["postgresql"].items() if k != "views"}, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    m = machine(sqlalchemy=sa.__version__)
    md = [
        "# Review queue page latency",
        "",
        f"{args.items:,} items (a fifth decided), {args.repeats} requests per view, full HTML render of `GET /` "
        "through the FastAPI app in-process (session cookie, 100 rows per page). Target: p95 < 300 ms.",
        "",
        "| database | version | fill s | requests | p50 ms | p95 ms | max ms | p95 < 300 ms |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for db, r in results.items():
        if "skipped" in r:
            md.append(f"| {db} | — | — | — | — | — | — | skipped: {r['skipped']} |")
            continue
        md.append(
            f"| {db} | {r['version']} | {r['fill_s']} | {r['requests']} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r['max_ms']} | {'yes' if r['meets_target'] else 'NO'} |"
        )
    md += [
        "",
        "Per view (p50 / p95 ms):",
        "",
        "| view | " + " | ".join(results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for view in [*VIEWS, "deep_keyset_page"]:
        cells = []
        for r in results.values():
            v = r.get("views", {}).get(view)
            cells.append(f"{v['p50_ms']} / {v['p95_ms']}" if v else "—")
        md.append(f"| {view} | " + " | ".join(cells) + " |")
    md += ["", "Machine:", "", *machine_markdown(m)]
    write_results("review_queue", {"results": results, "machine": m}, md, args.out)
    print("\n".join(md))


if __name__ == "__main__":
    main()
