"""ops/grafana/moderation.json asks only for metrics the code exports.

Every metric name in the dashboard's PromQL is looked up in what a real registry exposes after a
tiny run: a :class:`LocalPool` that ran a generated clip through real batchers (fake model calls)
and the review app's collector over a queue with an item and a decision.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fakes import FakeClients
from media_factory import make_clip
from prometheus_client.parser import text_string_to_metric_families

from moderation.config import PipelineConfig
from moderation.pipeline.clients import BatchFamily, Family, LocalClients
from moderation.pipeline.pool import LocalPool
from moderation.pipeline.status import StreamSpec
from moderation.review.metrics import ReviewMetrics
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore

DASHBOARD = Path(__file__).resolve().parents[2] / "ops" / "grafana" / "moderation.json"
CFG = PipelineConfig.model_validate({"ocr": {"gate": {"enabled": False}}, "live": {"allow_files": True}})
#: What an operator needs on the board (pool throughput, lag, batchers, drops, alerts, review backlog).
REQUIRED = {
    "moderation_live_frames_total",
    "moderation_pool_lag_max_seconds",
    "moderation_pool_lag_streams",
    "moderation_pool_slots_free",
    "moderation_batcher_batch_size_sum",
    "moderation_batcher_wait_seconds_bucket",
    "moderation_batcher_queue_depth",
    "moderation_batcher_rejected_total",
    "moderation_live_frames_dropped_total",
    "moderation_live_alert_latency_seconds_bucket",
    "moderation_review_open_items",
    "moderation_review_oldest_open_age_seconds",
    "moderation_review_decisions_total",
}
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gauge": ("",),
    "summary": ("", "_sum", "_count"),
    "info": ("_info",),
}


def _exprs(panels: list[dict[str, Any]]) -> Iterator[str]:
    for p in panels:
        yield from _exprs(p.get("panels", []))
        for t in p.get("targets", []):
            yield t["expr"]


def _exported(text: str) -> set[str]:
    names: set[str] = set()
    for fam in text_string_to_metric_families(text):
        names |= {fam.name + s for s in _SUFFIXES.get(fam.type, ("",))}
        names |= {s.name for s in fam.samples}
    return names


def _pool_text(clip: Path) -> str:
    fake = FakeClients(ocr_span=(0.0, 2.0))

    def family(name: Family) -> BatchFamily:
        call = getattr(fake, name)

        def run(items: Sequence[Any]) -> Sequence[Any]:
            return asyncio.run(call(items))

        return BatchFamily(name, run, lambda: None, max_batch=8, max_wait_ms=5, provider="FakeExecutionProvider")

    async def go() -> bytes:
        pool = LocalPool(CFG, LocalClients(CFG, {f: family(f) for f in ("vision", "ocr", "asr")}))
        await pool.add(StreamSpec.from_url(str(clip), "room"))
        await pool.wait_all()
        await pool.remove("room")
        text = await pool.metrics()
        await pool.close()
        return text

    return asyncio.run(go()).decode()


def _review_text(tmp: Path) -> str:
    store = ReviewStore.open(ReviewSettings(queue_url=f"sqlite:///{tmp / 'q.db'}", media_dir=tmp / "media"))
    rec = {"stream": "s1", "category": "gambling", "severity": "high", "score": 0.9, "start": 1.0, "end": 3.0}
    item = store.upsert_verdict(rec).item_id
    store.decide(item, "ann", "confirm")
    store.upsert_verdict({**rec, "start": 5.0, "end": 7.0})
    try:
        return ReviewMetrics(store).render().decode()
    finally:
        store.engine.dispose()


def test_every_dashboard_metric_is_exported(tmp_path: Path) -> None:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = list(_exprs(board["panels"]))
    used = {m for e in exprs for m in re.findall(r"\bmoderation_[A-Za-z0-9_:]+", e)}
    assert len(exprs) >= 20 and used >= REQUIRED, sorted(REQUIRED - used)
    pool = _pool_text(make_clip(tmp_path / "room.mp4", seconds=2.0, gop_s=0.5))
    exported = _exported(pool) | _exported(_review_text(tmp_path))
    missing = sorted(used - exported)
    assert not missing, f"the dashboard uses metrics nothing exports: {missing}"
    # the tiny run really produced the series the main panels plot
    produced = {s.name for fam in text_string_to_metric_families(pool) for s in fam.samples if s.value > 0}
    assert {
        "moderation_live_frames_total",
        "moderation_batcher_batch_size_count",
        "moderation_batcher_info",
    } <= produced
