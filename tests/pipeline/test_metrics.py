"""The pool's /metrics: counters that outlive a stream, no stream label, pool gauges, batcher histograms.

A real :class:`LocalPool` runs a generated clip through real :class:`LocalClients` batchers (the
model calls are fakes), so every number here comes from the pipeline and the batchers themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeClients
from media_factory import make_clip
from prometheus_client.parser import text_string_to_metric_families

from moderation.config import PipelineConfig
from moderation.pipeline.clients import BatchFamily, Family, LocalClients
from moderation.pipeline.metrics import HistogramSnapshot, StreamMetrics
from moderation.pipeline.pool import LocalPool
from moderation.pipeline.pool_metrics import PoolMetrics, PoolSnapshot, render_pool
from moderation.pipeline.status import StreamSpec

CFG = PipelineConfig.model_validate(
    {
        "ocr": {"gate": {"enabled": False}},  # the fake OCR "reads" text on text-less frames
        "live": {"allow_files": True, "max_streams": 3, "audio_window_s": 2.0, "audio_overlap_s": 0.5},
    }
)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def fake_families(fake: FakeClients) -> dict[Family, BatchFamily]:
    """Real batchers around the fake model calls (each batch runs in the batcher's thread)."""

    def family(name: Family) -> BatchFamily:
        call = getattr(fake, name)

        def run(items: Sequence[Any]) -> Sequence[Any]:
            return asyncio.run(call(items))

        return BatchFamily(name, run, lambda: None, max_batch=8, max_wait_ms=5, provider="FakeExecutionProvider")

    return {f: family(f) for f in ("vision", "ocr", "asr")}


def samples(text: bytes) -> Samples:
    out: Samples = {}
    for fam in text_string_to_metric_families(text.decode()):
        for s in fam.samples:
            assert "stream" not in s.labels, s  # no series is labelled by stream
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(s: Samples, name: str, **labels: str) -> float:
    return s.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("metrics") / "room.mp4", seconds=3.0, gop_s=0.5)


def test_an_ended_stream_still_counts_and_no_series_names_a_stream(clip: Path) -> None:
    async def go() -> tuple[Samples, Samples, Samples, Samples]:
        pool = LocalPool(CFG, LocalClients(CFG, fake_families(FakeClients(ocr_span=(0.0, 2.0)))))
        await pool.add(StreamSpec.from_url(str(clip), "room"))
        running = samples(await pool.metrics())
        await pool.wait_all()
        ended = samples(await pool.metrics())
        await pool.remove("room")
        removed = samples(await pool.metrics())
        await pool.add(StreamSpec.from_url(str(clip), "room"))  # the same room again
        await pool.wait_all()
        again = samples(await pool.metrics())
        await pool.close()
        return running, ended, removed, again

    running, ended, removed, again = asyncio.run(go())
    assert value(running, "moderation_pool_streams_running") == 1 and value(running, "moderation_pool_slots_free") == 2
    frames = value(ended, "moderation_live_frames_total")
    gambling = {k: v for k, v in ended.items() if k[0] == "moderation_live_verdicts_total"}
    assert frames >= 3 and sum(gambling.values()) >= 1
    assert all(dict(labels)["category"] == "gambling" for _, labels in gambling)
    assert value(ended, "moderation_live_signals_total", kind="ocr.keyword") >= 1
    assert value(ended, "moderation_pool_streams_running") == 0 and value(ended, "moderation_pool_slots") == 3
    # removed from the pool (gone from GET /streams): every counter and histogram is still there
    counted = {k: v for k, v in ended.items() if k[0].startswith("moderation_live_")}
    assert {k: removed[k] for k in counted} == counted
    assert value(removed, "moderation_pool_streams_ended_total") == 1
    # the same room once more: the pool's counters add up instead of starting again
    assert value(again, "moderation_live_frames_total") == 2 * frames
    assert value(again, "moderation_live_alert_latency_seconds_count") == 2 * value(
        ended, "moderation_live_alert_latency_seconds_count"
    )
    for k, v in counted.items():
        assert again[k] >= v, k  # never lower than before
    # the batchers' histograms moved, per family and device, and say what they ran on
    for fam in ("vision", "ocr"):
        assert value(again, "moderation_batcher_batch_size_count", family=fam, device="cpu") >= 1
        assert value(again, "moderation_batcher_wait_seconds_count", family=fam, device="cpu") >= frames
        assert value(again, "moderation_batcher_run_seconds_count", family=fam, device="cpu") >= 1
        assert value(again, "moderation_batcher_info", family=fam, device="cpu", provider="FakeExecutionProvider") == 1
        assert value(again, "moderation_batcher_queue_depth", family=fam, device="cpu") == 0


def _stream(sid: str, lag: float, frames: int, running: bool = True, alerts: tuple[int, ...] = ()) -> StreamMetrics:
    counts = tuple(alerts) + (0,) * (13 - len(alerts))
    return StreamMetrics(
        sid,
        frames_in=frames,
        lag_s=lag,
        running=running,
        alert_latency=HistogramSnapshot(counts=counts, total=float(sum(alerts))),
        verdict_kinds=(("gambling", "high", frames // 10),),
    )


def test_a_scrape_snapshot_leaves_out_recent_latencies_but_keeps_counts() -> None:
    from moderation.pipeline.metrics import LatencyHistogram

    h = LatencyHistogram()
    for v in (0.2, 0.7, 3.0):
        h.observe(v)
    m = StreamMetrics("a", frames_in=3, alert_latency=h.snapshot())
    slim = m.without_recent()
    assert m.alert_latency.recent and not slim.alert_latency.recent
    assert slim.alert_latency.counts == m.alert_latency.counts and slim.alert_latency.total == m.alert_latency.total
    assert render_pool(PoolSnapshot(live=(slim,))) == render_pool(PoolSnapshot(live=(m,)))


def test_lag_gauges_and_slots() -> None:
    live = (
        _stream("a", 0.3, 10),
        _stream("b", 7.0, 10),
        _stream("c", 50.0, 10),
        _stream("d", 900.0, 10, running=False),
    )
    s = samples(render_pool(PoolSnapshot(live=live, slots_total=8.0, slots_free=5.0)))
    assert value(s, "moderation_pool_lag_max_seconds") == 50.0  # an ended stream's lag is not lag
    assert value(s, "moderation_pool_lag_streams", le="0.5") == 1
    assert value(s, "moderation_pool_lag_streams", le="10.0") == 2
    assert value(s, "moderation_pool_lag_streams", le="+Inf") == 3
    assert value(s, "moderation_pool_streams_running") == 3
    assert value(s, "moderation_pool_slots") == 8 and value(s, "moderation_pool_slots_free") == 5
    assert value(s, "moderation_live_frames_total") == 40
    assert value(s, "moderation_live_verdicts_total", category="gambling", severity="high") == 4


def test_a_remote_pool_never_drops_a_count_when_a_worker_goes() -> None:
    """The Ray manager's bookkeeping: it has only what a worker last reported when the worker ends
    or dies, retires that at once, and swaps in the final counts when the worker still answers."""
    pm = PoolMetrics()
    w1, w2 = object(), object()

    def total(live: list[StreamMetrics]) -> float:
        return value(samples(render_pool(pm.snapshot(live))), "moderation_live_frames_total")

    pm.seen("a", w1, _stream("a", 0, 10))
    pm.seen("a", w1, _stream("a", 0, 5))  # an older report arriving late never replaces a newer one
    assert pm.last_seen("a", w1) is not None and pm.last_seen("a", w1).frames_in == 10  # type: ignore[union-attr]
    assert total([_stream("a", 0, 10)]) == 10
    before = pm.let_go("a", w1)  # the worker ended: what it last reported is retired with it
    assert total([]) == 10
    pm.final(before, _stream("a", 0, 14, running=False))  # its final counts
    assert total([]) == 14
    pm.seen("a", w2, _stream("a", 0, 3))  # restarted (a new worker): counts from zero again
    assert total([_stream("a", 0, 3)]) == 17
    assert pm.let_go("a", w2) is not None and total([]) == 17  # it died: its last report stays counted
    assert pm.let_go("a", w2) is None and total([]) == 17  # let go twice: counted once
