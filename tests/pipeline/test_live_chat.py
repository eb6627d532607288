"""A live stream's chat feed: wall-clock stamps mapped onto media time, fused with the stream,
re-opened when it ends, and refused (without harm to the stream) when the URL guard says no."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes import FakeClients
from feed_server import FeedServer
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.messages import Signal, Verdict
from moderation.pipeline.chat_follower import ChatFollower, chat_source
from moderation.pipeline.clock import WallClock
from moderation.pipeline.graph import Engines
from moderation.pipeline.sinks import CallbackSink
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream import StreamPipeline


def _cfg(chat: str | None) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "sampling": {"fps": 2.0},
            "evidence": {"pre_s": 0.5, "post_s": 0.5},
            "ocr": {"fps": 2.0, "gate": {"enabled": False}},
            "policy": {"categories": {"gambling": {"merge_gap_s": 1.0}}},
            "live": {
                "allow_files": True,
                "audio_window_s": 2.0,
                "audio_overlap_s": 0.5,
                "clip_wait_s": 3.0,
                "allow_networks": ["127.0.0.0/8"],
                "chat_source": chat,
            },
        }
    )


@pytest.fixture(scope="module")
def clip6(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("chat") / "c.mp4", seconds=6.0, gop_s=0.5)


def _two_viewers_same_line() -> str:
    """Two viewers posting the same gambling line (one signal, not two), stamped with the send time."""
    msg = {"ts": time.time(), "text": "百家乐 在线下注 加我"}
    return "".join(json.dumps({**msg, "user": u}, ensure_ascii=False) + "\n" for u in ("v1", "v2"))


def ChatServer(send_after: float = 2.0, open_for: float = 3.5) -> FeedServer:
    return FeedServer(_two_viewers_same_line, send_after, open_for)


@pytest.fixture
def chat_server() -> Iterator[FeedServer]:
    with FeedServer(_two_viewers_same_line, send_after=2.0, open_for=3.5) as srv:
        yield srv


def test_chat_feed_joins_the_stream_and_is_reopened(clip6: Path, chat_server: FeedServer) -> None:
    got: list[Verdict] = []
    cfg = _cfg(chat_server.url + "/chat/{stream}")
    pipe = StreamPipeline(
        StreamSpec.from_url(str(clip6), "s1"), cfg, FakeClients(ocr_span=(100.0, 101.0)), [CallbackSink(got.append)]
    )
    status = asyncio.run(pipe.run())
    assert status.state == "ended" and status.chat_error is None
    assert status.chat_messages == 2
    assert chat_server.requests[0] == "/chat/s1"
    (v,) = got
    assert v.category == "gambling" and {s.kind for s in v.signals} == {"chat.keyword"}
    terms = [s.term for s in v.signals]
    assert len(terms) == len(set(terms)) >= 1  # each term once: the second viewer's copy is a repeat
    assert {s.user for s in v.signals} == {"v1"} and 1.0 <= v.start <= 3.5  # sent ~2 s after the start
    assert pipe.alerts[0].early and pipe.alerts[0].sources == ("chat",)  # known when it came, not a window later
    assert pipe.metrics().chat_messages == 2
    if status.media_t > 4.0:  # the 3.5 s feed ended while the 6 s stream went on: it was reopened
        assert len(chat_server.requests) >= 2


def test_refused_chat_feed_is_reported_and_the_stream_goes_on(clip6: Path) -> None:
    pipe = StreamPipeline(
        StreamSpec.from_url(
            str(clip6),
            "s1",
        ),
        _cfg("http://169.254.169.254/latest/chat"),
        FakeClients(ocr_span=(1.0, 2.0)),
    )
    status = asyncio.run(pipe.run())
    assert status.state == "ended" and status.frames_processed >= 10 and status.verdicts == 1
    assert status.chat_error is not None and "refused" in status.chat_error and status.chat_messages == 0


def test_chat_source_template_and_own_feed() -> None:
    cfg = _cfg("https://chat.example/{app}/{name}.jsonl")
    spec = StreamSpec.from_url("rtmp://origin/live/room42")
    assert chat_source(spec, cfg) == "https://chat.example/live/room42.jsonl"
    own = StreamSpec("room42", spec.url, "live", "room42", chat="https://other.example/x")
    assert chat_source(own, cfg) == "https://other.example/x"
    assert chat_source(spec, _cfg(None)) is None


def test_follower_reopens_a_feed_that_ends_and_stops_when_told() -> None:
    clock = WallClock()
    clock.observe(0.0, datetime.now(UTC))
    got: list[list[Signal]] = []
    with FeedServer(_two_viewers_same_line, send_after=0.1, open_for=0.4) as srv:
        cfg = _cfg(None)
        follower = ChatFollower(
            srv.url + "/c",
            StreamSpec("s1", "rtmp://o/live/s1"),
            cfg,
            clock,
            Engines(cfg).matcher.match,
            got.append,
            backoff_s=0.05,
        )
        follower.start()
        deadline = time.monotonic() + 10
        while follower.status.reopened < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        follower.stop()
    assert follower.status.reopened >= 3 and len(srv.requests) >= 3  # each end → a new request
    assert follower.status.messages == 2 and follower.status.error is None
    assert [s.user for batch in got for s in batch] and {s.user for batch in got for s in batch} == {"v1"}
