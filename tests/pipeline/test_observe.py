"""Pipeline observers: every frame, frame batch, audio window, verdict and alert is reported with
its timings; an observer that raises is counted and changes nothing else; a pool hands observers
to each of its streams."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fakes import FakeClients
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.pipeline.alerts import Alert
from moderation.pipeline.observe import (
    AudioWindowDone,
    FrameArrived,
    FrameBatchDone,
    NullObserver,
    PipelineObserver,
    VerdictWritten,
)
from moderation.pipeline.pool import LocalPool
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream import StreamPipeline


def _cfg() -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "sampling": {"fps": 2.0},
            "ocr": {"fps": 2.0, "gate": {"enabled": False}},
            "policy": {"categories": {"gambling": {"merge_gap_s": 1.0}}},
            "live": {"allow_files": True, "audio_window_s": 2.0, "audio_overlap_s": 0.5},
        }
    )


class Recorder:
    def __init__(self) -> None:
        self.frames: list[FrameArrived] = []
        self.batches: list[FrameBatchDone] = []
        self.windows: list[AudioWindowDone] = []
        self.verdicts: list[VerdictWritten] = []
        self.alerts: list[tuple[str, Alert]] = []

    def on_frame(self, ev: FrameArrived) -> None:
        self.frames.append(ev)

    def on_frame_batch(self, ev: FrameBatchDone) -> None:
        self.batches.append(ev)

    def on_audio_window(self, ev: AudioWindowDone) -> None:
        self.windows.append(ev)

    def on_verdict(self, ev: VerdictWritten) -> None:
        self.verdicts.append(ev)

    def on_alert(self, stream: str, alert: Alert) -> None:
        self.alerts.append((stream, alert))


class Broken(NullObserver):
    def on_frame_batch(self, ev: FrameBatchDone) -> None:
        raise RuntimeError("observer bug")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("obs") / "c.mp4", seconds=4.0, gop_s=0.5)


def test_every_moment_is_reported_with_its_timings(clip: Path) -> None:
    rec = Recorder()
    observer: PipelineObserver = rec
    clients = FakeClients(ocr_span=(1.0, 2.0), speech_t=2.5)
    pipe = StreamPipeline(StreamSpec.from_url(str(clip), "s1"), _cfg(), clients, observers=[observer, Broken()])
    status = asyncio.run(pipe.run())
    assert status.state == "ended"
    assert len(rec.frames) == status.frames_in >= 6 and {f.stream for f in rec.frames} == {"s1"}
    assert sum(len(b.t) for b in rec.batches if not b.failed) == status.frames_processed
    assert [f.t for f in rec.frames] == [t for b in rec.batches for t in b.t]  # nothing dropped here
    assert all(d >= 0 for b in rec.batches for d in b.latencies())
    assert sum(b.ocr_frames for b in rec.batches) == pipe.metrics().frames_processed
    assert len(rec.windows) == status.audio_windows and all(w.lag_s is not None for w in rec.windows)
    assert [v.verdict for v in rec.verdicts] == pipe.verdicts and rec.verdicts
    assert all(v.written >= v.evidence_arrived for v in rec.verdicts if v.evidence_arrived is not None)
    assert [a for _, a in rec.alerts] == list(pipe.alerts) and {s for s, _ in rec.alerts} == {"s1"}
    # the metrics are an observer too: its histograms saw what the recorder saw
    m = pipe.metrics()
    assert len(m.frame_latency.recent) == sum(len(b.t) for b in rec.batches)
    assert len(m.verdict_latency.recent) == len(rec.verdicts)
    # the broken observer cost nothing but its own calls, each counted
    assert status.task_errors == len(rec.batches) and status.task_failure is None


def test_a_pool_gives_its_observers_to_every_stream(clip: Path) -> None:
    rec = Recorder()

    async def main() -> None:
        pool = LocalPool(_cfg(), FakeClients(ocr_span=(1.0, 2.0)), observers=[rec])
        await pool.add(StreamSpec.from_url(str(clip), "a"))
        await pool.add(StreamSpec.from_url(str(clip), "b"))
        await pool.wait_all()
        await pool.close()

    asyncio.run(main())
    assert {f.stream for f in rec.frames} == {b.stream for b in rec.batches} == {"a", "b"}
    assert {s for s, _ in rec.alerts} == {"a", "b"}
