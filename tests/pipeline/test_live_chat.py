"""A live stream's chat feed: wall-clock stamps mapped onto media time, fused with the stream,
re-opened when it ends, and refused (without harm to the stream) when the URL guard says no."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes import FakeClients
from feed_server import FeedServer
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.messages import KeywordHit, Signal, Verdict
from moderation.pipeline.chat_follower import ChatFollower, chat_source
from moderation.pipeline.clock import WallClock
from moderation.pipeline.graph import Engines
from moderation.pipeline.sinks import CallbackSink
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream import StreamPipeline
from moderation.signals.chat import BATCH


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


def test_follower_matches_a_burst_of_chat_in_batches(tmp_path: Path) -> None:
    """Messages that arrive while a batch is being matched are matched together next (up to
    BATCH at a time), and the signals are those of matching message by message."""
    texts = ["百家乐 在线下注 加我", "你好", "上分下分 找我 vx123456", "今天天气不错", "  "] * 30
    feed = tmp_path / "c.jsonl"
    rows = [{"t": k * 0.01, "user": f"u{k % 7}", "text": t} for k, t in enumerate(texts)]
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    base = _cfg(None)  # every hit its own signal:
    cfg = base.model_copy(update={"chat": base.chat.model_copy(update={"dedup_window_s": 0.001})})
    matcher = Engines(cfg).matcher
    sizes: list[int] = []
    follower: ChatFollower | None = None
    read = 0  # messages in the feed, as the follower reads them

    class HeldMatcher:
        """The real matcher, holding its first batch until the whole feed has been read."""

        def __call__(self, text: str) -> list[KeywordHit]:
            return matcher.match(text)

        def match_many(self, many: Sequence[str]) -> list[list[KeywordHit]]:
            deadline = time.monotonic() + 10
            while not sizes and follower is not None and follower.status.messages < read:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            sizes.append(len(many))
            return matcher.match_many(many)

    def follow(match: object) -> list[list[Signal]]:
        nonlocal follower
        clock = WallClock()
        clock.observe(0.0, datetime.now(UTC))
        got: list[list[Signal]] = []
        follower = ChatFollower(str(feed), StreamSpec("s", "rtmp://o/live/s"), cfg, clock, match, got.append)  # type: ignore[arg-type]
        follower.run()  # a file is read once; every message is handled when run returns
        return got

    one_by_one = follow(matcher.match)  # no match_many: matched message by message
    assert follower is not None
    read = follower.status.messages
    batched = follow(HeldMatcher())
    assert batched == one_by_one and sum(len(s) for s in batched) >= 60
    assert read == len(texts) and sum(sizes) == sum(1 for t in texts if t.strip())  # blank lines are not matched
    # the messages read while the first batch was held came in batches of up to BATCH messages
    assert 2 <= len(sizes) <= -(-len(texts) // BATCH) + 1 and max(sizes) <= BATCH
