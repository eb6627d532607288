"""A verdict waiting for its clip's post-roll goes out at once when the stream's connection ends:
our cut succeeded, the publisher dropped, or the stream is being stopped. A failed cut changes
nothing, a reconnect afterwards writes no second record, and without any of these the record
waits for the post-roll. The writer waits up to ``WAIT_S``; every test that expects the record
gives it far less, so a record that only came once the wait ran out fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import signal
from media_factory import make_clip
from outlets import Records, bare_outlet
from ring_packets import Feed, feed

from moderation.config import EvidenceConfig, PipelineConfig, source_config
from moderation.evidence.writer import POLL_S, EvidenceWriter, FrameKeeper
from moderation.ingest.source import Disconnected
from moderation.messages import Verdict
from moderation.pipeline.enforce import EnforcementResult, Target
from moderation.pipeline.outlet import VerdictOutlet
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream_ingest import StreamIngest

WAIT_S = 30.0
SOON_S = 3 * POLL_S + 1.5  # a few polls and one remux on a busy machine; far below WAIT_S
CFG = PipelineConfig.model_validate({"live": {"allow_files": True}})
SPEC = StreamSpec.from_url("rtmp://127.0.0.1/live/s1", "s1")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Feed:
    return feed(make_clip(tmp_path_factory.mktemp("ring") / "a.mp4", seconds=4.0, gop_s=1.0, with_audio=False))


class Origin:
    """Stands in for the Enforcer: a cut that succeeds (or not), counted."""

    def __init__(self, ok: bool = True) -> None:
        self.ok, self.cuts = ok, 0

    async def enforce(self, v: Verdict, target: Target) -> EnforcementResult | None:
        self.cuts += 1
        return EnforcementResult(v.action, self.ok, "drop publisher" if self.ok else "HTTP 500")


def _setup(media: Feed, clips: Path, origin: Origin | None = None) -> tuple[StreamIngest, VerdictOutlet, Records]:
    ingest = StreamIngest(SPEC, CFG, source_config(CFG))
    media.push(ingest.ring, until=2.4)  # the verdict below needs media to 2.0 + post_s = 3.0
    writer = EvidenceWriter(
        ingest.ring,
        ingest.lock,
        FrameKeeper(),
        EvidenceConfig(pre_s=0.5, post_s=1.0),
        clips,
        WAIT_S,
        ingest_done=lambda: ingest.stopping,
    )
    sink = Records()
    outlet = bare_outlet(SPEC, [sink], evidence=writer, enforcer=origin, on_cut=ingest.connection_ended)
    return ingest, outlet, sink


def _v(start: float, end: float, category: str = "gambling", action: str = "review") -> Verdict:
    return Verdict("s1", category, "high", 0.9, start, end, (signal(start),), action=action)


async def _written_within(outlet: VerdictOutlet, seconds: float) -> bool:
    try:
        await asyncio.wait_for(asyncio.shield(outlet.drain()), seconds)
    except TimeoutError:
        return False
    return True


def test_a_successful_cut_sends_the_waiting_record_at_once(media: Feed, tmp_path: Path) -> None:
    origin = Origin(ok=True)
    _, outlet, sink = _setup(media, tmp_path, origin)

    async def go() -> bool:
        outlet.emit([_v(1.0, 2.0)])  # closed, waiting for its post-roll
        await asyncio.sleep(2 * POLL_S)
        assert not sink.records
        outlet.maybe_enforce(_v(1.5, 2.3, "fraud", "cut"))  # an open violation is cut
        return await _written_within(outlet, SOON_S)

    assert asyncio.run(go()), "the record waited for the clip wait after the cut"
    assert origin.cuts == 1 and len(sink.records) == 1
    rec = sink.records[0]
    assert rec["clip"] and Path(rec["clip"]).is_file() and 2.0 <= rec["clip_end"] < 3.0


def test_a_failed_cut_leaves_the_record_waiting_for_its_post_roll(media: Feed, tmp_path: Path) -> None:
    origin = Origin(ok=False)  # the publisher is still there: its post-roll will come
    _, outlet, sink = _setup(media, tmp_path, origin)

    async def go() -> bool:
        outlet.emit([_v(1.0, 2.0)])
        outlet.maybe_enforce(_v(1.5, 2.3, "fraud", "cut"))
        return await _written_within(outlet, 4 * POLL_S)

    assert not asyncio.run(go()) and not sink.records and origin.cuts == 1


def test_a_drop_sends_the_record_at_once_and_a_reconnect_adds_no_second_one(media: Feed, tmp_path: Path) -> None:
    ingest, outlet, sink = _setup(media, tmp_path)

    async def go() -> bool:
        outlet.emit([_v(1.0, 2.0)])
        await asyncio.sleep(2 * POLL_S)
        ingest.on_event(Disconnected("s1", 2.4, datetime.now(UTC), "end of stream (publisher left)"))
        written = await _written_within(outlet, SOON_S)
        again = media.shifted(1, 10.0)  # the publisher is back: its media covers any post-roll now
        with ingest.lock:
            again.push(ingest.ring)
        await asyncio.sleep(2 * POLL_S)
        await outlet.drain()
        return written

    assert asyncio.run(go()), "the record waited for the clip wait after the drop"
    assert len(sink.records) == 1 and sink.records[0]["clip_end"] < 3.0
    assert outlet.count == 1


def test_stopping_the_stream_sends_the_record_at_once(media: Feed, tmp_path: Path) -> None:
    ingest, outlet, sink = _setup(media, tmp_path)

    async def go() -> bool:
        outlet.emit([_v(1.0, 2.0)])
        await asyncio.sleep(2 * POLL_S)
        ingest.stop()  # the ingest thread may still be stuck in a reconnect: no need to wait for it
        return await _written_within(outlet, SOON_S)

    assert asyncio.run(go()) and len(sink.records) == 1
    assert ingest.stopping and sink.records[0]["clip"]


def test_without_a_drop_the_record_waits_for_the_post_roll(media: Feed, tmp_path: Path) -> None:
    ingest, outlet, sink = _setup(media, tmp_path)

    async def go() -> tuple[bool, bool]:
        outlet.emit([_v(1.0, 2.0)])
        early = await _written_within(outlet, 4 * POLL_S)
        with ingest.lock:
            media.push(ingest.ring, since=2.4)
        return early, await _written_within(outlet, SOON_S)

    early, later = asyncio.run(go())
    assert not early and later
    assert len(sink.records) == 1 and "clip_end" not in sink.records[0]
