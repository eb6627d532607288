"""Re-timing a running stream's samplers (a new standing): the frame sampler and the OCR gate take
the new rate from the next frame on, up or down, without stalling on the old rate's slot numbers."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.config import OcrConfig, OcrGateConfig
from moderation.messages import VideoFrame
from moderation.sample.frames import FpsSampler
from moderation.sample.ocr_gate import OcrGate


def _taken(sampler: FpsSampler, start: float, end: float, step: float = 0.05) -> list[float]:
    ts = [round(start + i * step, 2) for i in range(round((end - start) / step))]
    return [t for t in ts if sampler.take(t)]


def test_frame_sampler_rate_up_then_down() -> None:
    s = FpsSampler(1.0)
    assert _taken(s, 0.0, 10.0) == [float(t) for t in range(10)]
    s.retime(4.0)
    assert _taken(s, 10.0, 12.0) == [10.0, 10.25, 10.5, 10.75, 11.0, 11.25, 11.5, 11.75]
    s.retime(0.5)  # down: the next slot of the new grid, not 4x later
    assert _taken(s, 12.0, 16.0) == [12.0, 14.0]
    with pytest.raises(ValueError, match="positive"):
        s.retime(0.0)


def _frame(t: float) -> VideoFrame:
    return VideoFrame("s", t, np.zeros((48, 64, 3), np.uint8), 0)


def test_ocr_gate_rate_follows_retime() -> None:
    g = OcrGate(OcrConfig(fps=0.5, gate=OcrGateConfig(enabled=False)))
    read = [t for t in range(0, 20) if g.decide(_frame(float(t))).run]
    assert read == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    g.retime(2.0)
    read = [t / 4 for t in range(80, 88) if g.decide(_frame(t / 4)).run]
    assert read == [20.0, 20.5, 21.0, 21.5]
    g.retime(0.25)  # down, late in the stream: not stalled until 4 x 21.5 s
    read = [t for t in range(22, 34) if g.decide(_frame(float(t))).run]
    assert read == [24, 28, 32]
    assert g.cfg.fps == 0.25
