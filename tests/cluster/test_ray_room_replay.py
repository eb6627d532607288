"""Room metadata and the node's replay index on the Ray pool (``moderation serve`` without ``--local``).

One local Ray (2 CPUs), the in-memory stream manager and its StreamWorker actors behind the real
control API; model families are off (room titles and replays need none), streams are generated
files read at real-time pace, verdicts come back through the workers' JSONL report.

1. ``meta`` on ``POST /streams`` reaches the worker (a room verdict for the title), ``PUT
   /streams/{id}/meta`` is re-checked by the running worker (a verdict for the new title) and kept
   in the stream's request: a killed worker's replacement checks only the new title.
2. Two streams on the node share its replay index: the second, replaying the first's footage, gets
   a ``synthetic_unlabeled`` verdict naming the first (each worker's own index never would).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.pipeline.status import Steering
from moderation.samplegen.writer import write_video

pytestmark = [pytest.mark.slow, pytest.mark.ray]

CFG = PipelineConfig.model_validate(
    {
        "vision": {"enabled": False},
        "ocr": {"enabled": False},
        "asr": {"enabled": False},
        "qr": {"enabled": False},
        "synthetic": {"enabled": False},
        "replay_index": {"enabled": True, "min_run": 4},
        "live": {"allow_files": True, "max_streams": 4, "open_timeout_s": 5.0, "meta_poll_s": 0.5},
    }
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from moderation.cluster.managed_pool import ManagedPool
    from moderation.config import ClusterConfig
    from moderation.service.api import create_app

    d = tmp_path_factory.mktemp("rayroom")
    report = d / "verdicts.jsonl"
    pool = ManagedPool(ClusterConfig(poll_s=0.25), CFG, report=str(report))
    pool.start(num_cpus=2)
    try:
        with TestClient(create_app(pool, CFG)) as client:
            yield {"pool": pool, "client": client, "report": report, "dir": d}
    finally:
        pool.shutdown()


def _until(fn: Any, timeout: float, what: str, step: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {got})")


def _state(client: TestClient, sid: str) -> str:
    r = client.get(f"/streams/{sid}")
    return str(r.json()["state"]) if r.status_code == 200 else f"http {r.status_code}"


def _verdicts(report: Path, stream: str) -> list[dict[str, Any]]:
    if not report.exists():
        return []
    rows = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r for r in rows if r["stream"] == stream]


def test_room_meta_is_checked_on_ray_and_a_put_is_rechecked_and_kept(stack: dict[str, Any]) -> None:
    import ray

    client: TestClient = stack["client"]
    clip = make_clip(stack["dir"] / "room.mp4", seconds=20.0, size=(160, 120), gop_s=0.5, with_audio=False)
    r = client.post("/streams", json={"url": str(clip), "meta": {"title": "x", "colour": "red"}})
    assert r.status_code == 400 and "unknown key" in r.json()["detail"], r.text
    r = client.post("/streams", json={"url": str(clip), "meta": {"title": "今晚百家乐在线下注"}})
    assert r.status_code == 201, r.text
    _until(lambda: _state(client, "room") == "live", 60, "the room stream to go live")
    assert client.put("/streams/nope/meta", json={"title": "a"}).status_code == 404
    assert client.put("/streams/room/meta", json=["a"]).status_code == 400
    r = client.put("/streams/room/meta", json={"title": "家人们刷火箭冲榜"})
    assert r.status_code == 200, r.text
    # kept in the stream's request: a restarted or moved worker checks the latest metadata at start
    pool = stack["pool"]
    a = ray.get(pool.mgr.assignments.remote())["room"]
    assert json.loads(a.request.meta) == {"title": "家人们刷火箭冲榜"}

    def room_verdicts() -> list[dict[str, Any]]:
        return [v for v in _verdicts(stack["report"], "room") if v["subject"]["kind"] == "room"]

    room = _until(lambda: len(room_verdicts()) >= 2 and room_verdicts(), 30, "room verdicts for both titles")
    assert sorted(v["category"] for v in room) == ["gambling", "tipping_inducement"], room
    for v in room:
        assert {s["kind"] for s in v["signals"]} == {"room.keyword"}, v
    # steering goes through the same manager path and answers with the re-steered status
    st = asyncio.run(pool.reconfigure("room", Steering("strict", 2.0, 2, time.time())))
    assert st is not None and (st.tier, st.profile) == (2, "strict"), st
    # a worker that dies is restarted by the manager and checks the latest metadata only
    old = pool.worker("room")
    ray.kill(old, no_restart=False)
    new = _until(lambda: (w := pool.worker("room")) not in (None, old) and w, 60, "the manager to restart the worker")

    def its_room_verdicts() -> list[dict[str, Any]]:
        got = ray.get(new.verdicts.remote(), timeout=30)
        return [v for v in got if v["subject"]["kind"] == "room"]

    again = _until(its_room_verdicts, 30, "a room verdict from the restarted worker")
    assert {v["category"] for v in again} == {"tipping_inducement"}, again
    _until(lambda: _state(client, "room") in ("ended", "http 404"), 60, "the room stream to end")


def _scenes(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.kron(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), np.ones((20, 20, 1), np.uint8)) for _ in range(n)]


def _write(path: Path, pictures: list[np.ndarray]) -> Path:
    fps, each = 5, 2.0
    per = round(each * fps)
    frame = lambda i, t: pictures[min(i // per, len(pictures) - 1)]  # noqa: E731
    return write_video(path, frame, each * len(pictures), None, fps=fps, width=160, height=120, gop_s=1.0)


def test_a_stream_replaying_another_on_the_node_is_named(stack: dict[str, Any]) -> None:
    import ray

    from moderation.cluster.manager import NAMESPACE
    from moderation.cluster.node_replay import replay_name

    client: TestClient = stack["client"]
    original = _scenes(1, 12)
    first = _write(stack["dir"] / "first.mp4", original)
    # 6 s of its own, then the first's footage from its t=4 s: shown 2 s after the first showed it
    second = _write(stack["dir"] / "second.mp4", _scenes(2, 3) + original[2:10])
    assert client.post("/streams", json={"url": str(first)}).status_code == 201
    _until(lambda: _state(client, "first") == "live", 60, "the first stream to go live")
    assert client.post("/streams", json={"url": str(second)}).status_code == 201
    for sid in ("first", "second"):
        _until(lambda sid=sid: _state(client, sid) in ("ended", "http 404"), 90, f"{sid} to end")
    replays = _until(
        lambda: [v for v in _verdicts(stack["report"], "second") if v["category"] == "synthetic_unlabeled"],
        15,
        "a replay verdict for the second stream",
    )
    assert not [v for v in _verdicts(stack["report"], "first") if v["category"] == "synthetic_unlabeled"]
    sigs = [s for v in replays for s in v["signals"]]
    assert {s["kind"] for s in sigs} == {"synthetic.replay"}
    assert all(s["label"].startswith("source=first@") for s in sigs), sigs
    # one index on the node, fed by both streams' workers
    (node,) = stack["pool"].batchers() or [n["NodeID"] for n in ray.nodes() if n["Alive"]]
    index = ray.get_actor(replay_name(node, stack["pool"].settings.name), namespace=NAMESPACE)
    stats = ray.get(index.stats.remote(), timeout=30)
    assert stats["keys"] >= 12 and stats["fingerprints"] >= 12, stats
