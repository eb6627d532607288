"""A live violation reaches the review queue as a provisional (live) item at its alert, and its
final verdict updates that same item when it closes."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeClients
from media_factory import make_clip
from outlets import bare_outlet

from moderation.config import PipelineConfig
from moderation.messages import Signal, Subject, Verdict
from moderation.pipeline.alerts import Alert, ViolationIds
from moderation.pipeline.outlet import VerdictOutlet
from moderation.pipeline.sinks import CallbackSink, JsonlSink, takes_provisional
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream import StreamPipeline
from moderation.review.sink import ReviewSink


def _cfg() -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "sampling": {"fps": 2.0},
            "evidence": {"pre_s": 0.5, "post_s": 0.5},
            "ocr": {"fps": 2.0, "gate": {"enabled": False}},
            "policy": {"categories": {"gambling": {"merge_gap_s": 1.0}}},
            "live": {"allow_files": True, "audio_window_s": 2.0, "audio_overlap_s": 0.5, "clip_wait_s": 3.0},
        }
    )


class WatchedReviewSink(ReviewSink):
    """The real SQLite review sink, noting what the queue held when each record arrived."""

    def __init__(self, queue_url: str, pipe: list[StreamPipeline]) -> None:
        super().__init__(queue_url)
        self.pipe = pipe
        self.writes: list[tuple[bool, float, bool]] = []  # provisional, monotonic time, stream ended
        self.before_final: list[list[dict[str, Any]]] = []

    def write(self, verdict: Verdict) -> None:
        if not verdict.provisional:
            self.before_final.append([it.public(time.time()) for it in self.store.list_items()])
        super().write(verdict)
        self.writes.append((verdict.provisional, time.monotonic(), self.pipe[0].ingest.done))


@pytest.fixture(scope="module")
def clip10(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("prov") / "c.mp4", seconds=10.0, gop_s=0.5)


def test_open_violation_is_a_live_item_then_the_same_final_item(clip10: Path, tmp_path: Path) -> None:
    pipe: list[StreamPipeline] = []
    alerted: list[tuple[Alert, float]] = []
    sink = WatchedReviewSink(f"sqlite:///{tmp_path / 'queue.db'}", pipe)
    got: list[Verdict] = []
    report = JsonlSink(tmp_path / "report.jsonl")
    pipe.append(
        StreamPipeline(
            StreamSpec.from_url(str(clip10), "s1"),
            _cfg(),
            FakeClients(ocr_span=(2.0, 6.0)),
            [sink, CallbackSink(got.append), report],
            clips_dir=tmp_path / "clips",
            on_alert=lambda a: alerted.append((a, time.monotonic())),
        )
    )
    try:
        assert asyncio.run(pipe[0].run()).state == "ended"
        items = sink.store.list_items()
    finally:
        sink.close()
        report.close()

    assert [a.category for a, _ in alerted] == ["gambling"]
    provisional = [w for w in sink.writes if w[0]]
    # written at first sighting, rewritten while it went on (live.provisional_refresh_s), then final
    assert provisional and [w[0] for w in sink.writes] == [True] * len(provisional) + [False]
    _, at, ended = provisional[0]
    assert not ended, "the provisional item must appear while the stream is still going"
    assert at - alerted[0][1] < 2.0
    # the queue before the final write: one live item with a thumbnail
    (live,) = sink.before_final[0]
    assert live["provisional"] is True and live["thumbnails"] == 1
    # after: the same item, now the final record (not provisional, with its clip)
    (item,) = items
    assert item.id == live["id"]
    assert not item.record.get("provisional") and item.clip_path is not None
    (final,) = got
    assert final.violation_id and item.record["violation_id"] == final.violation_id == item.violation_key
    assert item.t_end == pytest.approx(final.end, abs=1e-3)
    # the other sinks never saw the provisional record
    assert not any(v.provisional for v in got)
    assert len((tmp_path / "report.jsonl").read_text().splitlines()) == 1


def _v(start: float, end: float, category: str = "gambling", subject: Subject | None = None) -> Verdict:
    sig = Signal("ocr.keyword", "s1", start, 1.0, category)
    return Verdict("s1", category, "high", 1.0, start, end, (sig,), subject=subject)


def test_violation_ids_follow_one_violation_and_never_reuse_a_closed_one() -> None:
    ids = ViolationIds(lambda _c: 1.0)
    vid, new = ids.open(_v(3.0, 3.0))
    assert new and vid == "gambling@3000"
    assert ids.open(_v(3.0, 4.5)) == (vid, False)  # the same open violation, grown
    assert ids.close(_v(2.5, 5.0)) == vid  # the final verdict starts earlier: still the same one
    assert ids.open(_v(4.0, 5.5)) == (vid, False)  # a late sighting of it writes nothing new
    split = ids.close(_v(5.8, 6.0))  # a second final verdict over it gets its own id
    assert split != vid
    assert ids.open(_v(20.0, 20.0))[1]  # further than the gap: another violation
    assert ids.open(_v(3.0, 3.0, "vulgar"))[1]  # another category
    viewer = ids.open(_v(3.0, 3.0, subject=Subject("viewer", "bob")))
    assert viewer[1] and viewer[0].startswith("gambling@3000/viewer-")  # another subject


def test_provisional_verdict_needs_an_id_and_is_recorded_only_when_set() -> None:
    with pytest.raises(ValueError, match="provisional gambling verdict needs a violation_id"):
        Verdict("s1", "gambling", "high", 1.0, 0.0, 1.0, (), provisional=True)
    plain = _v(1.0, 2.0).to_record()
    assert "violation_id" not in plain and "provisional" not in plain
    rec = Verdict("s1", "gambling", "high", 1.0, 0.0, 1.0, (), violation_id="g@0", provisional=True).to_record()
    assert rec["violation_id"] == "g@0" and rec["provisional"] is True


def test_only_the_review_sink_takes_provisional_records(tmp_path: Path) -> None:
    report = JsonlSink(tmp_path / "r.jsonl")
    review = ReviewSink(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        assert takes_provisional(review)
        assert not takes_provisional(report) and not takes_provisional(CallbackSink(print))
    finally:
        report.close()
        review.close()


class SlowProvisionalSink:
    """Takes provisional records and writes them slowly (a busy database)."""

    takes_provisional = True

    def __init__(self) -> None:
        self.written: list[tuple[str | None, bool]] = []

    def write(self, verdict: Verdict) -> None:
        if verdict.provisional:
            time.sleep(0.3)
        self.written.append((verdict.violation_id, verdict.provisional))

    def close(self) -> None:
        pass


def _outlet(sink: object, refresh_s: float = 0.0) -> VerdictOutlet:
    """An outlet with only ``sink`` (no evidence, no enforcement, no clock)."""
    return bare_outlet(StreamSpec.from_url("rtmp://example.invalid/live/s1", "s1"), [sink], refresh_s=refresh_s)


def test_final_record_never_lands_before_its_slow_provisional_one() -> None:
    sink = SlowProvisionalSink()
    outlet = _outlet(sink)

    async def go() -> None:
        outlet.opened(_v(3.0, 3.5))
        outlet.opened(_v(3.0, 4.0))  # the same open violation: written once
        outlet.emit([_v(2.5, 5.0)])
        await outlet.drain()

    asyncio.run(go())
    assert sink.written == [("gambling@3000", True), ("gambling@3000", False)]
    assert outlet.provisional_count == 1 and outlet.count == 1


class RecordingSink:
    takes_provisional = True

    def __init__(self) -> None:
        self.written: list[tuple[bool, float]] = []  # provisional, end

    def write(self, verdict: Verdict) -> None:
        self.written.append((bool(verdict.provisional), verdict.end))

    def close(self) -> None:
        pass


def test_an_open_violation_is_rewritten_while_it_goes_on_but_never_after_its_verdict() -> None:
    sink = RecordingSink()
    outlet = _outlet(sink, refresh_s=0.2)

    async def go() -> None:
        outlet.opened(_v(3.0, 3.5))
        await outlet.drain()
        outlet.opened(_v(3.0, 4.0))  # too soon: not rewritten
        await asyncio.sleep(0.25)
        outlet.opened(_v(3.0, 6.0))  # still open after refresh_s: rewritten with its new extent
        await outlet.drain()
        outlet.emit([_v(3.0, 7.0)])
        await outlet.drain()
        await asyncio.sleep(0.25)
        outlet.opened(_v(3.0, 7.0))  # the preview still sees it, but its verdict is written
        await outlet.drain()

    asyncio.run(go())
    assert sink.written == [(True, 3.5), (True, 6.0), (False, 7.0)]
    assert outlet.provisional_count == 2


class StateSink:
    """Takes provisional records; keeps (violation id, provisional, unconfirmed) of each write."""

    takes_provisional = True

    def __init__(self) -> None:
        self.written: list[tuple[str | None, bool, bool]] = []

    def write(self, verdict: Verdict) -> None:
        self.written.append((verdict.violation_id, verdict.provisional, verdict.unconfirmed))

    def close(self) -> None:
        pass


def test_violation_ids_settle_what_the_full_analysis_passed_without_a_verdict() -> None:
    ids = ViolationIds(lambda _c: 1.0)
    passed, _ = ids.open(_v(3.0, 4.0))
    going, _ = ids.open(_v(20.0, 21.0))
    closed, _ = ids.open(_v(40.0, 41.0, "vulgar"))
    ids.close(_v(40.0, 41.0, "vulgar"))
    after = lambda _c: 5.0  # noqa: E731
    assert ids.settle(8.0, after) == []  # evidence for 3-4 s may still come until 9 s
    assert ids.settle(24.0, after) == [passed]  # the one at 20-21 s is still within its horizon
    assert ids.settle(25.0, after) == []  # each is settled once
    assert ids.close(_v(3.0, 4.5)) == passed  # a late final verdict still confirms it in place
    assert ids.settle(float("inf"), lambda _c: 0.0) == [going]
    assert closed not in ids.settle(float("inf"), lambda _c: 0.0)


def test_a_live_item_the_full_analysis_never_confirms_stops_being_live() -> None:
    sink = StateSink()
    outlet = _outlet(sink)

    async def go() -> None:
        outlet.opened(_v(3.0, 3.5))  # preview: a live item
        outlet.opened(_v(30.0, 30.5))  # another, later on
        outlet.settle(4.0)  # the authoritative fuser is not past it yet
        await outlet.drain()
        outlet.settle(10.0)  # past 3.5 s + the gap: never confirmed
        await outlet.drain()
        outlet.emit([_v(30.0, 31.0)])  # the later one gets its final verdict
        outlet.finish_open()  # stream end: nothing else open
        await outlet.drain()

    asyncio.run(go())
    assert sink.written == [
        ("gambling@3000", True, False),
        ("gambling@30000", True, False),
        ("gambling@3000", False, True),  # the same item, no longer live, marked unconfirmed
        ("gambling@30000", False, False),  # confirmed: the final verdict, not marked
    ]


def test_stream_end_marks_the_still_open_live_items_unconfirmed() -> None:
    sink = StateSink()
    outlet = _outlet(sink)

    async def go() -> None:
        outlet.opened(_v(3.0, 3.5))
        outlet.emit([])  # the authoritative fuser's finish had no verdict for it
        outlet.finish_open()
        await outlet.drain()

    asyncio.run(go())
    assert sink.written == [("gambling@3000", True, False), ("gambling@3000", False, True)]
    rec = replace(_v(1.0, 2.0), violation_id="g@1000", unconfirmed=True).to_record()
    assert rec["unconfirmed"] is True and "provisional" not in rec
