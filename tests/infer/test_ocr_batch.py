"""Batched OCR: frames grouped for the detector, lines bucketed for the recogniser, same lines as per frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from moderation.config import OcrConfig, project_root
from moderation.infer.ocr import OcrEngine, load_ocr
from moderation.infer.ocr_batch import BatchedReader, _Prepared, rec_bucket_width
from moderation.infer.registry import Registry
from moderation.messages import VideoFrame

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def test_rec_bucket_width() -> None:
    assert rec_bucket_width(48, 100) == 320
    assert rec_bucket_width(48, 320) == 320
    assert rec_bucket_width(48, 321) == 480
    assert rec_bucket_width(24, 300) == 640  # 600 px at height 48
    assert rec_bucket_width(48, 1281) == 1920
    assert rec_bucket_width(10, 1000) == 5120


def _prep(h: int, w: int) -> _Prepared:
    return _Prepared(np.zeros((h, w, 3), np.uint8), np.zeros((3, h, w), np.float32), {}, (h, w))


def test_det_groups_pad_similar_frames_together_and_keep_others_apart() -> None:
    reader = BatchedReader(object(), max_pad_waste=0.25)
    frames = [_prep(736, 1312), _prep(1312, 736), _prep(736, 1312), _prep(736, 1280)]
    groups = reader._det_groups(frames)
    assert sorted(sorted(g) for g in groups) == [[0, 2, 3], [1]]  # portrait frame would waste ~45 %
    skipped = _Prepared(np.zeros((4, 4, 3), np.uint8), None, {}, (4, 4))
    assert reader._det_groups([skipped, _prep(736, 736)]) == [[1]]


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="rec_max_batch must be >= 1"):
        BatchedReader(object(), rec_max_batch=0)
    with pytest.raises(ValueError, match="max_pad_waste"):
        BatchedReader(object(), max_pad_waste=1.5)


def test_one_bad_frame_is_reported_before_any_is_read(tmp_path: Path) -> None:
    eng = OcrEngine(OcrConfig(), tmp_path / "det", tmp_path / "rec", tmp_path / "cls")
    good = VideoFrame("s", 0.0, np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError, match=r"stream s t=1\.0: OCR needs a BGR uint8"):
        eng.read([good, VideoFrame("s", 1.0, np.zeros((10, 10, 3), np.float32))])
    assert not eng.loaded
    assert eng.read([]) == []


def _frame(lines: list[str], size: tuple[int, int]) -> np.ndarray:
    if not FONT.is_file():
        pytest.skip(f"font not installed: {FONT}")
    img = Image.new("RGB", size, (30, 60, 90))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 36)
    for k, text in enumerate(lines):
        draw.text((40, 40 + 64 * k), text, font=font, fill=(255, 255, 0) if k % 2 else (255, 255, 255))
    return np.asarray(img)[:, :, ::-1].copy()


def _lines(result: Any) -> list[tuple[str, float, tuple[float, ...]]]:
    return [(line.text.replace(" ", ""), line.score, line.box) for line in result.lines]


@pytest.mark.slow
def test_batched_reads_the_same_lines_as_frame_by_frame(tmp_path: Path) -> None:
    frames = [
        VideoFrame("a", 1.0, _frame(["线上赌场 立即下注", "ONLINE CASINO BONUS"], (960, 540))),
        VideoFrame("b", 1.0, _frame(["百家樂 首儲送彩金", "加微信领取彩金 VIP888"], (960, 540))),
        VideoFrame("c", 2.0, np.full((540, 960, 3), 90, np.uint8)),  # no text
        VideoFrame("d", 2.5, _frame(["中獎賞金天天領", "PLAY NOW"], (540, 960))),  # portrait
    ]
    reg = Registry.load(project_root() / "models", cache_dir=tmp_path / "cache")
    batched = load_ocr(reg, OcrConfig(rec_max_batch=4), intra_op_threads=2)
    per_frame = OcrEngine(OcrConfig(batched=False), *(batched.model_paths[r] for r in ("det", "rec", "cls")))
    per_frame._engine = batched.load()  # same sessions; only the grouping of model calls differs
    got = batched.read(frames)
    want = per_frame.read(frames)
    calls = batched._batched.last_calls if batched._batched else {}
    assert calls["det"] == 2 and calls["rec"] >= 2, calls  # landscape frames together, portrait alone
    assert [r.stream for r in got] == ["a", "b", "c", "d"] and got[2].lines == ()
    for g, w in zip(got, want, strict=True):
        assert g.frame_size == w.frame_size
        assert len(g.lines) == len(w.lines), (_lines(g), _lines(w))
        for (gt, gs, gb), (wt, ws, wb) in zip(_lines(g), _lines(w), strict=True):
            assert gt == wt
            assert abs(gs - ws) < 0.1, (gt, gs, ws)
            assert np.allclose(gb, wb, atol=1.0), (gt, gb, wb)
    assert any("賞" in line.text for line in got[3].lines)
