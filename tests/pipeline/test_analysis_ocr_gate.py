"""The live FrameAnalyzer gates OCR like the offline graph: only text-like frames that changed."""

from __future__ import annotations

import asyncio

import numpy as np
from fakes import FakeClients

from moderation.config import PipelineConfig
from moderation.messages import VideoFrame
from moderation.pipeline.analysis import FrameAnalyzer
from moderation.pipeline.graph import Engines
from moderation.samplegen import paste, render_text


def _frames(text_from: float, text_to: float, n: int = 12) -> list[VideoFrame]:
    caption = render_text("百家乐 在线下注", font_size=48)
    out = []
    for i in range(n):
        t = float(i)
        img = np.full((360, 640, 3), 90, np.uint8)
        img[:, :, 1] = np.linspace(60, 160, 640, dtype=np.uint8)[None, :]  # smooth gradient: no text
        if text_from <= t < text_to:
            paste(img, caption, 40, 250)
        out.append(VideoFrame("s", t, img, i))
    return out


def _run(cfg: PipelineConfig, frames: list[VideoFrame]) -> tuple[FakeClients, FrameAnalyzer, list[str]]:
    clients = FakeClients(ocr_span=(0.0, 100.0))
    an = FrameAnalyzer("s", cfg, clients, Engines(cfg).matcher)

    async def go() -> list[str]:
        kinds: list[str] = []
        for i in range(0, len(frames), 4):
            kinds += [s.kind for s in (await an.analyse(frames[i : i + 4])).signals]
        return kinds

    return clients, an, asyncio.run(go())


def test_live_ocr_reads_only_text_like_changed_frames() -> None:
    cfg = PipelineConfig.model_validate({"ocr": {"fps": 1.0}, "qr": {"enabled": False}})
    _clients, an, kinds = _run(cfg, _frames(4.0, 8.0))
    # 12 frames due at 1 fps; the caption is on screen at t=4..7 and unchanged after its first frame
    assert an.counts.ocr_frames == 1
    assert an.ocr_gate.stats.no_text == 8 and an.ocr_gate.stats.unchanged == 3
    assert "ocr.keyword" in kinds


def test_live_ocr_gate_disabled_reads_at_the_ocr_rate() -> None:
    cfg = PipelineConfig.model_validate({"ocr": {"fps": 0.5, "gate": {"enabled": False}}, "qr": {"enabled": False}})
    _clients, an, _kinds = _run(cfg, _frames(4.0, 8.0))
    assert an.counts.ocr_frames == 6  # every other second, text or not
