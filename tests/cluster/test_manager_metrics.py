"""The stream manager's /metrics bookkeeping, without starting Ray: its workers and batchers are
stand-ins answering (or not) through a stand-in ``ray.wait``/``ray.get``. The real manager runs in
tests/cluster/test_ray_live.py."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from fake_ray import FakeRay, Ref

from moderation.cluster import manager_metrics
from moderation.cluster.placement import NodeView
from moderation.config import PipelineConfig
from moderation.pipeline.batch_metrics import BatcherMetrics
from moderation.pipeline.metrics import StreamMetrics
from moderation.pipeline.pool_metrics import PoolMetrics, render_pool


class _Method:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.args: list[tuple[Any, ...]] = []

    def remote(self, *args: Any) -> Ref:
        self.args.append(args)
        return self.answer() if callable(self.answer) else self.answer


def _manager(max_streams: int = 100) -> SimpleNamespace:
    cfg = PipelineConfig.model_validate({"live": {"max_streams": max_streams}})
    nodes = [NodeView("head", 2, 0, 4, True), NodeView("w1", 8, 0, 6, False), NodeView("w2", 8, 1, 6, False)]
    return SimpleNamespace(
        _lock=threading.RLock(), _handles={}, _batchers={}, _state={}, _nodes=nodes, cfg=cfg, _metrics=PoolMetrics()
    )


def _frames(mgr: SimpleNamespace) -> float:
    text = render_pool(manager_metrics.pool_snapshot(mgr)).decode()  # type: ignore[arg-type]
    line = next(x for x in text.splitlines() if x.startswith("moderation_live_frames_total "))
    return float(line.split()[1])


def test_busy_or_dead_workers_count_with_their_last_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manager_metrics, "ray", FakeRay)
    mgr = _manager()
    a = SimpleNamespace(metrics=_Method(Ref(StreamMetrics("a", frames_in=10))))
    b = SimpleNamespace(metrics=_Method(Ref(StreamMetrics("b", frames_in=5))))
    mgr._handles = {"a": a, "b": b}
    mgr._state = {"a": SimpleNamespace(state="running"), "b": SimpleNamespace(state="running")}
    vision = BatcherMetrics("vision", "cuda", "CUDAExecutionProvider", 64)
    vision.on_batch(4, [0.01] * 4, 0.02, 0)
    mgr._batchers = {"w1": {"vision": SimpleNamespace(batcher_metrics=_Method(Ref(vision.snapshot(3))))}}
    mgr._batchers["w2"] = {"vision": SimpleNamespace()}  # an older batcher without batcher_metrics
    snap = manager_metrics.pool_snapshot(mgr)  # type: ignore[arg-type]
    assert snap.streams_running == 2 and snap.slots_total == 12 and snap.slots_free == 10  # the head is not placed on
    assert [(b.family, b.queue_depth) for b in snap.batchers] == [("vision", 3)]
    assert _frames(mgr) == 15
    assert a.metrics.args[-1] == (False,)  # a scrape asks for counts only, not recent latencies
    a.metrics = _Method(Ref(None, ready=False))  # busy past the scrape's wait
    b.metrics = _Method(Ref(RuntimeError("worker died")))
    assert _frames(mgr) == 15  # neither is left out: a drop would read as a counter reset
    with mgr._lock:  # b is let go (it died): what it last reported stays counted
        del mgr._handles["b"]
        mgr._metrics.let_go("b", b)
    assert _frames(mgr) == 15
    assert render_pool(manager_metrics.pool_snapshot(mgr)).decode().count("stream=") == 0  # type: ignore[arg-type]


def test_slots_are_capped_by_max_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manager_metrics, "ray", FakeRay)
    mgr = _manager(max_streams=5)
    snap = manager_metrics.pool_snapshot(mgr)  # type: ignore[arg-type]
    assert snap.slots_total == 5 and snap.slots_free == 5 and snap.live == ()
