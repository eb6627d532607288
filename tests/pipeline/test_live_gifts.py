"""A live stream's gift feed: wall-clock stamps mapped onto media time, gifts and the stream's
other signals through one gift tracker, its verdicts fused with the stream's, and a refused feed
reported without harm to the stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeClients
from feed_server import FeedServer
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.messages import Verdict
from moderation.pipeline.chat_follower import gift_source
from moderation.pipeline.sinks import CallbackSink
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream import StreamPipeline


def _cfg(gifts: str | None, chat: str | None = None) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "sampling": {"fps": 2.0},
            "evidence": {"pre_s": 0.5, "post_s": 0.5},
            "ocr": {"fps": 2.0, "gate": {"enabled": False}},
            "gifts": {"burst_count": 5},
            "live": {
                "allow_files": True,
                "audio_window_s": 2.0,
                "audio_overlap_s": 0.5,
                "clip_wait_s": 3.0,
                "allow_networks": ["127.0.0.0/8"],
                "gift_source": gifts,
                "chat_source": chat,
            },
        }
    )


@pytest.fixture(scope="module")
def clip6(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("gifts") / "c.mp4", seconds=6.0, gop_s=0.5)


def _burst_and_a_bad_line() -> str:
    """One viewer sends six gifts at once (a burst) and a bad line, stamped with the send time."""
    now = time.time()
    gifts = [{"ts": now, "user": "whale", "gift": "heart", "value": 1} for _ in range(6)]
    bad = {"ts": now, "user": "whale", "gift": "rocket", "value": -1}
    return "".join(json.dumps(g) + "\n" for g in [*gifts, bad])


@pytest.fixture
def gift_server() -> Iterator[FeedServer]:
    with FeedServer(_burst_and_a_bad_line, send_after=1.5, open_for=3.5) as srv:
        yield srv


def test_gift_feed_joins_the_stream(clip6: Path, gift_server: FeedServer) -> None:
    got: list[Verdict] = []
    cfg = _cfg(gift_server.url + "/gifts/{stream}")
    pipe = StreamPipeline(
        StreamSpec.from_url(str(clip6), "s1"), cfg, FakeClients(ocr_span=(100.0, 101.0)), [CallbackSink(got.append)]
    )
    status = asyncio.run(pipe.run())
    assert status.state == "ended" and status.gift_error is None and status.chat_error is None
    assert status.gift_events == 6
    assert gift_server.requests[0] == "/gifts/s1"
    (v,) = got
    assert v.category == "tipping_abnormal" and v.subject is not None and v.subject.id == "whale"
    assert {s.kind for s in v.signals} == {"gift.burst"}
    assert 0.5 <= v.start <= 3.5  # sent ~1.5 s after the feed was opened
    m = pipe.metrics()
    assert m.gift_events == 6 and m.gift_bad_lines == 1


def test_refused_gift_feed_is_reported_and_the_stream_goes_on(clip6: Path) -> None:
    pipe = StreamPipeline(
        StreamSpec.from_url(str(clip6), "s1"),
        _cfg("http://169.254.169.254/latest/gifts"),
        FakeClients(ocr_span=(1.0, 2.0)),
    )
    status = asyncio.run(pipe.run())
    assert status.state == "ended" and status.frames_processed >= 10 and status.verdicts >= 1
    assert status.gift_error is not None and "gift feed refused" in status.gift_error and status.gift_events == 0


def test_gift_source_template_and_own_feed() -> None:
    cfg = _cfg("https://gifts.example/{app}/{name}.jsonl")
    spec = StreamSpec.from_url("rtmp://origin/live/room42")
    assert gift_source(spec, cfg) == "https://gifts.example/live/room42.jsonl"
    own = StreamSpec("room42", spec.url, "live", "room42", gifts="https://other.example/x")
    assert gift_source(own, cfg) == "https://other.example/x"
    assert gift_source(spec, _cfg(None)) is None
    with pytest.raises(ValueError, match="bad template"):
        _cfg("https://gifts.example/{room}")


def test_a_minor_who_tips_live_is_a_minors_and_tipping_verdict(clip6: Path, tmp_path: Path) -> None:
    """The chat thread's disclosure and the gift thread's gift meet in the stream's one tracker,
    whichever arrives first."""
    chat = tmp_path / "chat.jsonl"
    chat.write_text(json.dumps({"t": 0.5, "user": "kid", "text": "我才13岁"}, ensure_ascii=False) + "\n")
    gifts = tmp_path / "gifts.jsonl"
    gifts.write_text(json.dumps({"t": 1.0, "user": "kid", "gift": "rose", "value": 1}) + "\n")
    got: list[Verdict] = []
    pipe = StreamPipeline(
        StreamSpec.from_url(str(clip6), "s1"),
        _cfg(str(gifts), str(chat)),
        FakeClients(ocr_span=(100.0, 101.0)),
        [CallbackSink(got.append)],
    )
    status = asyncio.run(pipe.run())
    assert status.state == "ended" and status.gift_events == 1 and status.chat_messages == 1
    kid = {v.category for v in got if v.subject is not None and v.subject.id == "kid"}
    assert kid == {"minors", "tipping_abnormal"}
    tipping = next(v for v in got if v.category == "tipping_abnormal")
    assert "gift.minor" in {s.kind for s in tipping.signals}
