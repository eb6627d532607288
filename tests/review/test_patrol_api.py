"""The patrol wall over real HTTP (uvicorn): the SSE endpoint needs credentials, its first event
arrives at once, a change is pushed without asking, walls are capped and a closed one is dropped,
and the pool is asked once per interval however many walls are open. The page is behind the login.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from review_factories import free_port, serve, verdict

from moderation.config import PatrolConfig
from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore


class FakePool:
    """Stands in for the pool's control API; counts how often it is asked."""

    def __init__(self) -> None:
        self.calls = 0

    async def fetch(self) -> list[dict[str, Any]]:
        self.calls += 1
        return [{"stream": "cam-9", "state": "live", "lag_s": 0.2, "url": "rtmp://o/live/cam-9"}]

    async def aclose(self) -> None:
        pass


@dataclass
class Env:
    base: str
    store: ReviewStore
    app: Any
    auth: dict[str, str]
    pool: FakePool


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    patrol = PatrolConfig(refresh_s=0.5, check_s=0.1, max_clients=2)
    settings = ReviewSettings(queue_url=f"sqlite:///{tmp_path / 'q.db'}", patrol=patrol)
    store = ReviewStore.open(settings)
    store.upsert_verdict(verdict(stream="s1", violation_id="s1#1", provisional=True, start=4.0, end=5.0))
    token = Auth(store.engine).ensure_admin()
    assert token
    app = create_app(settings, store=store)
    app.state.patrol_source = pool = FakePool()
    with serve(app, free_port()) as base:
        yield Env(base, store, app, {"Authorization": f"Bearer {token}"}, pool)
    store.engine.dispose()


def events(resp: httpx.Response) -> Iterator[dict[str, Any]]:
    """Snapshots from an open ``text/event-stream`` response."""
    name, data = None, []
    for line in resp.iter_lines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].strip())
        elif line == "" and data:
            assert name == "snapshot"
            yield json.loads("\n".join(data))
            name, data = None, []


def wait_for(cond: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_events_need_credentials(env: Env) -> None:
    r = httpx.get(f"{env.base}/api/patrol/events", timeout=5)
    assert r.status_code == 401 and "authentication required" in r.json()["detail"]
    r = httpx.get(f"{env.base}/api/patrol/events", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert r.status_code == 401
    assert httpx.get(f"{env.base}/api/patrol", timeout=5).status_code == 401
    page = httpx.get(f"{env.base}/patrol", timeout=5)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=%2Fpatrol")


def test_first_event_at_once_then_changes_are_pushed(env: Env) -> None:
    t0 = time.monotonic()
    with httpx.stream("GET", f"{env.base}/api/patrol/events", headers=env.auth, timeout=10) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        it = events(resp)
        first = next(it)
        assert time.monotonic() - t0 < 5
        names = [t["stream"] for t in first["streams"]]
        assert "s1" in names and "cam-9" in names and first["pool"]["ok"] is True
        assert next(t for t in first["streams"] if t["stream"] == "s1")["in_pool"] is False
        env.store.upsert_verdict(verdict(stream="s2", violation_id="s2#1", provisional=True, start=1.0, end=2.0))
        t1 = time.monotonic()
        for snap in it:
            if any(t["stream"] == "s2" for t in snap["streams"]):
                break
        else:
            pytest.fail("the stream ended before the new stream was pushed")
        assert time.monotonic() - t1 < 5


def test_walls_are_capped_and_a_closed_one_is_dropped(env: Env) -> None:
    url = f"{env.base}/api/patrol/events"
    with (
        httpx.stream("GET", url, headers=env.auth, timeout=10) as a,
        httpx.stream("GET", url, headers=env.auth, timeout=10) as b,
    ):
        walls = [events(a), events(b)]  # kept: dropping an httpx line iterator closes its connection
        assert all(next(w)["streams"] for w in walls)
        hub = env.app.state.patrol_hub
        assert hub.clients == 2
        with httpx.stream("GET", url, headers=env.auth, timeout=5) as full:  # a stream: a 200 would not end
            assert full.status_code == 503 and "max_clients" in json.loads(full.read())["detail"]
        calls, t = env.pool.calls, time.monotonic()
        time.sleep(1.6)
        # one pool request per refresh_s (0.5 s) for both walls, not one per wall
        assert env.pool.calls - calls <= (time.monotonic() - t) / 0.5 + 1
    wait_for(lambda: hub.clients == 0)
    with httpx.stream("GET", url, headers=env.auth, timeout=10) as c:  # room again
        assert c.status_code == 200 and next(events(c))["streams"]


def test_snapshot_json_and_page_for_a_logged_in_reviewer(env: Env) -> None:
    snap = httpx.get(f"{env.base}/api/patrol", headers=env.auth, timeout=5).json()
    assert {t["stream"] for t in snap["streams"]} == {"s1", "cam-9"}
    with httpx.Client(base_url=env.base, timeout=5) as browser:
        login = browser.get("/login")
        csrf = login.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        token = Auth(env.store.engine).create_token("admin")
        browser.post("/login", data={"csrf_token": csrf, "token": token, "next": "/patrol"})
        page = browser.get("/patrol")
        assert page.status_code == 200 and "巡查墙" in page.text and 'id="nav-patrol"' in page.text
        labels = json.loads(page.text.split("data-labels='", 1)[1].split("'", 1)[0])
        assert 'data-events="/api/patrol/events"' in page.text and labels["values"]["gambling"] == "赌博"
        with browser.stream("GET", "/api/patrol/events") as resp:  # the session cookie is enough
            assert resp.status_code == 200 and next(events(resp))["streams"]
