"""End to end through the real stage graph (decode → OCR → loop / disclosure → fusion).

A few seconds of distinct moving content replayed several times and passed off as live must give
a ``synthetic_unlabeled`` verdict; the same clip carrying a visible "AI生成" label must not, and
ordinary (non-repeating) footage must not either. Vision and ASR are off: the evidence here is the
loop detector and OCR (RapidOCR, a real model) reading the label.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from moderation.config import AsrConfig, PipelineConfig, QrConfig, VisionConfig
from moderation.pipeline.graph import Engines, FileScan, scan_file
from moderation.samplegen import Background, paste, render_text, write_video

pytestmark = pytest.mark.slow

PERIOD, REPEATS, W, H = 4.0, 5, 640, 360


def clip(path: Path, *, looped: bool, label: str | None) -> Path:
    bg = Background(W, H, seed=11)
    overlay = render_text(label, font_size=40) if label else None

    def frame(i: int, t: float) -> np.ndarray:
        img = bg.frame(t % PERIOD if looped else t)
        if overlay is not None:
            paste(img, overlay, 16, 16)
        return img

    return write_video(path, frame, PERIOD * REPEATS, fps=25, width=W, height=H, gop_s=1.0, preset="ultrafast")


@pytest.fixture(scope="module")
def engines() -> Engines:
    cfg = PipelineConfig(vision=VisionConfig(enabled=False), asr=AsrConfig(enabled=False), qr=QrConfig(enabled=False))
    return Engines(cfg)


def scan(path: Path, engines: Engines) -> FileScan:
    return scan_file(path, "room-1", engines)


def test_looped_clip_without_label_is_synthetic_unlabeled(tmp_path: Path, engines: Engines) -> None:
    result = scan(clip(tmp_path / "loop.mp4", looped=True, label=None), engines)
    (v,) = [v for v in result.verdicts if v.category == "synthetic_unlabeled"]
    assert {s.kind for s in v.signals} == {"synthetic.loop"}
    assert v.start <= PERIOD * 2 + 1 and v.end >= PERIOD * (REPEATS - 1)
    assert all(s.label == f"lag={PERIOD:.1f}s" for s in v.signals)
    assert not [s for s in result.signals if s.kind == "disclosure.label"]
    assert [v.category for v in result.verdicts] == ["synthetic_unlabeled"]


def test_same_loop_with_visible_ai_label_is_not_flagged(tmp_path: Path, engines: Engines) -> None:
    result = scan(clip(tmp_path / "labelled.mp4", looped=True, label="AI生成"), engines)
    assert [s for s in result.signals if s.kind == "synthetic.loop"], "the loop itself is still seen"
    labels = [s for s in result.signals if s.kind == "disclosure.label"]
    assert labels and labels[0].term == "AI生成"
    assert labels[0].label is not None and float(labels[0].label.split("=")[1]) >= 0.003
    assert [v for v in result.verdicts if v.category == "synthetic_unlabeled"] == []


def test_live_footage_is_not_flagged(tmp_path: Path, engines: Engines) -> None:
    result = scan(clip(tmp_path / "live.mp4", looped=False, label=None), engines)
    assert not [s for s in result.signals if s.kind == "synthetic.loop"]
    assert result.verdicts == []
