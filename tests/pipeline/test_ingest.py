"""StreamIngest on scripted source events (no network): state, queues, clock and counters."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from media_factory import make_clip

from moderation.config import PipelineConfig, source_config
from moderation.ingest.packets import CodecTemplates
from moderation.ingest.source import AudioEvent, Connected, Disconnected, Ended, FrameEvent, Gap
from moderation.messages import AudioWindow, VideoFrame
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream_ingest import StreamIngest

T0 = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
CFG = PipelineConfig.model_validate({"live": {"allow_files": True}})


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> CodecTemplates:
    clip = make_clip(tmp_path_factory.mktemp("ing") / "c.mp4", seconds=1.0, gop_s=0.5)
    with av.open(str(clip)) as c:
        return CodecTemplates(c.streams.video[0], c.streams.audio[0])


def frame(t: float) -> FrameEvent:
    return FrameEvent(VideoFrame("s1", t, np.zeros((8, 8, 3), np.uint8)), at(100 + t))


def test_events_drive_state_queues_and_clock(templates: CodecTemplates) -> None:
    seen: list[float] = []
    ing = StreamIngest(
        StreamSpec("s1", "rtmp://o/live/s1"), CFG, source_config(CFG), on_frame=lambda ev: seen.append(ev.frame.t)
    )
    assert ing.state == "starting" and not ing.has_audio
    ing.on_event(Connected("s1", 1, 0.0, at(100), 1, templates))
    assert ing.state == "live" and ing.has_audio  # the stream has audio and ASR is on
    for t in (0.0, 1.0, 2.0):
        ing.on_event(frame(t))
    ing.on_event(AudioEvent(AudioWindow("s1", 0.0, np.zeros(16000, np.float32)), at(101), at(100)))
    assert seen == [0.0, 1.0, 2.0] and len(ing.frames) == 3 and len(ing.audio) == 1
    assert ing.ingested_t == 2.0 and ing.clock.wall_at(1.0) == at(101)
    ing.on_event(Disconnected("s1", 2.0, at(102.5), "read timeout"))
    assert ing.state == "reconnecting"
    ing.on_event(Gap("s1", 2.0, 9.0, at(102.5), at(109), 2, "publisher restarted"))
    assert ing.state == "live" and [g.end_media for g in ing.gaps] == [9.0]
    ing.on_event(Ended("s1", "gave_up", 9.0, at(170), "no data for 60 s"))
    assert (ing.final, ing.error, ing.end_reason) == ("error", "no data for 60 s", "gave_up")


def test_a_refused_url_ends_ingest_with_an_error_and_closes_the_queues(tmp_path: Path) -> None:
    ing = StreamIngest(StreamSpec("s1", "rtmp://10.1.2.3/live/s1"), CFG, source_config(CFG))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        await asyncio.to_thread(ing.run, loop, done)
        await asyncio.wait_for(done, 5)

    asyncio.run(main())
    assert ing.done and ing.final == "error" and ing.error is not None and "refused" in ing.error
    assert ing.frames.closed and ing.audio.closed


def test_a_stopped_thread_that_does_not_end_is_detached_and_its_late_events_are_dropped(
    templates: CodecTemplates,
) -> None:
    """finished() returns soon after stop even though ``done`` never resolves (the thread is blocked
    in a network call); what the thread reports afterwards changes nothing."""
    ing = StreamIngest(StreamSpec("s1", "rtmp://o/live/s1"), CFG, source_config(CFG))
    ing.on_event(Connected("s1", 0, 0.0, at(100), 1, templates))
    ing.on_event(frame(0.0))

    async def main() -> float:
        done = asyncio.get_running_loop().create_future()  # the blocked thread never resolves it
        waiting = asyncio.create_task(ing.finished(done, grace_s=0.2))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # not stopped: finished() waits for the thread
        started = asyncio.get_running_loop().time()
        await asyncio.to_thread(ing.stop)  # from another thread, as the pool does
        await asyncio.wait_for(waiting, 5)
        return asyncio.get_running_loop().time() - started

    took = asyncio.run(main())
    assert 0.2 <= took < 2.0 and ing.detached
    assert (ing.final, ing.end_reason, ing.error) == ("ended", "closed", None)
    assert ing.frames.closed and ing.audio.closed and len(ing.frames) == 1  # queued frames stay for the workers
    ing.on_event(Gap("s1", 0.0, 5.0, at(100), at(105), 2, "reconnected late"))
    ing.on_event(frame(5.0))
    ing.on_event(Ended("s1", "gave_up", 5.0, at(130), "late"))
    assert ing.gaps == [] and ing.ingested_t == 0.0 and len(ing.frames) == 1
    assert (ing.final, ing.end_reason, ing.error) == ("ended", "closed", None)


def test_a_stopped_thread_that_ends_within_the_grace_is_not_detached() -> None:
    ing = StreamIngest(StreamSpec("s1", "rtmp://o/live/s1"), CFG, source_config(CFG))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        ing.stop()  # before finished() is called: it must still notice
        loop.call_later(0.05, done.set_result, None)  # the thread ends between packets
        await asyncio.wait_for(ing.finished(done, grace_s=5.0), 2)

    asyncio.run(main())
    assert not ing.detached
