"""One stage graph: live and offline build the same trackers, call the same clients, reach the same verdicts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import FakeClients
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.messages import VideoFrame
from moderation.pipeline import analysis
from moderation.pipeline.analysis import FrameAnalyzer
from moderation.pipeline.clients import BatchFamily, LocalClients
from moderation.pipeline.graph import Engines, FileTask, scan_files, scan_one
from moderation.pipeline.sinks import CallbackSink
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream import StreamPipeline
from moderation.signals.qr import QrCode
from moderation.signals.synthetic import ClassifierScore, FrameScores


def _frames(times: Sequence[float], stream: str = "s") -> list[VideoFrame]:
    return [VideoFrame(stream, t, np.zeros((32, 32, 3), np.uint8)) for t in times]


def test_live_frame_analyser_uses_the_configured_qr_gap_and_url_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A payload only a URL pattern flags is reported, and again once gone for longer than ``qr.gap_s``."""
    monkeypatch.setattr(
        analysis, "decode_qr", lambda _image: [QrCode("https://promo.example/r/BET-123", (0.0, 0.0, 10.0, 10.0))]
    )
    cfg = PipelineConfig.model_validate(
        {
            "vision": {"enabled": False},
            "ocr": {"enabled": False},
            "synthetic": {"enabled": False},
            "qr": {"url_patterns": [r"/r/bet-\d+"], "gap_s": 2.0, "url_keywords": False, "every_s": 0.0},
        }
    )
    an = FrameAnalyzer("s", cfg, FakeClients(), Engines(cfg).matcher)
    got = asyncio.run(an.analyse(_frames([0.0, 1.0, 4.0, 4.5])))
    # first sighting at once, the seconds it stayed (0-1 s) when it left, then the new appearance
    assert [(s.t, s.end) for s in got.signals if s.kind == "qr.url"] == [(0.0, 0.0), (0.0, 1.0), (4.0, 4.0)]


class ScoringClients(FakeClients):
    """FakeClients with a synthetic family that scores frames after 1 s as synthetic."""

    def __init__(self) -> None:
        super().__init__()
        self.synthetic_calls = 0

    async def synthetic(self, frames: Sequence[VideoFrame]) -> Sequence[FrameScores | Exception]:
        self.synthetic_calls += 1
        return [(ClassifierScore("fake-synth", "synthetic_unlabeled", 0.9 if f.t > 1.0 else 0.1),) for f in frames]


def test_synthetic_classifiers_are_called_through_the_clients() -> None:
    cfg = PipelineConfig.model_validate(
        {
            "vision": {"enabled": False},
            "ocr": {"enabled": False},
            "qr": {"enabled": False},
            "synthetic": {"classifiers": ["fake-synth"], "loop": {"enabled": False}},
        }
    )
    clients = ScoringClients()
    an = FrameAnalyzer("s", cfg, clients, Engines(cfg).matcher)
    got = asyncio.run(an.analyse(_frames([0.0, 1.0, 2.0])))
    assert clients.synthetic_calls == 1
    assert [(s.kind, s.t) for s in got.signals] == [("synthetic.model.fake-synth", 2.0)]


def _cfg() -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "sampling": {"fps": 2.0},
            "evidence": {"clips": False},
            "ocr": {"fps": 2.0, "gate": {"enabled": False}},
            "asr": {"window_s": 2.0},
            "policy": {"categories": {"gambling": {"merge_gap_s": 1.0}}},
            "live": {"allow_files": True, "audio_window_s": 2.0, "audio_overlap_s": 0.5},
        }
    )


def _key(verdicts: Sequence[Any]) -> list[tuple[str, float, float, tuple[tuple[str, float], ...]]]:
    return sorted((v.category, v.start, v.end, tuple(sorted((s.kind, s.t) for s in v.signals))) for v in verdicts)


def test_live_and_offline_verdicts_for_the_same_media_are_equal(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", seconds=6.0, gop_s=0.5)
    live: list[Any] = []
    pipe = StreamPipeline(
        StreamSpec.from_url(str(clip), "s1"),
        _cfg(),
        FakeClients(ocr_span=(3.0, 4.0), speech_t=0.5, speech="online casino"),
        [CallbackSink(live.append)],
    )
    assert asyncio.run(pipe.run()).state == "ended"
    engines = Engines(_cfg())
    offline = asyncio.run(
        scan_one(FileTask(clip, "s1"), engines, FakeClients(ocr_span=(3.0, 4.0), speech_t=0.5, speech="online casino"))
    )
    assert {v.category for v in offline.verdicts} == {"gambling"}
    kinds = sorted(s.kind for v in offline.verdicts for s in v.signals)
    assert "asr.keyword" in kinds and "ocr.keyword" in kinds
    assert _key(offline.verdicts) == _key(live)


def test_files_of_a_scan_share_one_batcher_and_wait_for_room(tmp_path: Path) -> None:
    """Three files in flight: one vision batch holds frames of several files; a queue of one item
    makes the scan wait (backpressure) instead of failing frames."""
    clips = [make_clip(tmp_path / f"c{i}.mp4", seconds=3.0, with_audio=False) for i in range(3)]
    cfg = PipelineConfig.model_validate(
        {
            "sampling": {"fps": 4.0},
            "vision": {"batch_size": 4},
            "ocr": {"enabled": False},
            "qr": {"enabled": False},
            "synthetic": {"enabled": False},
            "batching": {"vision": {"max_batch": 12, "max_wait_ms": 50.0, "max_queue": 2}},
        }
    )
    batches: list[set[str]] = []
    lock = threading.Lock()

    def vision(frames: Sequence[VideoFrame]) -> list[Any]:
        from moderation.messages import VisionResult

        with lock:
            batches.append({f.stream for f in frames})
        return [VisionResult(f.stream, f.t) for f in frames]

    engines = Engines(cfg)
    engines.families["vision"] = BatchFamily("vision", vision, lambda: None, 12, 50.0)
    clients = LocalClients(cfg, shared=engines.families, backpressure=True)

    async def run() -> list[Any]:
        try:
            return await scan_files([FileTask(p, p.stem) for p in clips], engines, concurrency=3, clients=clients)
        finally:
            await clients.close()

    results = asyncio.run(run())
    assert all(not isinstance(r, Exception) for r in results), results
    assert [r.frames for r in results] == [12, 12, 12]
    assert max(len(b) for b in batches) >= 2, batches  # frames of different files in one model call


@pytest.mark.parametrize(
    ("every", "searched"), [(2.0, [0.0, 2.0, 4.0, 6.0, 8.0]), (0.0, [float(t) for t in range(10)])]
)
def test_frames_are_searched_for_qr_codes_at_the_configured_cadence(
    monkeypatch: pytest.MonkeyPatch, every: float, searched: list[float]
) -> None:
    """Every ``qr.every_s``, whether or not a code is on screen (t = 4-5 s)."""
    seen: list[float] = []

    def fake_decode(image: np.ndarray) -> list[QrCode]:
        # the frame's grey copy (shared with the loop hash and the OCR gate); a corner away from the
        # code's box, which a search while the code's region is unchanged blanks out
        t = float(image[-1, -1])
        seen.append(t)
        return [QrCode("https://promo.example/x", (0.0, 0.0, 4.0, 4.0))] if 4.0 <= t < 6.0 else []

    monkeypatch.setattr(analysis, "decode_qr", fake_decode)
    cfg = PipelineConfig.model_validate(
        {
            "vision": {"enabled": False},
            "ocr": {"enabled": False},
            "synthetic": {"enabled": False},
            "qr": {"every_s": every},
        }
    )
    an = FrameAnalyzer("s", cfg, FakeClients(), Engines(cfg).matcher)
    frames = [VideoFrame("s", float(t), np.full((64, 64, 3), t, np.uint8)) for t in range(10)]
    asyncio.run(an.analyse(frames))
    assert seen == searched


def test_the_gate_the_qr_search_and_the_loop_hash_share_one_grey_copy_per_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A frame due for all three is converted to grey once; the QR code on it is still found."""
    import cv2

    convert = cv2.cvtColor
    conversions: list[float] = []

    def counting(image: np.ndarray, code: int) -> np.ndarray:
        if code == cv2.COLOR_BGR2GRAY and image.ndim == 3:
            conversions.append(float(image[0, 0, 0]))
        return convert(image, code)

    found: list[float] = []

    def fake_decode(image: np.ndarray) -> list[QrCode]:
        assert image.ndim == 2  # the shared grey copy, not the BGR frame
        found.append(float(image.flat[0]))
        return [QrCode("https://promo.example/x", (0.0, 0.0, 4.0, 4.0))]

    monkeypatch.setattr(cv2, "cvtColor", counting)
    monkeypatch.setattr(analysis, "decode_qr", fake_decode)
    cfg = PipelineConfig.model_validate(
        {"vision": {"enabled": False}, "qr": {"every_s": 0.0, "url_patterns": [r"promo\.example/x"]}}
    )
    assert cfg.ocr.enabled and cfg.ocr.gate.enabled and cfg.synthetic.loop.enabled
    an = FrameAnalyzer("s", cfg, FakeClients(), Engines(cfg).matcher)
    got = asyncio.run(an.analyse([VideoFrame("s", 0.0, np.full((64, 64, 3), 7, np.uint8))]))
    assert conversions == [7.0]
    assert found == [7.0]
    assert [s.t for s in got.signals if s.kind == "qr.url"] == [0.0]


def test_a_batch_with_no_frame_due_for_a_qr_search_skips_the_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 1 fps with ``qr.every_s`` 2 every other frame has nothing for the QR worker to do."""
    hops: list[float] = []
    to_thread = asyncio.to_thread

    async def counting(fn: Any, *args: Any) -> Any:
        if getattr(fn, "__name__", "") == "_qr":
            hops.append(args[0][0].t)
        return await to_thread(fn, *args)

    monkeypatch.setattr(analysis.asyncio, "to_thread", counting)
    monkeypatch.setattr(analysis, "decode_qr", lambda _image: [])
    cfg = PipelineConfig.model_validate(
        {"vision": {"enabled": False}, "ocr": {"enabled": False}, "qr": {"every_s": 2.0}}
    )
    an = FrameAnalyzer("s", cfg, FakeClients(), Engines(cfg).matcher)

    async def run() -> None:
        for t in range(5):
            await an.analyse(_frames([float(t)]))

    asyncio.run(run())
    assert hops == [0.0, 2.0, 4.0]
