"""A stream worker's side of the node's replay index, without Ray: the node actor's body runs in
process behind a stand-in handle (the real actor runs in tests/cluster/test_ray_room_replay.py)."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from moderation.cluster import node_replay
from moderation.cluster.node_replay import NodeReplayActor, RemoteReplay
from moderation.config import ReplayIndexConfig

CFG = ReplayIndexConfig(enabled=True, min_run=4, node_flush_s=0.05, node_queue=4)


class _Method:
    def __init__(self, fn: Any, gate: threading.Event | None = None, fail: bool = False) -> None:
        self.fn, self.gate, self.fail = fn, gate, fail

    def remote(self, *args: Any) -> Any:
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail:
            raise RuntimeError("actor died")
        return self.fn(*args)


class StandInNode:
    """The node actor's methods called in process (``ray.get`` is patched to pass results through)."""

    def __init__(self, body: NodeReplayActor, gate: threading.Event | None = None, fail: bool = False) -> None:
        self.body = body
        self.observe = _Method(body.observe, gate, fail)


@pytest.fixture(autouse=True)
def _no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(node_replay.ray, "get", lambda ref, timeout=None: ref)


def _scenes(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.kron(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), np.ones((20, 20, 1), np.uint8)) for _ in range(n)]


def _play(client: RemoteReplay, stream: str, pictures: list[np.ndarray], pace: float = 0.0) -> list[Any]:
    out: list[Any] = []
    for i, img in enumerate(pictures):
        out += client.observe(stream, 2.0 * i, img, now=time.time())
        time.sleep(pace)
    return out + client.end_stream(stream)


def test_two_streams_through_one_node_index_name_the_source() -> None:
    body = NodeReplayActor(CFG)
    original = _scenes(1, 10)
    a, b = RemoteReplay(CFG, StandInNode(body)), RemoteReplay(CFG, StandInNode(body))  # type: ignore[arg-type]
    assert _play(a, "first", original, pace=0.02) == []
    sigs = _play(b, "second", _scenes(2, 2) + original[1:9], pace=0.02)
    assert [s.kind for s in sigs] == ["synthetic.replay", "synthetic.replay"]  # the run, then its tail at the end
    assert all(s.label.startswith("source=first@") for s in sigs), sigs
    assert sigs[-1].end == 18.0 and len(a) == len(b) == 0  # the clients index nothing themselves
    assert body.stats()["keys"] == 20 and body.index._runs == {}  # the end reached the node
    assert b.stats() == {"sent": 10, "dropped": 0, "failed": 0, "waiting": 0}


def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    gate = threading.Event()  # the node does not answer: keyframes pile up behind the first call
    client = RemoteReplay(CFG, StandInNode(NodeReplayActor(CFG), gate=gate))  # type: ignore[arg-type]
    t0 = time.monotonic()
    for i, img in enumerate(_scenes(3, 12)):
        assert client.observe("s", 2.0 * i, img) == []
    assert time.monotonic() - t0 < 1.0  # the frame path never waits on the node
    st = client.stats()
    # at most one batch in flight and a full queue behind it; the rest was dropped
    assert st["dropped"] >= 12 - 2 * CFG.node_queue and st["waiting"] <= CFG.node_queue, st
    gate.set()
    client.end_stream("s")
    st = client.stats()
    assert st["waiting"] == 0 and st["sent"] + st["dropped"] == 12, st


def test_a_failed_call_loses_its_batch_counted_and_the_end_does_not_hang() -> None:
    client = RemoteReplay(CFG, StandInNode(NodeReplayActor(CFG), fail=True))  # type: ignore[arg-type]
    for i, img in enumerate(_scenes(4, 3)):
        client.observe("s", 2.0 * i, img)
        time.sleep(0.1)
    assert client.end_stream("s") == []
    st = client.stats()
    assert st["failed"] == 3 and st["sent"] == 0, st
