"""Stream placement and the manager checkpoint, as plain Python (no Ray)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from moderation.cluster.placement import (
    Assignment,
    Checkpoint,
    NodeView,
    StreamRequest,
    backoff_s,
    choose_node,
    node_views,
)

HEAD = NodeView("head", 8, 0, 32, is_head=True)
A = NodeView("a", 16, 1, 4, is_head=False)
B = NodeView("b", 16, 0, 6, is_head=False)


def test_most_free_slots_wins_and_head_only_as_last_resort() -> None:
    assert choose_node([HEAD, A, B], {}) == "b"  # 6 free beats 4, head never while a worker has room
    assert choose_node([HEAD, A, B], {"b": 3}) == "a"  # 4 free vs 3
    assert choose_node([HEAD, A, B], {"a": 4, "b": 6}) is None  # workers full: no silent spill to head
    assert choose_node([HEAD], {}) == "head"  # a one-node cluster runs streams on its head


def test_gpu_streams_only_on_gpu_nodes_and_ties_prefer_gpus() -> None:
    assert choose_node([A, B], {"a": 3}, needs_gpu=True) == "a"
    assert choose_node([B], {}, needs_gpu=True) is None
    b4 = replace(B, slots=4)
    assert choose_node([b4, A], {}) == "a"  # same free slots: the node with a GPU
    assert choose_node([A, B], {}, avoid="b") == "a"


def test_node_views_from_ray_nodes() -> None:
    nodes = [
        {"NodeID": "h", "Alive": True, "Resources": {"CPU": 2.0, "node:__internal_head__": 1.0}},
        {"NodeID": "g", "Alive": True, "Resources": {"CPU": 16.0, "GPU": 1.0, "stream_slots": 40.0}},
        {"NodeID": "c", "Alive": True, "Resources": {"CPU": 3.0}},
        {"NodeID": "dead", "Alive": False, "Resources": {"CPU": 64.0}},
    ]
    views = {v.node_id: v for v in node_views(nodes, streams_per_cpu=2)}
    assert set(views) == {"h", "g", "c"}
    assert views["h"].is_head and not views["g"].is_head
    assert (views["g"].slots, views["g"].gpus, views["c"].slots) == (40.0, 1.0, 6.0)


def test_backoff_doubles_to_cap() -> None:
    assert [backoff_s(n, 0.5, 3.0) for n in range(6)] == [0.0, 0.5, 1.0, 2.0, 3.0, 3.0]


def test_checkpoint_round_trip_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "manager.sqlite"
    ck = Checkpoint(path)
    a = Assignment(
        StreamRequest("s1", "rtmp://origin/live/s1", queue_url="sqlite:///q.db", chat="https://c/s1"),
        state="running",
        node_id="n1",
        restarts=2,
        moves=1,
        last_error="node n0 left",
    )
    ck.save(a)
    ck.save(Assignment(StreamRequest("s2", "rtmp://origin/live/s2")))
    ck.save(replace(a, state="ended"))  # a later write of the same stream replaces it
    ck.close()
    again = Checkpoint(path).load()
    assert again["s1"] == replace(a, state="ended")
    assert again["s2"].state == "pending" and again["s2"].request.url.endswith("/s2")


@pytest.mark.parametrize("state", ["pending", "running"])
def test_active_states_are_what_a_restarted_manager_resumes(state: str) -> None:
    from moderation.cluster.placement import ACTIVE

    assert state in ACTIVE and "ended" not in ACTIVE and "failed" not in ACTIVE


def test_in_memory_checkpoint_writes_nothing_to_disk_and_keeps_nothing(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from moderation.cluster.placement import MEMORY

    monkeypatch.chdir(tmp_path)
    ck = Checkpoint(MEMORY)
    a = Assignment(StreamRequest("s1", "rtmp://origin/live/s1"), state="running", node_id="n1")
    ck.save(a)
    ck.save(replace(a, restarts=1))
    assert ck.in_memory and ck.load() == {"s1": replace(a, restarts=1)}
    assert Checkpoint(MEMORY).load() == {}  # another manager starts empty
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_keeps_a_streams_steering_and_origin_names(tmp_path: Path) -> None:
    from moderation.pipeline.status import Steering

    ck = Checkpoint(tmp_path / "m.sqlite")
    req = StreamRequest(
        "s1", "http://origin/hls/s1.m3u8", app="live", name="s1", steering=Steering("strict", 2.0, 2, 5.0)
    )
    ck.save(Assignment(req, state="running"))
    ck.save(Assignment(StreamRequest("s2", "rtmp://origin/live/s2")))
    ck.close()
    again = Checkpoint(tmp_path / "m.sqlite").load()
    assert again["s1"].request == req and again["s2"].request.steering is None  # a restarted manager re-steers
    spec = again["s1"].request.spec()
    assert (spec.app, spec.name, spec.steering) == ("live", "s1", Steering("strict", 2.0, 2, 5.0))
    assert again["s2"].request.spec().app == "live"  # from the rtmp URL
