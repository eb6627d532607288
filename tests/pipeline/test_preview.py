"""Early alerts from frame signals (the preview fuser) and one action per violation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fakes import FakeClients
from media_factory import make_clip

from moderation.config import EnforcementConfig, PipelineConfig
from moderation.messages import Verdict
from moderation.pipeline.alerts import Alert, ViolationLog, evidence_source
from moderation.pipeline.enforce import EnforcementResult, Enforcer, Target
from moderation.pipeline.sinks import CallbackSink
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream import StreamPipeline
from moderation.policy.fuse import fuse


def _cfg() -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "sampling": {"fps": 2.0},
            "evidence": {"pre_s": 0.5, "post_s": 0.5},
            "ocr": {"fps": 2.0, "gate": {"enabled": False}},
            "policy": {"categories": {"gambling": {"merge_gap_s": 1.0, "action": "warn"}}},
            "live": {
                "allow_files": True,
                "audio_window_s": 2.0,
                "audio_overlap_s": 0.5,
                "clip_wait_s": 3.0,
                "enforcement": {"on_active": True},
            },
        }
    )


class RecordingEnforcer(Enforcer):
    """Records what would be enforced; sends nothing."""

    def __init__(self) -> None:
        super().__init__(EnforcementConfig())
        self.seen: list[Verdict] = []

    async def enforce(self, verdict: Verdict, target: Target) -> EnforcementResult | None:
        self.seen.append(verdict)
        return None


@pytest.fixture(scope="module")
def clip6(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("pv") / "c.mp4", seconds=6.0, gop_s=0.5)


def test_caption_is_alerted_before_any_transcript_and_acted_on_once(clip6: Path) -> None:
    """Speech at 0.5 s, caption at 3–4 s. Transcripts are held back until something was alerted:
    only the preview (frame signals alone) can alert first. The speech, heard a caption earlier but
    reported after it, is still its own verdict, as an offline scan decides."""
    pipe: StreamPipeline | None = None
    asr_blocked_at_alert: list[bool] = []

    def alerted() -> bool:
        if pipe is not None and pipe.alerts and not asr_blocked_at_alert:
            asr_blocked_at_alert.append(pipe._audio_an.counts.windows == 0 or pipe._audio_done_t < 3.0)
        return pipe is not None and bool(pipe.alerts)

    clients = FakeClients(ocr_span=(3.0, 4.0), speech_t=0.5, asr_until=alerted)
    got: list[Verdict] = []
    heard: list[Alert] = []
    enforcer = RecordingEnforcer()
    pipe = StreamPipeline(
        StreamSpec.from_url(str(clip6), "s1"),
        _cfg(),
        clients,
        [CallbackSink(got.append)],
        enforcer=enforcer,
        on_alert=heard.append,
    )
    status = asyncio.run(pipe.run())
    assert status.state == "ended"

    first = pipe.alerts[0]
    assert first.category == "gambling" and first.early and first.sources == ("frames",)
    assert 2.9 <= first.start <= 3.6
    assert heard == list(pipe.alerts) and status.alerts == 2 and status.last_alert == pipe.alerts[-1]
    assert asr_blocked_at_alert == [True]
    # two violations (speech at 0.5 s, caption 3–4 s), each alerted once
    assert sorted((a.visual, a.early) for a in pipe.alerts) == [(False, False), (True, True)]
    kinds = sorted(tuple(sorted({s.kind for s in v.signals})) for v in got)
    assert kinds == [("asr.keyword",), ("ocr.keyword",)], got
    signals = [s for v in got for s in v.signals]
    offline = fuse("s1", signals, _cfg().policy)
    assert [(v.start, v.end, len(v.signals)) for v in offline] == [(v.start, v.end, len(v.signals)) for v in got]
    # warned once per violation: the preview's open caption and its final verdict are one violation
    warned = sorted((v.category, v.signals[0].kind) for v in enforcer.seen)
    assert warned == [("gambling", "asr.keyword"), ("gambling", "ocr.keyword")], enforcer.seen


def test_violation_log_joins_sightings_within_the_merge_gap() -> None:
    log = ViolationLog(lambda category: 2.0 if category == "gambling" else 0.5)
    assert log.first(("gambling",), 10.0, 10.0)
    assert not log.first(("gambling",), 9.0, 14.0)  # the authoritative verdict starts earlier: same one
    assert not log.first(("gambling",), 15.5, 16.0)  # within 2 s of the grown interval's end (14)
    assert log.first(("gambling",), 18.5, 19.0)  # further than the gap: a new violation
    assert log.first(("gambling", "cut"), 10.0, 10.0)  # another action on the same violation
    assert log.first(("vulgar",), 10.0, 10.0)  # another category
    assert not log.first(("vulgar",), 10.4, 10.4)
    assert log.first(("vulgar",), 11.0, 11.0)  # vulgar's gap is 0.5 s
    assert len(log) == 5


def test_violation_log_is_bounded() -> None:
    log = ViolationLog(lambda _c: 0.0, keep=4)
    for k in range(10):
        assert log.first(("vulgar",), float(k * 10), float(k * 10))
    assert len(log) == 4


def test_evidence_sources() -> None:
    assert [
        evidence_source(k)
        for k in ("asr.keyword", "chat.keyword", "ocr.keyword", "qr.url", "image.nudenet", "synthetic.loop")
    ] == ["speech", "chat", "frames", "frames", "frames", "frames"]
