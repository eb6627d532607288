"""StreamPipeline on a generated file read at real-time pace, with fake inference clients."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import av
import pytest
from fakes import FakeClients
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.messages import Verdict
from moderation.pipeline.metrics import render_snapshots
from moderation.pipeline.sinks import CallbackSink, JsonlSink
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream import StreamPipeline


def _cfg(**live: object) -> PipelineConfig:
    base = {"allow_files": True, "audio_window_s": 2.0, "audio_overlap_s": 0.5, "clip_wait_s": 3.0}
    return PipelineConfig.model_validate(
        {
            "sampling": {"fps": 2.0},
            "evidence": {"pre_s": 0.5, "post_s": 0.5},
            "ocr": {"fps": 2.0, "gate": {"enabled": False}},  # the fake OCR "reads" text on text-less frames
            "policy": {"categories": {"gambling": {"merge_gap_s": 1.0}}},
            "live": {**base, **live},
        }
    )


@pytest.fixture(scope="module")
def clip6(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("pl") / "c.mp4", seconds=6.0, gop_s=0.5)


def test_realtime_file_gives_verdicts_with_clip_wallclock_and_latency(clip6: Path, tmp_path: Path) -> None:
    got: list[Verdict] = []
    jsonl = JsonlSink(tmp_path / "r.jsonl")
    clients = FakeClients(ocr_span=(1.0, 2.0), speech_t=4.2)
    pipe = StreamPipeline(
        StreamSpec.from_url(str(clip6), "s1"),
        _cfg(),
        clients,
        [jsonl, CallbackSink(got.append)],
        clips_dir=tmp_path / "clips",
    )
    t0 = time.monotonic()
    status = asyncio.run(pipe.run())
    elapsed = time.monotonic() - t0
    jsonl.close()
    assert elapsed >= 5.0  # real-time pace
    assert status.state == "ended" and status.end_reason == "eof"
    assert status.frames_in >= 10 and status.frames_dropped == 0
    kinds = sorted({s.kind for v in got for s in v.signals})
    assert kinds == ["asr.keyword", "ocr.keyword"], got
    v = next(v for v in got if v.signals[0].kind == "ocr.keyword")
    assert v.category == "gambling" and 0.9 <= v.start <= 2.1
    assert v.wallclock_start is not None and v.wallclock_start.endswith("Z")
    assert v.clip is not None and Path(v.clip).is_file() and v.thumbnails and Path(v.thumbnails[0]).is_file()
    with av.open(v.clip) as c:
        dur = float(c.duration or 0) / 1e6
    assert v.end - v.start <= dur <= v.end - v.start + 0.5 + 0.5 + 1.2  # pre/post + keyframe alignment
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(lines) == len(got) and lines[0]["clip"]
    m = pipe.metrics()
    assert m.verdicts == len(got) and m.frame_latency.percentile(50) is not None
    assert m.alert_latency.recent and m.verdict_latency.recent
    text = render_snapshots([m]).decode()
    assert f"moderation_live_frames_total {float(m.frames_in)}" in text and "stream=" not in text
    assert "moderation_live_verdict_latency_seconds_bucket" in text


def test_slow_inference_drops_oldest_and_never_blocks_ingest(clip6: Path) -> None:
    clients = FakeClients(delay_s=1.5)
    pipe = StreamPipeline(StreamSpec.from_url(str(clip6), "slow"), _cfg(frame_queue=2, frame_batch=1), clients)
    t0 = time.monotonic()
    status = asyncio.run(pipe.run())
    # ingest kept real-time pace (6 s), inference saw only a few frames, the rest were dropped and counted
    assert status.frames_dropped > 0
    assert status.frames_in == status.frames_dropped + len(clients.frames_seen)
    assert time.monotonic() - t0 < 6.0 + 3 * 1.5 + 2


def test_inference_errors_are_counted_not_fatal(clip6: Path) -> None:
    clients = FakeClients(fail_vision=True, speech_t=1.0)
    pipe = StreamPipeline(StreamSpec.from_url(str(clip6), "bad"), _cfg(realtime_files=False), clients)
    status = asyncio.run(pipe.run())
    assert status.state == "ended" and pipe.metrics().inference_errors >= status.frames_in
    assert status.verdicts >= 1  # speech still found


def test_refused_url_is_an_error_state() -> None:
    pipe = StreamPipeline(StreamSpec.from_url("rtmp://127.0.0.1:1/live/x"), PipelineConfig(), FakeClients())
    status = asyncio.run(pipe.run())
    assert status.state == "error" and status.error is not None and "loopback" in status.error


def test_stop_ends_a_stream(clip6: Path) -> None:
    async def go() -> str:
        pipe = StreamPipeline(StreamSpec.from_url(str(clip6), "st"), _cfg(), FakeClients())
        task = asyncio.create_task(pipe.run())
        await asyncio.sleep(1.5)
        pipe.stop()
        st = await asyncio.wait_for(task, 5)
        return f"{st.state}:{st.end_reason}"

    assert asyncio.run(go()) == "ended:closed"
