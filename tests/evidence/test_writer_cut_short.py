"""A clip waiting for its post-roll: cut at once, with its real end recorded, when the connection
that carried the verdict's end is over (dropped, cut, stopping); otherwise it waits for the
post-roll. The writer's clock is frozen, so the wait for the post-roll can only end through the
ring: a test whose clip finished on the timeout would hang instead of passing."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from media_factory import make_clip
from ring_packets import Feed, feed

from moderation.config import EvidenceConfig
from moderation.evidence.ring import EvidenceRing
from moderation.evidence.writer import POLL_S, EvidenceWriter, FrameKeeper
from moderation.messages import Signal, Verdict

CFG = EvidenceConfig(pre_s=0.5, post_s=1.0)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Feed:
    return feed(make_clip(tmp_path_factory.mktemp("ring") / "a.mp4", seconds=4.0, gop_s=1.0, with_audio=False))


def _verdict(start: float, end: float) -> Verdict:
    return Verdict("s1", "gambling", "high", 0.9, start, end, (Signal("ocr.keyword", "s1", start, 0.9, "gambling"),))


def _writer(ring: EvidenceRing, lock: threading.Lock, clips: Path, done: list[bool] | None = None) -> EvidenceWriter:
    flag = done if done is not None else [False]
    return EvidenceWriter(
        ring, lock, FrameKeeper(), CFG, clips, wait_s=10.0, ingest_done=lambda: flag[0], clock=lambda: 0.0
    )


async def _pending_for(task: asyncio.Task[Verdict], seconds: float) -> bool:
    """Whether ``task`` is still waiting after ``seconds`` (several of the writer's polls)."""
    await asyncio.sleep(seconds)
    return not task.done()


def test_the_clip_waits_for_its_post_roll_while_the_connection_goes_on(media: Feed, tmp_path: Path) -> None:
    ring, lock = EvidenceRing(), threading.Lock()
    media.push(ring, until=2.4)

    async def go() -> tuple[bool, Verdict]:
        task = asyncio.ensure_future(_writer(ring, lock, tmp_path).attach(_verdict(1.0, 2.0)))
        waited = await _pending_for(task, 4 * POLL_S)
        with lock:
            media.push(ring, since=2.4)  # the post-roll (to 3.0) arrives
        return waited, await asyncio.wait_for(task, 2.0)

    waited, v = asyncio.run(go())
    assert waited, "the clip was cut before its post-roll arrived"
    assert v.clip and Path(v.clip).is_file() and v.clip_end is None
    assert not {"clip_end", "clip_start"} & set(v.to_record())


def test_a_dropped_connection_cuts_the_waiting_clip_at_once(media: Feed, tmp_path: Path) -> None:
    ring, lock = EvidenceRing(), threading.Lock()
    media.push(ring, until=2.4)

    async def go() -> tuple[bool, Verdict]:
        task = asyncio.ensure_future(_writer(ring, lock, tmp_path).attach(_verdict(1.0, 2.0)))
        waited = await _pending_for(task, 2 * POLL_S)
        with lock:
            ring.end_connection()  # what ingest does on Disconnected / Ended, a cut and stop()
        return waited, await asyncio.wait_for(task, 3 * POLL_S + 1.0)

    waited, v = asyncio.run(go())
    assert waited
    assert v.clip and Path(v.clip).is_file() and v.clip_error is None
    # the clip ends where the connection's media did, short of end + post_s = 3.0
    assert v.clip_end is not None and 2.0 <= v.clip_end < 2.6
    rec = v.to_record()
    assert rec["clip_end"] == pytest.approx(v.clip_end, abs=1e-3) and rec["clip_start"] <= 0.5


def test_stopping_ingest_cuts_the_waiting_clip_at_once(media: Feed, tmp_path: Path) -> None:
    ring, lock, done = EvidenceRing(), threading.Lock(), [False]
    media.push(ring, until=2.4)

    async def go() -> Verdict:
        task = asyncio.ensure_future(_writer(ring, lock, tmp_path, done).attach(_verdict(1.0, 2.0)))
        assert await _pending_for(task, 2 * POLL_S)
        done[0] = True
        return await asyncio.wait_for(task, 3 * POLL_S + 1.0)

    v = asyncio.run(go())
    assert v.clip and v.clip_end is not None and v.clip_end < 3.0


def test_an_earlier_connection_ending_does_not_cut_a_later_verdict(media: Feed, tmp_path: Path) -> None:
    """A drop, then a reconnect: a verdict on the new connection still waits for its own post-roll."""
    ring, lock = EvidenceRing(), threading.Lock()
    media.push(ring)
    ring.end_connection()  # connection 0 dropped (at 4.0)
    later = media.shifted(1, 10.0)  # connection 1: media 10..14 on the timeline
    later.push(ring, until=12.4)

    async def go() -> tuple[bool, Verdict]:
        task = asyncio.ensure_future(_writer(ring, lock, tmp_path).attach(_verdict(11.0, 12.0)))
        waited = await _pending_for(task, 4 * POLL_S)
        with lock:
            later.push(ring, since=12.4)
        return waited, await asyncio.wait_for(task, 2.0)

    waited, v = asyncio.run(go())
    assert waited, "a verdict on the new connection was cut by the old connection's end"
    assert v.clip_end is None and v.clip


def test_the_ring_knows_which_connection_carried_a_time(media: Feed) -> None:
    ring = EvidenceRing()
    media.push(ring, until=2.4)
    assert ring.cut_short(2.0) is None  # still going on
    ring.end_connection()
    end = ring.cut_short(2.0)
    assert end is not None and 2.0 < end < 2.6
    media.push(ring, since=2.4, until=3.0)  # read before the drop was noticed: the end stays
    assert ring.cut_short(2.0) == end
    media.shifted(1, 10.0).push(ring)
    assert ring.cut_short(11.0) is None and ring.cut_short(2.0) == end
