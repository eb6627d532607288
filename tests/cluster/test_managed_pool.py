"""The control API's Ray pool is the stream manager's: ``serve`` without ``--checkpoint`` runs it in
memory; stream ids, caps and removal behave as in the local pool. The manager is replaced by an
in-process stand-in here (the real one runs in tests/cluster/test_ray_live.py and
test_cluster_faults.py)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from moderation.cluster import managed_pool
from moderation.cluster.managed_pool import DuplicateStream, ManagedPool, PoolFull
from moderation.cluster.placement import Assignment, StreamRequest
from moderation.config import ClusterConfig, PipelineConfig
from moderation.pipeline.status import StreamSpec, StreamStatus


class _Call:
    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def remote(self, *args: Any) -> Any:
        async def run() -> Any:
            return self.fn(*args)

        return run()


class StandInManager:
    """What ManagedPool asks of the manager actor, with the manager's add/remove rules."""

    def __init__(self, slots: int = 8) -> None:
        self.state: dict[str, Assignment] = {}
        self.slots = slots
        self.assignments = _Call(lambda: dict(self.state))
        self.add_stream = _Call(self._add)
        self.remove_stream = _Call(self._remove)
        self.status = _Call(self._status)

    def _add(self, req: StreamRequest) -> Assignment:
        running = sum(1 for a in self.state.values() if a.state == "running")
        a = Assignment(
            req,
            state="running" if running < self.slots else "pending",
            last_error=None if running < self.slots else "no node with a free stream slot",
        )
        self.state[req.stream_id] = a
        return a

    def _remove(self, sid: str) -> Assignment | None:
        a = self.state.get(sid)
        if a is not None:
            self.state[sid] = replace(a, state="stopped")
        return self.state.get(sid)

    def _status(self, sid: str) -> StreamStatus | None:
        a = self.state.get(sid)
        return StreamStatus(stream=sid, url=a.request.url, state="live") if a and a.state == "running" else None


def _pool(max_streams: int = 64, slots: int = 8) -> tuple[ManagedPool, StandInManager]:
    cfg = PipelineConfig.model_validate({"live": {"max_streams": max_streams}})
    pool = ManagedPool(ClusterConfig(queue_url="sqlite:///q.db"), cfg)
    mgr = StandInManager(slots)
    pool._mgr = mgr  # type: ignore[assignment]
    return pool, mgr


def test_in_memory_pool_has_a_manager_of_its_own() -> None:
    pool, _ = _pool()
    assert pool.settings.in_memory and pool.settings.name.startswith("stream-manager-")
    kept = ManagedPool(ClusterConfig(checkpoint="/shared/m.sqlite"), PipelineConfig())
    assert kept.settings.name == "stream-manager" and not kept.settings.in_memory


def test_add_duplicate_cap_remove_and_unknown() -> None:
    async def main() -> None:
        pool, mgr = _pool(max_streams=2)
        st = await pool.add(StreamSpec("a", "rtmp://o/live/a"))
        assert st.state == "starting" and mgr.state["a"].request.queue_url == "sqlite:///q.db"  # answers at once
        assert (await pool.status("a")) == StreamStatus(stream="a", url="rtmp://o/live/a", state="live")
        with pytest.raises(DuplicateStream):
            await pool.add(StreamSpec("a", "rtmp://o/live/a"))
        await pool.add(StreamSpec("b", "rtmp://o/live/b"))
        with pytest.raises(PoolFull, match=r"live\.max_streams"):
            await pool.add(StreamSpec("c", "rtmp://o/live/c"))
        assert [s.stream for s in await pool.list_streams()] == ["a", "b"]
        assert (await pool.remove("a")) is not None
        assert await pool.status("a") is None and await pool.remove("a") is None  # removed: gone, as locally
        assert [s.stream for s in await pool.list_streams()] == ["b"]
        assert await pool.status("nope") is None
        await pool.add(StreamSpec("a", "rtmp://o/live/a"))  # a removed id may be watched again

    asyncio.run(main())


def test_no_free_slot_is_pool_full_and_leaves_nothing_behind() -> None:
    async def main() -> None:
        pool, mgr = _pool(slots=1)
        await pool.add(StreamSpec("a", "rtmp://o/live/a"))
        with pytest.raises(PoolFull, match="free stream slot"):
            await pool.add(StreamSpec("b", "rtmp://o/live/b"))
        assert mgr.state["b"].state == "stopped" and await pool.status("b") is None

    asyncio.run(main())


@pytest.mark.parametrize("checkpoint", [None, "m.sqlite"])
def test_serve_runs_the_stream_manager_with_or_without_a_checkpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, checkpoint: str | None
) -> None:
    import uvicorn

    from moderation.cli.main import app

    seen: dict[str, Any] = {}

    class Recording(ManagedPool):
        def start(self, address: str | None = None, *, num_cpus: int | None = None, warm_up: bool = True) -> None:
            seen["start"], seen["pool"] = address, self

        def shutdown(self) -> None:
            seen["shutdown"] = True

    monkeypatch.delenv("MODERATION_API_TOKEN", raising=False)
    monkeypatch.setattr(managed_pool, "ManagedPool", Recording)
    monkeypatch.setattr(uvicorn, "run", lambda app_, **kw: seen.setdefault("app", app_))
    queue = f"sqlite:///{tmp_path / 'q.db'}"  # serve opens the queue: never in the working directory
    args = ["serve", "--address", "10.0.0.5:6379", "--queue", queue]
    res = CliRunner().invoke(app, args + (["--checkpoint", checkpoint] if checkpoint else []))
    assert res.exit_code == 0, res.output
    pool: ManagedPool = seen["pool"]
    assert seen["start"] == "10.0.0.5:6379" and seen["shutdown"] is True and "app" in seen
    assert pool.settings.in_memory == (checkpoint is None) and pool.settings.queue_url == queue
    assert pool.settings.checkpoint == checkpoint


def test_steering_and_origin_names_travel_to_the_manager_and_reconfigure_goes_through_it() -> None:
    from moderation.pipeline.status import Steering

    async def main() -> None:
        pool, mgr = _pool()
        asked: list[tuple[str, Steering]] = []

        def reconfigure(sid: str, steering: Steering) -> StreamStatus | None:
            asked.append((sid, steering))
            return StreamStatus(stream=sid, url="u", state="live", tier=steering.tier) if sid in mgr.state else None

        mgr.reconfigure = _Call(reconfigure)  # type: ignore[attr-defined]
        spec = StreamSpec("a", "http://o/hls/a.m3u8", "live", "a", steering=Steering("strict", 2.0, 2, 1.0))
        await pool.add(spec)
        req = mgr.state["a"].request
        assert (req.app, req.name, req.steering) == ("live", "a", spec.steering)
        st = await pool.reconfigure("a", Steering("default", 1.0, 0, 2.0))
        assert st is not None and st.tier == 0 and asked == [("a", Steering("default", 1.0, 0, 2.0))]
        assert await pool.reconfigure("nope", Steering()) is None

    asyncio.run(main())


def test_room_meta_and_records_travel_to_the_manager_and_set_meta_goes_through_it(tmp_path: Any) -> None:
    from moderation.cluster.placement import Checkpoint
    from moderation.signals.room import RoomMeta

    async def main() -> None:
        pool, mgr = _pool()
        asked: list[tuple[str, str]] = []

        def set_meta(sid: str, meta_json: str) -> bool:
            asked.append((sid, meta_json))
            return sid in mgr.state

        mgr.set_meta = _Call(set_meta)  # type: ignore[attr-defined]
        meta = json.dumps({"title": "今晚百家乐"}, ensure_ascii=False)
        await pool.add(StreamSpec("a", "rtmp://o/live/a", meta=meta, records="/shared/records"))
        req = mgr.state["a"].request
        assert (req.meta, req.records) == (meta, "/shared/records")
        assert (req.spec().meta, req.spec().records) == (meta, "/shared/records")  # what its worker follows
        # the checkpoint keeps them: a restarted manager restarts the stream with the same room
        ckpt = Checkpoint(tmp_path / "m.sqlite")
        ckpt.save(mgr.state["a"])
        assert ckpt.load()["a"].request == req
        new = RoomMeta("a", title="刷火箭", cover="https://cdn.example/c.png")
        assert await pool.set_meta("a", new) is True
        assert [(s, json.loads(m)) for s, m in asked] == [
            ("a", {"title": "刷火箭", "cover": "https://cdn.example/c.png"})
        ]
        assert await pool.set_meta("nope", new) is False

    asyncio.run(main())
