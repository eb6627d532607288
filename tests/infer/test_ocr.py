"""OCR wrapper: English and Chinese lines rendered with Pillow come back with boxes where they were drawn."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image, ImageDraw, ImageFont

from moderation.config import OcrConfig, project_root
from moderation.infer.ocr import OcrEngine, load_ocr, polygon_to_box
from moderation.infer.registry import Registry
from moderation.messages import VideoFrame

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
EN = "ONLINE CASINO BONUS"
ZH = "现在下注百家乐"


def test_polygon_to_box_clips_to_the_frame() -> None:
    assert polygon_to_box([[10, 20], [110, 20], [110, 50], [10, 50]], 640, 360) == (10, 20, 100, 30)
    assert polygon_to_box([[-5, 5], [700, 0], [700, 400], [-5, 400]], 640, 360) == (0, 0, 640, 360)


def test_construction_loads_nothing(tmp_path: Path) -> None:
    eng = OcrEngine(OcrConfig(), tmp_path / "det", tmp_path / "rec", tmp_path / "cls")
    assert not eng.loaded
    with pytest.raises(FileNotFoundError, match="det model not found"):
        eng.load()


def test_bad_frame_is_a_clear_error(tmp_path: Path) -> None:
    eng = OcrEngine(OcrConfig(), tmp_path / "det", tmp_path / "rec", tmp_path / "cls")
    with pytest.raises(ValueError, match="BGR uint8"):
        eng.read([VideoFrame("s", 0.0, np.zeros((10, 10), np.uint8))])


def _frame() -> tuple[np.ndarray, dict[str, tuple[float, float, float, float]]]:
    """A 960x540 BGR frame with one English and one Chinese line; returns where each was drawn."""
    if not FONT.is_file():
        pytest.skip(f"font not installed: {FONT}")
    img = Image.new("RGB", (960, 540), (30, 60, 90))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 40)
    drawn = {}
    for text, xy, color in ((EN, (80, 100), (255, 255, 255)), (ZH, (300, 350), (255, 255, 0))):
        draw.text(xy, text, font=font, fill=color)
        x0, y0, x1, y1 = draw.textbbox(xy, text, font=font)
        drawn[text] = (x0, y0, x1 - x0, y1 - y0)
    return np.asarray(img)[:, :, ::-1].copy(), drawn


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> OcrEngine:
    reg = Registry.load(project_root() / "models", cache_dir=tmp_path_factory.mktemp("cache"))
    return load_ocr(reg, OcrConfig(), intra_op_threads=2)


@pytest.mark.slow
def test_reads_english_and_chinese_with_boxes(engine: OcrEngine) -> None:
    image, drawn = _frame()
    blank = np.full((360, 640, 3), 128, np.uint8)
    results = engine.read([VideoFrame("s1", 12.5, image, index=7), VideoFrame("s1", 13.0, blank)])
    assert len(results) == 2
    res, empty = results
    assert res.stream == "s1" and res.t == 12.5 and res.frame_size == (960, 540)
    assert empty.lines == () and empty.frame_size == (640, 360)
    texts = {line.text.replace(" ", "").upper(): line for line in res.lines}
    assert EN.replace(" ", "") in texts and ZH in texts, list(texts)
    for want, key in ((EN, EN.replace(" ", "")), (ZH, ZH)):
        line = texts[key]
        assert line.score >= 0.5
        assert _iou(line.box, drawn[want]) > 0.6, (line.box, drawn[want])


@pytest.mark.slow
def test_min_score_drops_low_confidence_lines(engine: OcrEngine) -> None:
    image, _ = _frame()
    strict = OcrEngine(OcrConfig(min_score=1.0), *(engine.model_paths[r] for r in ("det", "rec", "cls")))
    strict._engine = engine.load()  # share the sessions; the filter is ours
    assert strict.read([VideoFrame("s", 0.0, image)])[0].lines == ()


@pytest.mark.slow
def test_detector_input_is_capped_and_boxes_stay_in_frame_pixels(engine: OcrEngine) -> None:
    # A 1280x720 frame is fed to the detector at most det_max_side wide (RapidOCR alone would
    # scale it UP to 1312x736); boxes still come back in the frame's own pixels.
    image, drawn = _frame()
    big = cv2.resize(image, (1280, 720), interpolation=cv2.INTER_LINEAR)
    (res,) = engine.read([VideoFrame("s", 0.0, big)])
    assert engine._batched is not None
    det_input = engine._batched._prepare(big).det_input
    assert det_input is not None and max(det_input.shape[1:]) <= OcrConfig().det_max_side
    texts = {line.text.replace(" ", "").upper(): line for line in res.lines}
    assert ZH in texts, list(texts)
    x, y, w, h = drawn[ZH]
    k = 1280 / 960
    assert _iou(texts[ZH].box, (x * k, y * k, w * k, h * k)) > 0.6


@pytest.mark.slow
def test_rapidocr_models_run_in_our_non_spinning_sessions(engine: OcrEngine) -> None:
    eng = engine.load()
    for part in (eng.text_det.infer, eng.text_cls.infer, eng.text_rec.session):
        opts = part.session.get_session_options()
        assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert opts.inter_op_num_threads == 1


@pytest.mark.slow
def test_ocr_runs_on_the_asked_provider_or_falls_back_with_one_warning(
    engine: OcrEngine, caplog: pytest.LogCaptureFixture
) -> None:
    has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    paths = [engine.model_paths[r] for r in ("det", "rec", "cls")]
    gpu = OcrEngine(OcrConfig(providers=("CUDAExecutionProvider",)), *paths, rec_keys=engine.model_paths.get("keys"))
    with caplog.at_level("WARNING"):
        eng = gpu.load()
    warned = [r for r in caplog.records if "CUDAExecutionProvider" in r.getMessage()]
    assert len(warned) == (0 if has_cuda else 1)
    want = "CUDAExecutionProvider" if has_cuda else "CPUExecutionProvider"
    for part in (eng.text_det.infer, eng.text_cls.infer, eng.text_rec.session):
        assert part.session.get_providers()[0] == want
    image, _ = _frame()
    assert gpu.read([VideoFrame("s", 0.0, image)])[0].lines  # it still reads
