"""Governance at the control API and in its poll loop, over an in-memory governance source: bans
refuse publishes, standings and explicit profiles steer new streams, changed standings re-steer
running ones, pending warn/cut actions reach the origin and their outcomes go back to the source."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from governance import MemoryGovernance

from moderation.config import EnforcementConfig, PipelineConfig
from moderation.pipeline.enforce import Enforcer
from moderation.pipeline.status import Steering, StreamSpec, StreamStatus
from moderation.service.api import create_app
from moderation.service.governance import GovernanceLoop

CFG = PipelineConfig.model_validate({"live": {"allow_networks": ["127.0.0.0/8"], "governance_poll_s": 60}})
FORM = {"call": "publish", "app": "live", "name": "room1", "tcurl": "rtmp://127.0.0.1:1935/live"}


class SteeredPool:
    """Records what it was asked to start and re-steer (the API and loop are under test)."""

    def __init__(self) -> None:
        self.streams: dict[str, StreamSpec] = {}
        self.steered: list[tuple[str, Steering]] = []

    async def add(self, spec: StreamSpec) -> StreamStatus:
        self.streams[spec.stream_id] = spec
        return await self._status(spec)

    async def _status(self, spec: StreamSpec) -> StreamStatus:
        st = spec.steering
        return StreamStatus(
            spec.stream_id, spec.url, "live", app=spec.app, name=spec.name, tier=st.tier if st else None
        )

    async def remove(self, stream_id: str, timeout: float = 15.0) -> StreamStatus | None:
        spec = self.streams.pop(stream_id, None)
        return replace(await self._status(spec), state="ended") if spec else None

    async def list_streams(self) -> list[StreamStatus]:
        return [await self._status(s) for s in self.streams.values()]

    async def status(self, stream_id: str) -> StreamStatus | None:
        spec = self.streams.get(stream_id)
        return await self._status(spec) if spec else None

    async def metrics(self) -> bytes:
        return b""

    async def reconfigure(self, stream_id: str, steering: Steering) -> StreamStatus | None:
        spec = self.streams.get(stream_id)
        if spec is None:
            return None
        self.steered.append((stream_id, steering))
        self.streams[stream_id] = replace(spec, steering=steering)
        return await self._status(self.streams[stream_id])


def _client(pool: SteeredPool, gov: MemoryGovernance | None, cfg: PipelineConfig = CFG) -> TestClient:
    return TestClient(create_app(pool, cfg, governance=gov))


def test_banned_streamer_is_refused_at_publish_with_the_reason() -> None:
    pool, gov = SteeredPool(), MemoryGovernance()
    gov.set_standing("room1", tier=3, profile="strict", sampling=3.0)
    gov.ban("room1", time.time() + 3600, "gambling ads, third strike")
    with _client(pool, gov) as client:
        r = client.post("/hooks/nginx/on_publish", data=FORM)
        assert r.status_code == 403 and "banned" in r.text and "third strike" in r.text
        r = client.post("/hooks/publish", json={"event": "publish", "url": "rtmp://127.0.0.1/live/room1"})
        assert r.status_code == 403 and "third strike" in r.text
        assert pool.streams == {}  # nothing started
        # An operator may still watch the streamer (the ban governs publishing, not watching).
        assert client.post("/streams", json={"url": "rtmp://127.0.0.1/live/room1"}).status_code == 201
    assert pool.streams["room1"].steering == Steering("strict", 3.0, 3, gov.standing("room1", 0).changed_at)
    # A restarted service (a new app and pool) reads the same ban from the source.
    pool = SteeredPool()
    with _client(pool, gov) as client:
        assert client.post("/hooks/nginx/on_publish", data=FORM).status_code == 403
    assert pool.streams == {}


def test_expired_ban_lets_the_publish_through_with_the_standing() -> None:
    pool, gov = SteeredPool(), MemoryGovernance()
    gov.set_standing("room1", tier=2, profile="strict", sampling=2.0)
    gov.ban("room1", time.time() - 1, "served")
    with _client(pool, gov) as client:
        assert client.post("/hooks/nginx/on_publish", data=FORM).status_code == 200
    st = pool.streams["room1"].steering
    assert st is not None and (st.profile, st.sampling, st.tier, st.pinned) == ("strict", 2.0, 2, False)


def test_explicit_profile_is_checked_and_pinned() -> None:
    pool, gov = SteeredPool(), MemoryGovernance()
    gov.set_standing("room1", tier=1, profile="default", sampling=1.5)
    with _client(pool, gov) as client:
        r = client.post("/streams", json={"url": "rtmp://127.0.0.1/live/room1", "profile": "nope"})
        assert r.status_code == 400 and "unknown profile 'nope'" in r.text and "strict" in r.text
        r = client.post(
            "/hooks/publish", json={"event": "publish", "url": "rtmp://127.0.0.1/live/x", "profile": "../x"}
        )
        assert r.status_code == 400 and "known profiles" in r.text
        r = client.post("/hooks/nginx/on_publish", data={**FORM, "profile": "nope"})
        assert r.status_code == 400 and "known profiles" in r.text
        assert pool.streams == {}
        # the hook URL's query (the origin's config) wins; first value only
        r = client.post("/hooks/nginx/on_publish?profile=strict&profile=fast_en", data={**FORM, "profile": "nope"})
        assert r.status_code == 200, r.text
    st = pool.streams["room1"].steering
    assert st is not None and (st.profile, st.sampling, st.tier, st.pinned) == ("strict", 1.5, 1, True)


def test_without_a_source_an_explicit_profile_still_applies() -> None:
    pool = SteeredPool()
    with _client(pool, None) as client:
        assert client.post("/hooks/nginx/on_publish", data={**FORM, "profile": "strict"}).status_code == 200
        assert client.post("/streams", json={"url": "rtmp://127.0.0.1/live/other"}).status_code == 201
    assert pool.streams["room1"].steering == Steering("strict", pinned=True)
    assert pool.streams["other"].steering is None


def test_unreachable_source_fails_open_or_closed() -> None:
    pool, gov = SteeredPool(), MemoryGovernance()
    gov.fail_reads = True
    with _client(pool, gov) as client:
        assert client.post("/hooks/nginx/on_publish", data=FORM).status_code == 200
    assert pool.streams["room1"].steering is None
    closed = CFG.model_copy(update={"live": CFG.live.model_copy(update={"hooks_fail_closed": True})})
    pool = SteeredPool()
    with _client(pool, gov, closed) as client:
        r = client.post("/hooks/nginx/on_publish", data=FORM)
        assert r.status_code == 503 and "governance source unavailable" in r.text
    assert pool.streams == {}


# ---------------------------------------------------------------------- the poll loop
SEEN: list[str] = []


class _Origin(BaseHTTPRequestHandler):
    def _reply(self) -> None:
        SEEN.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("content-length", "1")
        self.end_headers()
        self.wfile.write(b"1")

    do_GET = do_POST = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def control() -> Iterator[str]:
    SEEN.clear()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()


def test_loop_resteers_running_streams_of_changed_standings() -> None:
    async def go() -> None:
        pool, gov = SteeredPool(), MemoryGovernance()
        await pool.add(StreamSpec("room1", "rtmp://127.0.0.1/live/room1", "live", "room1"))
        await pool.add(StreamSpec("pinned", "rtmp://127.0.0.1/live/pinned", steering=Steering("fast_en", pinned=True)))
        loop = GovernanceLoop(pool, gov, Enforcer(EnforcementConfig()), 60)
        assert (await loop.poll_once()).steered == []  # nothing changed yet
        gov.set_standing("room1", tier=2, profile="strict", sampling=2.0)
        gov.set_standing("gone", tier=3, profile="strict", sampling=3.0)  # not running: nothing to do
        assert (await loop.poll_once()).steered == ["room1"]
        assert pool.steered[-1] == ("room1", Steering("strict", 2.0, 2, gov.standing("room1", 0).changed_at))
        assert (await loop.poll_once()).steered == []  # the cursor moved on
        gov.set_standing("room1", profile="no-such-preset")  # the store names a profile this pool lacks
        await loop.poll_once()
        assert pool.steered[-1][1].profile is None  # the pool's own pipeline, logged
        gov.set_standing("pinned", tier=1, profile="default", sampling=1.5)
        assert (await loop.poll_once()).steered == ["pinned"]

    asyncio.run(go())


def test_loop_carries_out_actions_and_reports_each_outcome(control: str) -> None:
    async def go() -> None:
        pool, gov = SteeredPool(), MemoryGovernance(max_attempts=2)
        await pool.add(StreamSpec("room1", "rtmp://127.0.0.1/live/room1", "live", "room1"))
        await pool.add(StreamSpec("nokey", "http://127.0.0.1/x.m3u8"))  # origin app/name unknown
        cut = gov.add_action("cut", "room1")
        warn = gov.add_action("warn", "room1", reason="second warning")
        gone = gov.add_action("cut", "left-already")
        blind = gov.add_action("cut", "nokey")
        cfg = EnforcementConfig(control_url=f"{control}/control", warn_webhook=f"{control}/warn")  # enabled=False
        loop = GovernanceLoop(pool, gov, Enforcer(cfg), 60)
        report = await loop.poll_once()
        by_id = {a: (ok, detail) for a, ok, detail in report.actions}
        assert by_id[cut][0] and "drop/publisher?app=live&name=room1" in by_id[cut][1]
        assert by_id[warn][0] and by_id[gone] == (True, "not live")
        assert by_id[blind][0] is False and "app/name unknown" in by_id[blind][1]
        assert "GET /control/drop/publisher?app=live&name=room1" in SEEN and "POST /warn" in SEEN
        assert [(o.action_id, o.ok) for o in gov.outcomes] == [(cut, True), (warn, True), (gone, True), (blind, False)]
        assert gov.pending_ids() == [blind]  # the failure stays pending at the source and is retried
        await loop.poll_once()
        assert gov.pending_ids() == [] and [o.ok for o in gov.outcomes if o.action_id == blind] == [False, False]

    asyncio.run(go())


def test_loop_survives_an_unreachable_origin_and_store() -> None:
    async def go() -> None:
        pool, gov = SteeredPool(), MemoryGovernance()
        await pool.add(StreamSpec("room1", "rtmp://127.0.0.1/live/room1", "live", "room1"))
        aid = gov.add_action("cut", "room1")
        loop = GovernanceLoop(pool, gov, Enforcer(EnforcementConfig(control_url="http://127.0.0.1:9/c")), 0.01)
        report = await loop.poll_once()
        assert report.actions[0][0] == aid and report.actions[0][1] is False
        assert "Error" in report.actions[0][2] or "refused" in report.actions[0][2].lower()
        gov.fail_reads = True
        task = asyncio.create_task(loop.run())  # a failing poll is logged; the loop goes on
        await asyncio.sleep(0.1)
        assert not task.done()
        gov.fail_reads = False
        await asyncio.sleep(0.1)
        task.cancel()
        assert loop.polls >= 2

    asyncio.run(go())
