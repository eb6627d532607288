"""A live stream's tasks survive bad items: a poisoned chat line, a failing frame batch, a task
that dies. Each failure is counted (status and /metrics), and the frame task goes on producing
frame (OCR) signals and verdicts for the rest of the stream."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeClients
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.messages import ChatMessage, Signal, Verdict
from moderation.pipeline.chat_follower import ChatFollower
from moderation.pipeline.clock import WallClock
from moderation.pipeline.graph import Engines
from moderation.pipeline.metrics import render_snapshots
from moderation.pipeline.sinks import CallbackSink
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream import StreamPipeline

SPAM = "百家乐 在线下注 加我"


def _cfg(chat: str | None = None, dedup_s: float = 10.0) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "sampling": {"fps": 2.0},
            "evidence": {"pre_s": 0.5, "post_s": 0.5},
            "ocr": {"fps": 2.0, "gate": {"enabled": False}},
            "policy": {"categories": {"gambling": {"merge_gap_s": 1.0}}},
            "chat": {"live_ahead_s": 5.0, "dedup_window_s": dedup_s},
            "live": {
                "allow_files": True,
                "audio_window_s": 2.0,
                "audio_overlap_s": 0.5,
                "clip_wait_s": 3.0,
                "chat_source": chat,
            },
        }
    )


@pytest.fixture(scope="module")
def clip6(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("iso") / "c.mp4", seconds=6.0, gop_s=0.5)


def _ocr_verdicts(got: list[Verdict]) -> list[Verdict]:
    return [v for v in got if any(s.kind == "ocr.keyword" for s in v.signals)]


def test_poisoned_chat_lines_are_bad_lines_and_frames_keep_being_moderated(clip6: Path, tmp_path: Path) -> None:
    chat = tmp_path / "chat.jsonl"
    lines = [
        {"t": 1e18, "user": "x", "text": SPAM},
        {"ts": time.time() + 1e9, "user": "x", "text": SPAM},
        {"ts": 1e300, "user": "x", "text": SPAM},
        {"ts": 253402300800 * 4, "user": "x", "text": SPAM},
        {"t": 60.0, "user": "x", "text": SPAM},
    ]
    chat.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    got: list[Verdict] = []
    pipe = StreamPipeline(
        StreamSpec.from_url(str(clip6), "s1"),
        _cfg(str(chat)),
        FakeClients(ocr_span=(3.0, 4.5)),
        [CallbackSink(got.append)],
    )
    status = asyncio.run(pipe.run())
    assert status.state == "ended" and status.frames_processed >= 10
    m = pipe.metrics()
    assert m.chat_bad_lines == 5 and status.chat_messages == 0
    assert status.task_errors == 0 and status.task_restarts == 0 and status.task_failure is None
    (v,) = _ocr_verdicts(got)  # frames after the poisoned lines were still moderated
    assert 2.9 <= v.start <= 3.6 and pipe.alerts and pipe.alerts[0].sources == ("frames",)


def test_a_far_future_signal_that_got_through_does_not_stop_the_frame_task(clip6: Path) -> None:
    got: list[Verdict] = []
    pipe = StreamPipeline(
        StreamSpec.from_url(str(clip6), "s2"), _cfg(), FakeClients(ocr_span=(3.0, 4.5)), [CallbackSink(got.append)]
    )
    poison = Signal("chat.keyword", "s2", 1e18, 0.9, "gambling", term="x")
    arrived = pipe._frame_arrived
    sent = threading.Event()

    def frame_arrived(ev: Any) -> None:  # the ingest thread, as the chat thread would call in
        arrived(ev)
        if ev.frame.t >= 1.0 and not sent.is_set():
            sent.set()
            pipe._from_chat([poison])

    pipe.ingest.on_frame = frame_arrived
    status = asyncio.run(pipe.run())
    assert sent.is_set() and status.state == "ended" and status.frames_processed >= 10
    assert status.task_restarts == 0 and status.task_failure is None
    assert _ocr_verdicts(got), got  # OCR signals after the poison still made their verdict


def test_a_failing_frame_batch_is_counted_and_the_task_goes_on(clip6: Path) -> None:
    got: list[Verdict] = []
    clients = FakeClients(ocr_span=(3.0, 4.5))
    pipe = StreamPipeline(StreamSpec.from_url(str(clip6), "s3"), _cfg(), clients, [CallbackSink(got.append)])
    analyse = pipe._frame_an.analyse
    calls = {"n": 0}

    async def flaky(frames: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("one bad batch")
        return await analyse(frames)

    pipe._frame_an.analyse = flaky  # type: ignore[method-assign]
    status = asyncio.run(pipe.run())
    assert calls["n"] >= 8 and status.state == "ended"
    assert status.task_errors == 1 and status.task_restarts == 0 and status.task_failure is None
    assert _ocr_verdicts(got)
    text = render_snapshots([pipe.metrics()]).decode()
    assert "moderation_live_task_errors_total 1.0" in text


def test_a_task_that_dies_is_restarted_and_shown_in_the_status(clip6: Path) -> None:
    got: list[Verdict] = []
    pipe = StreamPipeline(
        StreamSpec.from_url(str(clip6), "s4"), _cfg(), FakeClients(ocr_span=(3.0, 4.5)), [CallbackSink(got.append)]
    )
    get_batch = pipe.frames.get_batch
    calls = {"n": 0}

    async def dies_once(n: int, timeout: float | None = None) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("queue broke")
        return await get_batch(n, timeout)

    pipe.frames.get_batch = dies_once  # type: ignore[method-assign]
    status = asyncio.run(pipe.run())
    assert status.task_restarts == 1 and status.task_failure is not None
    assert "frame task died" in status.task_failure and "queue broke" in status.task_failure
    assert status.frames_processed >= 8 and _ocr_verdicts(got)
    text = render_snapshots([pipe.metrics()]).decode()
    assert "moderation_live_task_restarts_total 1.0" in text


def test_chat_follower_skips_a_message_whose_handling_fails(tmp_path: Path) -> None:
    feed = tmp_path / "c.jsonl"
    feed.write_text("".join(json.dumps({"t": t, "user": f"u{t}", "text": SPAM}) + "\n" for t in (1, 2, 3)))
    cfg = _cfg(dedup_s=0.1)  # each line is its own signal
    match = Engines(cfg).matcher.match
    got: list[ChatMessage] = []

    def on_signals(signals: list[Signal]) -> None:
        if signals[0].user == "u2":
            raise RuntimeError("consumer bug")
        got.extend(ChatMessage("s", s.t, s.user or "", "") for s in signals[:1])

    clock = WallClock()
    clock.observe(0.0, datetime.now(UTC))
    follower = ChatFollower(
        str(feed), StreamSpec("s", "rtmp://o/live/s"), cfg, clock, match, on_signals, backoff_s=0.01
    )
    follower.run()  # a file is read once
    assert follower.status.messages == 3 and follower.failures.errors == 1
    assert [m.user for m in got] == ["u1", "u3"]  # the message after the failing one was handled
