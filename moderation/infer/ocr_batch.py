"""OCR over many frames at once: one detector call per group of frames, one recogniser call per width bucket.

RapidOCR reads one image per call: a detector run per frame, then its recogniser in groups of six
crops of that frame. When the batcher hands the OCR engine frames of several streams, that is
N detector calls and at least N recogniser calls. Here the same pre/post-processing pieces of a
:class:`rapidocr_onnxruntime.RapidOCR` instance (resize rules, DB box extraction, crop
rectification, direction classifier, CTC decoding) are reused unchanged; only the model calls are
regrouped:

* **Detection.** Each frame is resized by RapidOCR's own rule (shorter side 736, sides multiples
  of 32); frames whose resized shapes are equal, or close enough that padding wastes at most
  ``max_pad_waste`` of the batch, are zero-padded (right/bottom, in normalised space, i.e. what
  the network's own border padding sees) to one shape and run in one call. Each frame's map is
  cropped back to its own size before box extraction, so same-sized frames give exactly the
  per-frame result.
* **Recognition.** All line crops of all frames are bucketed by the width they need at height 48
  (320, 480, 640, 960, 1280, then steps of 640) and each bucket runs in chunks of
  ``rec_max_batch``, padded to the widest line of the chunk. The per-frame path pads a line to the
  widest of its frame's group of six instead; the recogniser is not padding-invariant, so a line's
  score can move by a few hundredths and PP-OCRv5 may read a gap between CJK words as a space or
  not. Boxes and the characters read (spaces aside) are the same (tested).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["REC_BUCKETS", "BatchedReader", "RawLine", "rec_bucket_width"]

#: Recogniser input widths (pixels at height 48); wider lines go to the next multiple of 640.
REC_BUCKETS = (320, 480, 640, 960, 1280)


@dataclass(frozen=True)
class RawLine:
    """One recognised line in original-frame pixels: four corner points, text, CTC confidence."""

    points: np.ndarray
    text: str
    score: float


@dataclass
class _Prepared:
    """A frame after RapidOCR's resize rules, with what is needed to map boxes back."""

    image: np.ndarray  # preprocessed BGR (max/min side rules, letterbox for very wide/short)
    det_input: np.ndarray | None  # (3, H, W) float32, or None when RapidOCR would skip the frame
    op_record: dict[str, Any]
    raw_hw: tuple[int, int]


def rec_bucket_width(height: int, width: int, rec_height: int = 48) -> int:
    """Input width of the recogniser bucket a crop of ``height`` x ``width`` goes to."""
    need = math.ceil(rec_height * width / max(height, 1))
    for edge in REC_BUCKETS:
        if need <= edge:
            return edge
    return int(math.ceil(need / 640) * 640)


class BatchedReader:
    """Batched det/cls/rec built on the components of one RapidOCR instance (shared, not copied)."""

    def __init__(self, engine: Any, *, rec_max_batch: int = 32, max_pad_waste: float = 0.25):
        if rec_max_batch < 1:
            raise ValueError(f"rec_max_batch must be >= 1, got {rec_max_batch}")
        if not 0 <= max_pad_waste < 1:
            raise ValueError(f"max_pad_waste must be in [0, 1), got {max_pad_waste}")
        self.engine = engine
        self.rec_max_batch = rec_max_batch
        self.max_pad_waste = max_pad_waste
        #: Model calls made by the last :meth:`read`, for benchmarks and tests.
        self.last_calls: dict[str, int] = {"det": 0, "cls": 0, "rec": 0}

    # -- detection -------------------------------------------------------------------------------

    def _prepare(self, image: np.ndarray) -> _Prepared:
        eng = self.engine
        raw_hw = (int(image.shape[0]), int(image.shape[1]))
        img, ratio_h, ratio_w = eng.preprocess(image)
        op_record: dict[str, Any] = {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}}
        img, op_record = eng.maybe_add_letterbox(img, op_record)
        det = eng.text_det.get_preprocess(max(img.shape[0], img.shape[1]))(img)
        return _Prepared(img, None if det is None else det[0], op_record, raw_hw)

    def _det_groups(self, prepared: Sequence[_Prepared]) -> list[list[int]]:
        """Frame indices grouped so that padding each group to its largest shape wastes little."""
        shapes = {i: p.det_input.shape[1:] for i, p in enumerate(prepared) if p.det_input is not None}
        groups: list[list[int]] = []
        for i in sorted(shapes, key=lambda j: shapes[j], reverse=True):
            if groups:
                members = groups[-1] + [i]
                gh = max(shapes[j][0] for j in members)
                gw = max(shapes[j][1] for j in members)
                real = sum(shapes[j][0] * shapes[j][1] for j in members)
                if real >= (1 - self.max_pad_waste) * gh * gw * len(members):
                    groups[-1].append(i)
                    continue
            groups.append([i])
        return groups

    def _detect(self, prepared: Sequence[_Prepared]) -> list[list[np.ndarray]]:
        """Sorted four-point boxes (in preprocessed-image pixels) per frame."""
        det = self.engine.text_det
        boxes: list[list[np.ndarray]] = [[] for _ in prepared]
        for group in self._det_groups(prepared):
            inputs = [x for x in (prepared[i].det_input for i in group) if x is not None]
            gh = max(x.shape[1] for x in inputs)
            gw = max(x.shape[2] for x in inputs)
            batch = np.zeros((len(group), 3, gh, gw), np.float32)
            for k, x in enumerate(inputs):
                batch[k, :, : x.shape[1], : x.shape[2]] = x
            preds = det.infer(batch)[0]
            self.last_calls["det"] += 1
            for k, i in enumerate(group):
                h, w = inputs[k].shape[1:]
                shape = prepared[i].image.shape[:2]
                dt, _ = det.postprocess_op(preds[k : k + 1, :, :h, :w], shape)
                dt = det.filter_tag_det_res(dt, shape)
                if dt is not None and len(dt) > 0:
                    boxes[i] = list(self.engine.sorted_boxes(dt))
        return boxes

    # -- recognition -----------------------------------------------------------------------------

    def _classify(self, crops: list[np.ndarray]) -> list[np.ndarray]:
        """Flip 180°-rotated crops (fixed 48x192 input, so batching cannot change its answers)."""
        cls = self.engine.text_cls
        cls.cls_batch_num = self.rec_max_batch
        out, _res, _t = cls(crops)
        self.last_calls["cls"] += math.ceil(len(crops) / self.rec_max_batch)
        return list(out)

    def _recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        rec = self.engine.text_rec
        rec_h = int(rec.rec_image_shape[1])
        buckets: dict[int, list[int]] = {}
        for i, crop in enumerate(crops):
            buckets.setdefault(rec_bucket_width(crop.shape[0], crop.shape[1], rec_h), []).append(i)
        out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for _width, members in sorted(buckets.items()):
            for start in range(0, len(members), self.rec_max_batch):
                chunk = members[start : start + self.rec_max_batch]
                # Pad to the widest line of the chunk (as RapidOCR pads to the widest of its group),
                # not to the bucket edge: less padding, and scores closer to the per-frame path.
                need = max(math.ceil(rec_h * crops[i].shape[1] / max(crops[i].shape[0], 1)) for i in chunk)
                ratio = max(need, REC_BUCKETS[0]) / rec_h
                batch = np.stack([rec.resize_norm_img(crops[i], ratio) for i in chunk]).astype(np.float32)
                preds = rec.session(batch)[0]
                self.last_calls["rec"] += 1
                for i, (text, score, *_rest) in zip(chunk, rec.postprocess_op(preds), strict=True):
                    out[i] = (str(text), float(score))
        return out

    # -- all together ----------------------------------------------------------------------------

    def read(self, images: Sequence[np.ndarray], *, use_cls: bool = True) -> list[list[RawLine]]:
        """Lines per image (BGR uint8), top-to-bottom, those under the engine's text score dropped."""
        self.last_calls = {"det": 0, "cls": 0, "rec": 0}
        eng = self.engine
        prepared = [self._prepare(np.ascontiguousarray(im)) for im in images]
        boxes = self._detect(prepared)
        crops: list[np.ndarray] = []
        for p, b in zip(prepared, boxes, strict=True):
            if b:
                crops += eng.get_crop_img_list(p.image, b)
        if crops and use_cls:
            crops = self._classify(crops)
        texts = self._recognise(crops) if crops else []
        results: list[list[RawLine]] = [[] for _ in images]
        pos = 0
        for i, (p, b) in enumerate(zip(prepared, boxes, strict=True)):
            if not b:
                continue
            origin = eng._get_origin_points(b, p.op_record, *p.raw_hw)
            for pts, (text, score) in zip(origin, texts[pos : pos + len(b)], strict=True):
                if score >= eng.text_score:
                    results[i].append(RawLine(points=np.asarray(pts), text=text, score=score))
            pos += len(b)
        return results
