"""The patrol wall's snapshot builder: the store's view alone, and merged with the pool's statuses
(a fake status list, and the real control API served over HTTP). SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from review_factories import Clock, free_port, serve, verdict

from moderation.config import PatrolConfig
from moderation.review.patrol import HttpPoolStatus, PoolUnavailable, PoolView, build_snapshot, health
from moderation.review.store import ReviewStore

CFG = PatrolConfig()


def live(stream: str, vid: str, **over: Any) -> dict[str, Any]:
    """A provisional (live, still open) verdict as the pipeline's sink writes it."""
    return verdict(stream=stream, violation_id=vid, provisional=True, **over)


def pool_status(stream: str, state: str = "live", lag_s: float = 0.4, **over: Any) -> dict[str, Any]:
    return {"stream": stream, "url": f"rtmp://origin/live/{stream}", "state": state, "lag_s": lag_s, **over}


def by_name(snap: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["stream"]: t for t in snap["streams"]}


def test_store_only_groups_open_provisional_items_by_stream(
    store: ReviewStore, clock: Clock, evidence: Callable[..., tuple[str, list[str]]], tmp_path: Path
) -> None:
    _clip, thumbs = evidence("s1/live")
    rec = live("s1", "s1#1", start=10.0, end=11.0, severity="medium", thumbnails=thumbs)
    a = store.upsert_verdict(rec, bases=[tmp_path / "scan"])
    clock.advance(1)
    b = store.upsert_verdict(live("s1", "s1#2", start=30.0, end=31.0, category="vulgar", severity="critical"))
    store.upsert_verdict(live("s2", "s2#1", start=5.0, end=6.0, severity="low"))
    store.upsert_verdict(verdict(stream="s3", start=1.0))  # final, not live: not on the wall
    decided = store.upsert_verdict(live("s4", "s4#1", start=2.0, end=3.0))
    store.decide(decided.item_id, "ann", "confirm")  # decided: no longer an open alert

    snap = build_snapshot(store, CFG)
    tiles = by_name(snap)
    assert set(tiles) == {"s1", "s2"} and snap["pool"] == {"configured": False, "ok": False, "error": None}
    s1 = tiles["s1"]
    assert [x["id"] for x in s1["alerts"]] == [b.item_id, a.item_id]  # newest first
    assert s1["newest"] == b.item_id and s1["alerts"][0]["category"] == "vulgar"
    # the newest item has no thumbnail: the tile shows the latest one the stream has
    assert s1["thumb"] == f"/api/items/{a.item_id}/thumbnails/0?r=0"
    assert s1["health"] == "unknown" and s1["in_pool"] is None and s1["lag_s"] is None
    assert [t["stream"] for t in snap["streams"]] == ["s1", "s2"]  # worst alert first (critical > low)
    assert tiles["s2"]["thumb"] is None

    # The final record of s1#2 replaces the provisional one in place: it leaves the wall's alerts.
    store.upsert_verdict(verdict(stream="s1", violation_id="s1#2", start=30.0, end=40.0, category="vulgar"))
    assert [x["id"] for x in by_name(build_snapshot(store, CFG))["s1"]["alerts"]] == [a.item_id]

    # Provisional items nobody updated within live_window_s are not live any more.
    clock.advance(CFG.live_window_s + 5)
    assert build_snapshot(store, CFG)["streams"] == []


def test_snapshot_is_stable_and_cut_at_max_streams(store: ReviewStore) -> None:
    for i in range(5):
        store.upsert_verdict(live(f"s{i}", f"v{i}", start=float(i)))
    cfg = PatrolConfig(max_streams=3, max_alerts=1)
    snap = build_snapshot(store, cfg)
    assert len(snap["streams"]) == 3 and snap["hidden"] == 2
    assert snap == build_snapshot(store, cfg)  # nothing time-dependent: unchanged data, equal snapshots
    store.upsert_verdict(live("s0", "v0b", start=50.0))
    s0 = next(t for t in build_snapshot(store, cfg)["streams"] if t["stream"] == "s0")
    assert len(s0["alerts"]) == 1 and s0["more"] == 1


def test_tier_and_profile_come_from_the_streamers_risk(store: ReviewStore) -> None:
    for i in range(3):  # three confirmed high violations raise the streamer's tier
        done = store.upsert_verdict(verdict(stream="old", streamer="zed", start=100.0 + 10 * i))
        store.decide(done.item_id, "ann", "confirm")
    tier = store.streamer_risk("zed").tier
    assert tier >= 2
    store.upsert_verdict(live("new", "n#1", streamer="zed", start=1.0))
    tile = by_name(build_snapshot(store, CFG))["new"]
    assert (tile["streamer"], tile["tier"], tile["profile"]) == ("zed", tier, "strict")
    # a profile the pool reports wins over the default mapping
    pool = PoolView(True, (pool_status("new", profile="night-shift"),))
    assert by_name(build_snapshot(store, CFG, pool))["new"]["profile"] == "night-shift"


def test_pool_statuses_merge_with_the_store(store: ReviewStore) -> None:
    store.upsert_verdict(live("s1", "s1#1", start=3.0))
    store.upsert_verdict(live("gone", "g#1", start=3.0))
    pool = PoolView(
        True,
        (
            pool_status("s1", lag_s=0.3, frames_dropped=2),
            pool_status("calm", lag_s=9.0),
            pool_status("broken", state="error", error="decoder died"),
            {"state": "live"},  # no stream id: ignored
            pool_status("weird", state="exploding", lag_s="fast"),  # garbage typed away, not failed on
        ),
    )
    snap = build_snapshot(store, CFG, pool)
    tiles = by_name(snap)
    assert snap["pool"] == {"configured": True, "ok": True, "error": None}
    assert set(tiles) == {"s1", "calm", "broken", "gone", "weird"}
    assert (tiles["s1"]["health"], tiles["s1"]["lag_s"], tiles["s1"]["dropped"], tiles["s1"]["in_pool"]) == (
        "ok",
        0.3,
        2.0,
        True,
    )
    assert tiles["calm"]["health"] == "lagging" and tiles["calm"]["alerts"] == [] and tiles["calm"]["newest"] is None
    assert (tiles["broken"]["health"], tiles["broken"]["error"]) == ("error", "decoder died")
    assert tiles["gone"]["in_pool"] is False  # alerting, but the pool no longer watches it
    assert (tiles["weird"]["state"], tiles["weird"]["lag_s"], tiles["weird"]["health"]) == (None, None, "unknown")

    down = build_snapshot(store, CFG, PoolView(True, (), "pool unreachable: ConnectError"))
    assert down["pool"] == {"configured": True, "ok": False, "error": "pool unreachable: ConnectError"}
    assert {t["stream"] for t in down["streams"]} == {"s1", "gone"}
    assert all(t["in_pool"] is None for t in down["streams"])  # unknown while the pool cannot say


def test_health_words() -> None:
    assert health(None, CFG) == "unknown"
    assert health(pool_status("a", lag_s=CFG.lag_warn_s + 1), CFG) == "lagging"
    assert health(pool_status("a", task_failure="ocr died"), CFG) == "degraded"
    assert health(pool_status("a", state="reconnecting"), CFG) == "reconnecting"


def test_config_refuses_bad_values() -> None:
    with pytest.raises(ValidationError, match="pool_url"):
        PatrolConfig(pool_url="ftp://pool")
    with pytest.raises(ValidationError, match="extra"):
        PatrolConfig.model_validate({"pool_ulr": "http://x"})
    with pytest.raises(ValidationError, match="refresh_s"):
        PatrolConfig(refresh_s=0)
    assert PatrolConfig(pool_url="http://127.0.0.1:8080/").pool_url == "http://127.0.0.1:8080"


class _FakePool:
    """The control API's pool interface with fixed statuses (the real API serves it over HTTP)."""

    def __init__(self, statuses: list[Any]) -> None:
        self.statuses = statuses

    async def list_streams(self) -> list[Any]:
        return self.statuses


def test_http_source_reads_the_real_control_api_with_its_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from moderation.config import PipelineConfig
    from moderation.pipeline.status import StreamStatus
    from moderation.service.api import create_app

    monkeypatch.delenv("MODERATION_API_TOKEN", raising=False)
    monkeypatch.delenv("MODERATION_POOL_TOKEN", raising=False)
    statuses = [StreamStatus("s1", "rtmp://origin/live/s1", "live", media_t=12.0, lag_s=0.7)]
    app = create_app(_FakePool(statuses), PipelineConfig(), token="pool-secret")  # type: ignore[arg-type]
    with serve(app, free_port()) as base:

        async def fetch(cfg: PatrolConfig) -> list[dict[str, Any]]:
            src = HttpPoolStatus(cfg)
            try:
                return await src.fetch()
            finally:
                await src.aclose()

        got = asyncio.run(fetch(PatrolConfig(pool_url=base, pool_token="pool-secret")))
        assert [(s["stream"], s["state"], s["lag_s"]) for s in got] == [("s1", "live", 0.7)]
        monkeypatch.setenv("MODERATION_POOL_TOKEN", "pool-secret")  # the token from the environment
        assert len(asyncio.run(fetch(PatrolConfig(pool_url=base)))) == 1
        with pytest.raises(PoolUnavailable, match="401"):
            asyncio.run(fetch(PatrolConfig(pool_url=base, pool_token="wrong")))
    with pytest.raises(PoolUnavailable, match="unreachable"):
        asyncio.run(fetch(PatrolConfig(pool_url=base, pool_token="pool-secret", pool_timeout_s=1)))


def test_review_cli_takes_the_pool_url_and_refuses_a_bad_one(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from moderation.review.cli import _with_pool, review_app
    from moderation.review.settings import ReviewSettings

    db = tmp_path / "q.db"
    r = CliRunner().invoke(review_app, ["serve", "--queue", f"sqlite:///{db}", "--pool", "ftp://pool:21"])
    assert r.exit_code == 2 and "--pool" in r.output and "http://host:port" in r.output
    assert "Traceback" not in r.output and not db.exists()  # refused before the queue was touched
    got = _with_pool(ReviewSettings(), "http://10.0.0.5:8080/")
    assert got.patrol.pool_url == "http://10.0.0.5:8080" and got.patrol.refresh_s == PatrolConfig().refresh_s


class _BrokenPool:
    """A pool source that fails in a way it was not written for."""

    async def fetch(self) -> list[dict[str, Any]]:
        raise RuntimeError("boom")

    async def aclose(self) -> None:
        pass


def test_hub_keeps_one_pending_snapshot_per_wall_and_survives_a_failing_pool(tmp_path: Path) -> None:
    from moderation.review.patrol_hub import PatrolHub
    from moderation.review.settings import ReviewSettings

    store = ReviewStore.open(ReviewSettings(queue_url=f"sqlite:///{tmp_path / 'q.db'}"))
    cfg = PatrolConfig(refresh_s=0.2, check_s=0.05)

    async def scenario() -> tuple[str | None, int, int]:
        hub = PatrolHub(store, cfg, _BrokenPool())
        slow = hub.subscribe()  # a wall that never reads
        for i in range(4):  # four changes while it sleeps
            await asyncio.to_thread(store.upsert_verdict, live(f"s{i}", f"v{i}", start=1.0))
            await asyncio.sleep(0.15)
        pending = slow.data
        clients = hub.clients
        hub.unsubscribe(slow)
        await hub.close()
        return pending, clients, hub.clients

    pending, clients, after = asyncio.run(scenario())
    assert pending is not None and clients == 1 and after == 0
    snap = json.loads(pending)  # only the newest snapshot is held: all four streams, the pool's failure named
    assert {t["stream"] for t in snap["streams"]} == {"s0", "s1", "s2", "s3"}
    assert snap["pool"] == {"configured": True, "ok": False, "error": "pool status failed: RuntimeError"}
    store.engine.dispose()
