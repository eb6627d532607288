"""On-screen text with RapidOCR (PP-OCRv4 det + rec, mobile direction classifier, ONNX Runtime).

RapidOCR is used for its tested pre/post-processing (DB box extraction, crop rectification, CTC
decoding) but is always given the model files the registry verified, never the copies it would
pick by itself, so ``moderation models`` tells the truth about what read the screen. Lines come
back as axis-aligned ``(x, y, w, h)`` boxes in original-frame pixels, the shape every signal and
the review UI use; RapidOCR's four-point polygons are reduced to their bounding box.

The engine is created on first use (three ONNX sessions, ~0.5 s), never at import.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moderation.config import OcrConfig
from moderation.messages import Box, OcrResult, TextLine, VideoFrame

if TYPE_CHECKING:
    from moderation.infer.registry import Registry

__all__ = ["OCR_MODEL_ID", "OcrEngine", "load_ocr", "load_ocr_engine", "polygon_to_box"]

#: Manifest id of the OCR models; its files are named ``det``, ``rec`` and ``cls``.
OCR_MODEL_ID = "rapidocr-ppocrv4"


def polygon_to_box(points: Any, width: int, height: int) -> Box:
    """Bounding ``(x, y, w, h)`` of a polygon, clipped to the frame (rotated text stays covered)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x0 = float(np.clip(pts[:, 0].min(), 0, width))
    x1 = float(np.clip(pts[:, 0].max(), 0, width))
    y0 = float(np.clip(pts[:, 1].min(), 0, height))
    y1 = float(np.clip(pts[:, 1].max(), 0, height))
    return (x0, y0, x1 - x0, y1 - y0)


class OcrEngine:
    """Reads text lines from frames; one RapidOCR instance, created lazily and thread-safely."""

    def __init__(
        self,
        cfg: OcrConfig,
        det_model: Path,
        rec_model: Path,
        cls_model: Path,
        *,
        intra_op_threads: int = 0,
        use_cls: bool = True,
    ):
        """``intra_op_threads=0`` lets ONNX Runtime pick; give a slice of cores when actors share a node.

        ``use_cls`` runs the 0/180° classifier: captions are upright, so turning it off saves a
        little time, but flipped overlays (an evasion trick) are then misread.
        """
        self.cfg = cfg
        self.model_paths = {"det": Path(det_model), "rec": Path(rec_model), "cls": Path(cls_model)}
        self.intra_op_threads = intra_op_threads
        self.use_cls = use_cls
        self._engine: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def load(self) -> Any:
        """Create the RapidOCR pipeline with our model paths (checked to exist first)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    for role, path in self.model_paths.items():
                        if not path.is_file():
                            raise FileNotFoundError(f"OCR {role} model not found: {path}")
                    from rapidocr_onnxruntime import RapidOCR

                    self._engine = RapidOCR(
                        det_model_path=str(self.model_paths["det"]),
                        rec_model_path=str(self.model_paths["rec"]),
                        cls_model_path=str(self.model_paths["cls"]),
                        intra_op_num_threads=self.intra_op_threads if self.intra_op_threads > 0 else -1,
                        text_score=self.cfg.min_score,
                        print_verbose=False,
                    )
        return self._engine

    def read_frame(self, frame: VideoFrame) -> OcrResult:
        """Text lines of one frame, top-to-bottom, lines under ``cfg.min_score`` dropped."""
        image = frame.image
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"stream {frame.stream} t={frame.t}: OCR needs a BGR uint8 (H, W, 3) frame, "
                f"got {image.dtype} {image.shape}"
            )
        height, width = image.shape[:2]
        engine = self.load()
        raw, _elapsed = engine(np.ascontiguousarray(image), use_cls=self.use_cls)
        lines: list[TextLine] = []
        for item in raw or ():
            points, text, score = item[0], str(item[1]).strip(), float(item[2])
            if not text or score < self.cfg.min_score:
                continue
            lines.append(TextLine(text=text, score=score, box=polygon_to_box(points, width, height)))
        return OcrResult(stream=frame.stream, t=frame.t, lines=tuple(lines), frame_size=(width, height))

    def read(self, frames: Sequence[VideoFrame]) -> list[OcrResult]:
        """One :class:`OcrResult` per frame, in order (frames without text give empty ``lines``).

        RapidOCR works frame by frame (boxes differ in size per frame, so det cannot be batched
        across frames without padding waste); recognition inside a frame is batched by RapidOCR.
        """
        return [self.read_frame(f) for f in frames]


def load_ocr_engine(
    registry: Registry, cfg: OcrConfig, *, intra_op_threads: int = 0, model_id: str = OCR_MODEL_ID
) -> OcrEngine:
    """An :class:`OcrEngine` with its three model files located and hash-checked by the registry.

    The engine (ONNX sessions) still loads lazily on the first frame.
    """
    resolved = registry.resolve(model_id, verify=True)
    missing = [role for role in ("det", "rec", "cls") if role not in resolved.files]
    if missing:
        raise ValueError(f"OCR manifest {model_id} has no file named {', '.join(missing)}")
    files = resolved.files
    return OcrEngine(cfg, files["det"], files["rec"], files["cls"], intra_op_threads=intra_op_threads)


#: The name the pipeline graph uses.
load_ocr = load_ocr_engine
