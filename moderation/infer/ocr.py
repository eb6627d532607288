"""On-screen text with RapidOCR (PP-OCRv4 det, PP-OCRv5 or v4 rec, mobile direction classifier, ONNX Runtime).

RapidOCR is used for its tested pre/post-processing (DB box extraction, crop rectification, CTC
decoding) but is always given the model files the registry verified, never the copies it would
pick by itself, so ``moderation models`` tells the truth about what read the screen. Lines come
back as axis-aligned ``(x, y, w, h)`` boxes in original-frame pixels, the shape every signal and
the review UI use; RapidOCR's four-point polygons are reduced to their bounding box.

Which recogniser reads is ``OcrConfig.model``: ``ppocrv5-rec`` (default) reads Simplified and
Traditional Chinese in one model, ``rapidocr-ppocrv4`` drops Traditional-only glyphs (賭 註 賞).
Frames of one call are read together (:mod:`moderation.infer.ocr_batch`) unless
``OcrConfig.batched`` is off, in which case RapidOCR reads them one by one.

The engine is created on first use (three ONNX sessions, ~0.5 s), never at import.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moderation.config import OcrConfig
from moderation.infer.ocr_batch import BatchedReader
from moderation.messages import Box, OcrResult, TextLine, VideoFrame

if TYPE_CHECKING:
    from moderation.infer.registry import Registry

__all__ = ["OCR_MODEL_ID", "OCR_V4_MODEL_ID", "OcrEngine", "load_ocr", "load_ocr_engine", "polygon_to_box"]

#: Default manifest id (``OcrConfig.model``); OCR manifests name their files ``det``, ``rec``,
#: ``cls`` and, when the recogniser has no dictionary in its ONNX metadata, ``keys``.
OCR_MODEL_ID = "ppocrv5-rec"
#: The earlier PP-OCRv4 recogniser (Simplified + English), still selectable.
OCR_V4_MODEL_ID = "rapidocr-ppocrv4"


def polygon_to_box(points: Any, width: int, height: int) -> Box:
    """Bounding ``(x, y, w, h)`` of a polygon, clipped to the frame (rotated text stays covered)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x0 = float(np.clip(pts[:, 0].min(), 0, width))
    x1 = float(np.clip(pts[:, 0].max(), 0, width))
    y0 = float(np.clip(pts[:, 1].min(), 0, height))
    y1 = float(np.clip(pts[:, 1].max(), 0, height))
    return (x0, y0, x1 - x0, y1 - y0)


def _limit_detector_side(text_det: Any, side: int) -> None:
    """Make RapidOCR's detector scale every image so its longer side is at most ``side``.

    Its own rule cannot be configured to do this (in ``max`` mode it picks 960/1500/2000 from the
    image size), and both the per-frame path and :class:`BatchedReader` ask
    ``text_det.get_preprocess`` for the resize, so replacing that one method sizes them alike.
    """
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    pre = DetPreProcess(side, "max", text_det.mean, text_det.std)
    text_det.get_preprocess = lambda _max_wh: pre


def _own_sessions(
    engine: Any, paths: dict[str, Path], intra_op_threads: int, providers: Sequence[str] | None = None
) -> None:
    """Run RapidOCR's three models in sessions made with our :func:`moderation.infer.onnx.session_options`.

    RapidOCR opens its sessions with ONNX Runtime's defaults, whose intra-op threads spin-wait
    between operators: on cores shared with decoding, vision and Whisper that spin is burnt CPU.
    Measured on the 2-core machine, a 720p frame took 526 ms of CPU with RapidOCR's sessions and
    230 ms with these (144 ms wall against 264 ms). Same model files; the provider is
    ``providers`` (``ocr.providers``; None = the best installed, CUDA on a GPU node).
    """
    import onnxruntime as ort

    from moderation.infer.onnx import choose_providers, session_options

    chosen = choose_providers(providers)  # once: one warning line if a GPU provider is missing
    for role, part in (
        ("det", engine.text_det.infer),
        ("cls", engine.text_cls.infer),
        ("rec", engine.text_rec.session),
    ):
        part.session = ort.InferenceSession(
            str(paths[role]), sess_options=session_options(intra_op_threads), providers=chosen
        )


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
        rec_keys: Path | None = None,
    ):
        """``intra_op_threads=0`` lets ONNX Runtime pick; give a slice of cores when actors share a node.

        ``use_cls`` runs the 0/180° classifier: captions are upright, so turning it off saves a
        little time, but flipped overlays (an evasion trick) are then misread. ``rec_keys`` is the
        recogniser's dictionary file when its ONNX metadata has none (PP-OCRv5).
        """
        self.cfg = cfg
        self.model_paths = {"det": Path(det_model), "rec": Path(rec_model), "cls": Path(cls_model)}
        if rec_keys is not None:
            self.model_paths["keys"] = Path(rec_keys)
        self.intra_op_threads = intra_op_threads
        self.use_cls = use_cls
        self._engine: Any = None
        self._batched: BatchedReader | None = None
        self._lock = threading.Lock()
        # One RapidOCR instance is not safe to run from two threads at once (its detector keeps
        # per-call state); the batcher calls from one thread, this keeps other callers correct.
        self._run_lock = threading.Lock()

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

                    keys = self.model_paths.get("keys")
                    extra = {"rec_keys_path": str(keys)} if keys is not None else {}
                    engine = RapidOCR(
                        det_model_path=str(self.model_paths["det"]),
                        rec_model_path=str(self.model_paths["rec"]),
                        cls_model_path=str(self.model_paths["cls"]),
                        intra_op_num_threads=self.intra_op_threads if self.intra_op_threads > 0 else -1,
                        text_score=self.cfg.min_score,
                        print_verbose=False,
                        **extra,
                    )
                    if self.cfg.det_max_side > 0:
                        _limit_detector_side(engine.text_det, self.cfg.det_max_side)
                    _own_sessions(engine, self.model_paths, self.intra_op_threads, self.cfg.providers)
                    self._engine = engine
        return self._engine

    @staticmethod
    def _check(frame: VideoFrame) -> None:
        image = frame.image
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"stream {frame.stream} t={frame.t}: OCR needs a BGR uint8 (H, W, 3) frame, "
                f"got {image.dtype} {image.shape}"
            )

    def _result(self, frame: VideoFrame, raw: Any) -> OcrResult:
        """``raw``: ``(points, text, score)`` items, as RapidOCR or the batched reader give them."""
        height, width = frame.image.shape[:2]
        lines: list[TextLine] = []
        for item in raw or ():
            points, text, score = item[0], str(item[1]).strip(), float(item[2])
            if not text or score < self.cfg.min_score:
                continue
            lines.append(TextLine(text=text, score=score, box=polygon_to_box(points, width, height)))
        return OcrResult(stream=frame.stream, t=frame.t, lines=tuple(lines), frame_size=(width, height))

    def read_frame(self, frame: VideoFrame) -> OcrResult:
        """Text lines of one frame through RapidOCR's own per-image pipeline, top-to-bottom."""
        self._check(frame)
        engine = self.load()
        with self._run_lock:
            raw, _elapsed = engine(np.ascontiguousarray(frame.image), use_cls=self.use_cls)
        return self._result(frame, raw)

    def read(self, frames: Sequence[VideoFrame]) -> list[OcrResult]:
        """One :class:`OcrResult` per frame, in order (frames without text give empty ``lines``).

        With ``cfg.batched`` all frames go through the detector and recogniser together (see
        :mod:`moderation.infer.ocr_batch`); every frame is checked before any is read.
        """
        for f in frames:
            self._check(f)
        if not frames:
            return []
        if not self.cfg.batched:
            return [self.read_frame(f) for f in frames]
        engine = self.load()
        with self._run_lock:
            if self._batched is None or self._batched.engine is not engine:
                self._batched = BatchedReader(engine, rec_max_batch=self.cfg.rec_max_batch)
            per_frame = self._batched.read([f.image for f in frames], use_cls=self.use_cls)
        return [
            self._result(f, [(line.points, line.text, line.score) for line in lines])
            for f, lines in zip(frames, per_frame, strict=True)
        ]


def load_ocr_engine(
    registry: Registry, cfg: OcrConfig, *, intra_op_threads: int = 0, model_id: str | None = None
) -> OcrEngine:
    """An :class:`OcrEngine` with its model files located and hash-checked by the registry.

    ``model_id`` defaults to ``cfg.model``. The engine (ONNX sessions) still loads lazily on the
    first frame.
    """
    model_id = model_id or cfg.model
    resolved = registry.resolve(model_id, verify=True)
    if resolved.kind != "ocr":
        raise ValueError(f"ocr.model {model_id!r} is a {resolved.kind} model, not an OCR one (kind: ocr)")
    missing = [role for role in ("det", "rec", "cls") if role not in resolved.files]
    if missing:
        raise ValueError(f"OCR manifest {model_id} has no file named {', '.join(missing)}")
    files = resolved.files
    return OcrEngine(
        cfg,
        files["det"],
        files["rec"],
        files["cls"],
        intra_op_threads=intra_op_threads,
        rec_keys=files.get("keys"),
    )


#: The name the pipeline graph uses.
load_ocr = load_ocr_engine
