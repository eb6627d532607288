"""A restarted manager re-attaches to the workers its checkpoint names, without a cluster."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fake_ray import FakeRay, Ref

from moderation.cluster import manager as manager_mod
from moderation.cluster.manager import StreamManager
from moderation.cluster.placement import Assignment, StreamRequest


class _Actor:
    def __init__(self, status: Ref) -> None:
        self.status = SimpleNamespace(remote=lambda: status)
        self.wait = SimpleNamespace(remote=lambda: Ref(None, ready=False))


class _FakeRay(FakeRay):
    def __init__(self, actors: dict[str, _Actor]) -> None:
        self.actors = actors

    def get_actor(self, name: str, namespace: str) -> _Actor:
        if name not in self.actors:
            raise ValueError(f"no actor {name}")
        return self.actors[name]


class _Ckpt:
    def save(self, a: Assignment) -> None:
        pass


def test_slow_workers_are_reattached_and_only_gone_ones_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    running = {sid: Assignment(StreamRequest(sid, f"rtmp://x/{sid}"), state="running") for sid in "abcd"}
    actors = {
        "m/stream-a-g0": _Actor(Ref("status")),  # answers
        "m/stream-b-g0": _Actor(Ref(None, ready=False)),  # alive but busy past the probe's wait
        "m/stream-c-g0": _Actor(Ref(RuntimeError("actor died"))),  # named, but its process is gone
    }  # d: no actor at all
    monkeypatch.setattr(manager_mod, "ray", _FakeRay(actors))
    mgr: Any = StreamManager.__new__(StreamManager)
    mgr.s = SimpleNamespace(name="m")
    mgr.ckpt = _Ckpt()
    mgr._state = dict(running)
    mgr._handles, mgr._waits = {}, {}
    assert mgr._reattach() == 2
    assert set(mgr._handles) == {"a", "b"} and set(mgr._waits) == {"a", "b"}  # no second worker for b
    assert {sid: a.state for sid, a in mgr._state.items()} == {
        "a": "running",
        "b": "running",
        "c": "pending",
        "d": "pending",
    }
    assert mgr._state["c"].last_error == "lost while the manager was down"
