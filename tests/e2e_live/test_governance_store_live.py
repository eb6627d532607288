"""The whole governance loop through the review store, on a real nginx-rtmp origin: a reviewer
confirms a live stream's items in the review API → within seconds the running stream is re-steered
to its new tier (denser vision sampling, reported in its status); a ban's cut is carried out at
the origin and recorded on the item, the streamer's next publish is refused while
the ban lasts and accepted after it expires.

The pool reads the store only through :class:`moderation.review.governance.StoreGovernance`, as
``moderation serve --queue URL`` wires it (SQLite here; the store's governance tests cover
PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import FakeClients
from fastapi.testclient import TestClient
from origin import Broadcaster, Origin, free_port, hooked_origin, serving

from moderation.cli.live import governance_source
from moderation.config import PipelineConfig
from moderation.pipeline.pool import LocalPool
from moderation.review.api import create_app as review_app
from moderation.review.auth import Auth
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore
from moderation.service.api import create_app

pytestmark = pytest.mark.origin


@dataclass
class Stack:
    api: str
    origin: Origin
    store: ReviewStore
    review: TestClient
    token: str


def _until(fn: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if got := fn():
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("gov-store")
    queue = f"sqlite:///{tmp / 'queue.db'}"
    settings = ReviewSettings(queue_url=queue, default_lang="en")
    store = ReviewStore.open(settings)
    Auth(store.engine).create_user("ann", "reviewer")
    token = Auth(store.engine).create_token("ann")
    api_port = free_port()
    with hooked_origin(tmp, api_port) as origin:
        cfg = PipelineConfig.model_validate(
            {
                "ocr": {"gate": {"enabled": False}},
                "live": {
                    "allow_networks": ["127.0.0.0/8"],
                    "audio_window_s": 2.0,
                    "audio_overlap_s": 0.5,
                    "governance_poll_s": 0.5,
                    "enforcement": {"control_url": origin.control_url},
                },
            }
        )
        pool = LocalPool(cfg, FakeClients(ocr_span=(-2.0, -1.0)))  # no verdicts of its own
        gov = governance_source(queue, cfg)
        assert gov is not None
        with (
            serving(create_app(pool, cfg, governance=gov), api_port, lifespan="on") as api,
            TestClient(review_app(settings, store=store)) as review,
        ):
            yield Stack(api, origin, store, review, token)


def _record(start: float, severity: str) -> dict[str, Any]:
    return {
        "stream": "alice",
        "category": "gambling",
        "severity": severity,
        "score": 0.97,
        "start": start,
        "end": start + 3.0,
        "signals": [{"kind": "ocr.keyword", "t": start + 1.0, "score": 0.99, "term": "百家乐", "text": "百家乐"}],
    }


def _decide(stack: Stack, item: int, body: dict[str, Any]) -> httpx.Response:
    return stack.review.post(
        f"/api/items/{item}/decision", json=body, headers={"Authorization": f"Bearer {stack.token}"}
    )


def _status(api: str, sid: str) -> dict[str, Any] | None:
    r = httpx.get(f"{api}/streams/{sid}")
    return r.json() if r.status_code == 200 else None  # type: ignore[no-any-return]


def _gone(b: Broadcaster) -> bool:
    return b.proc is not None and b.proc.poll() is not None


def test_a_reviewers_ban_resteers_cuts_and_holds_at_the_origin(stack: Stack, broadcast_clip: Path) -> None:
    api, origin = stack.api, stack.origin
    b = Broadcaster(broadcast_clip, origin.url("alice")).start()
    try:
        _until(lambda: (s := _status(api, "alice")) and s["state"] == "live" and s["frames_in"] >= 2, 30, "live")
        before = _status(api, "alice")
        assert before is not None and (before["tier"], before["profile"], before["vision_fps"]) == (0, "default", 1.0)
        # The pool's verdicts about alice reach the queue (as its ReviewSink would post them).
        medium = stack.store.upsert_verdict(_record(1.0, "medium")).item_id
        high = stack.store.upsert_verdict(_record(10.0, "high")).item_id
        # A confirmed medium item with a warning: one tier up, re-steered live (no restart).
        assert _decide(stack, medium, {"action": "confirm", "penalty": "warn"}).status_code == 200
        after = _until(lambda: (s := _status(api, "alice")) and s["tier"] == 1 and s, 10, "the new standing")
        assert after["vision_fps"] > before["vision_fps"] and after["state"] == "live" and after["reconnects"] == 0
        # A confirmed high item with a ban: the cut drops the publisher, the ban holds at on_publish.
        ban_s = 8.0
        r = _decide(stack, high, {"action": "confirm", "penalty": "ban", "ban_days": ban_s / 86400})
        assert r.status_code == 200, r.text
        decided = time.time()
        item = high
        # The ban's cut drops the publisher at the origin, and the item records it.
        _until(lambda: _gone(b), 15, "the cut to drop ffmpeg")
        steps = _until(
            lambda: [
                e
                for e in stack.review.get(
                    f"/api/items/{item}", headers={"Authorization": f"Bearer {stack.token}"}
                ).json()["enforcement"]
                if e["action"] == "cut" and e["result"] == "done"
            ],
            10,
            "the cut's outcome on the item",
        )
        assert steps
    finally:
        b.kill()
    # While the ban lasts nginx refuses alice's publish; nothing is watched.
    b = Broadcaster(broadcast_clip, origin.url("alice")).start()
    try:
        _until(lambda: _gone(b), 20, "nginx to refuse the banned publisher")
        assert _status(api, "alice") is None or (_status(api, "alice") or {}).get("state") != "live"
    finally:
        b.kill()
    time.sleep(max(0.0, decided + ban_s - time.time()) + 0.5)
    b = Broadcaster(broadcast_clip, origin.url("alice")).start()
    try:
        st = _until(lambda: (s := _status(api, "alice")) and s["state"] == "live" and s, 30, "the publish after expiry")
        assert st["tier"] == 3 and st["profile"] == "strict"  # the tier outlives the ban
        time.sleep(1.0)
        assert not _gone(b)
    finally:
        b.kill()
