"""Synthetic-content evidence per stream: loops, pluggable classifiers, disclosure labels.

POLICY.md: content made with deep learning must be labelled prominently. Three sources feed the
``synthetic_unlabeled`` category:

* ``synthetic.loop`` — footage replayed in a loop (:mod:`moderation.signals.loop`);
* ``synthetic.model.<id>`` — any ONNX classifier described by a manifest (``models/<id>.yaml``,
  kind ``onnx-classifier``) listed in ``SyntheticConfig.classifiers``; run generically from the
  manifest's input/output spec, so a new model needs no code;
* ``disclosure.label`` — a prominent "AI生成"-style label read by OCR
  (:mod:`moderation.signals.disclosure`); fusion uses it to suppress the category.

:class:`SyntheticTracker` is the per-stream state the stream analyser calls once per frame batch
(loops, disclosure labels). The classifiers are not in it: :class:`SyntheticScorer` is the batch
function of the ``synthetic`` model family, run by the node's batcher like vision, OCR and ASR, so
one loaded copy scores the frames of every stream and every file on the node; the tracker turns
the per-frame scores it is handed into signals. Models are loaded on first use, never at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from moderation.config import SyntheticConfig
from moderation.infer.manifest import InputSpec, ModelError, ResolvedModel
from moderation.infer.onnx import create_session, has_dynamic_batch
from moderation.messages import KeywordHit, OcrResult, Signal, VideoFrame
from moderation.signals.disclosure import disclosure_signals
from moderation.signals.loop import LoopDetector

MatchFn = Callable[[str], list[KeywordHit]]
SYNTHETIC_CATEGORY = "synthetic_unlabeled"


class Resolver(Protocol):
    """What the tracker needs from :class:`moderation.infer.registry.Registry`."""

    def resolve(self, model_id: str) -> ResolvedModel: ...


def _resize(image: np.ndarray, spec: InputSpec) -> np.ndarray:
    if spec.size is None:
        raise ModelError("classifier manifest input.size is required")
    w, h = spec.size
    mode = spec.resize or "stretch"
    ih, iw = image.shape[:2]
    if mode == "stretch":
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    if mode == "resize-crop":
        s = max(w / iw, h / ih)
        big = cv2.resize(image, (max(w, round(iw * s)), max(h, round(ih * s))), interpolation=cv2.INTER_AREA)
        y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
        return big[y0 : y0 + h, x0 : x0 + w]
    if mode in ("letterbox", "pad-square"):
        s = min(w / iw, h / ih)
        small = cv2.resize(image, (max(1, round(iw * s)), max(1, round(ih * s))), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((h, w, *image.shape[2:]), image.dtype)
        y0, x0 = ((h - small.shape[0]) // 2, (w - small.shape[1]) // 2) if mode == "letterbox" else (0, 0)
        canvas[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
        return canvas
    raise ModelError(f"resize mode {mode!r} is not supported for generic classifiers")


class ManifestClassifier:
    """A whole-image ONNX classifier run only from its manifest (models/README.md)."""

    def __init__(self, model: ResolvedModel, session: Any) -> None:
        spec = model.manifest.input
        if spec is None or spec.size is None:
            raise ModelError(f"model {model.id}: an onnx-classifier manifest needs input.size")
        self.id = model.id
        self.model = model
        self.spec = spec
        self.session = session
        self.input_name = spec.name or session.get_inputs()[0].name
        self.batched = has_dynamic_batch(session)
        out = model.manifest.output
        self.format = out.format if out is not None else "probabilities"
        labels = model.labels or ()
        score_label = out.score_label if out is not None else None
        self.score_index = labels.index(score_label) if score_label in labels else max(len(labels) - 1, 0)
        self.category = model.manifest.category_map.get(score_label or "", SYNTHETIC_CATEGORY)

    @classmethod
    def load(cls, resolver: Resolver, model_id: str, providers: Sequence[str] | None = None) -> ManifestClassifier:
        model = resolver.resolve(model_id)
        if model.kind != "onnx-classifier":
            raise ModelError(f"model {model_id} is a {model.kind}, not an onnx-classifier")
        return cls(model, create_session(model.path, providers))

    def preprocess(self, images: Sequence[np.ndarray]) -> np.ndarray:
        spec = self.spec
        batch = []
        for img in images:
            x = _resize(img, spec)
            if spec.color == "RGB":
                x = cv2.cvtColor(x, cv2.COLOR_BGR2RGB)
            elif spec.color == "gray":
                x = cv2.cvtColor(x, cv2.COLOR_BGR2GRAY)[:, :, None]
            batch.append(x)
        arr: np.ndarray = np.stack(batch).astype(np.float32) * np.float32(spec.scale)
        channels = arr.shape[-1]
        mean, std = np.asarray(spec.mean[:channels], np.float32), np.asarray(spec.std[:channels], np.float32)
        arr = (arr - mean) / std
        if spec.layout != "NHWC":
            arr = arr.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(arr.astype(spec.dtype))

    def _scores(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw.reshape(raw.shape[0], -1), dtype=np.float64)
        if self.format == "logits":
            e = np.exp(raw - raw.max(axis=1, keepdims=True))
            raw = np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)
        elif self.format == "sigmoid-logits":
            raw = np.asarray(1.0 / (1.0 + np.exp(-raw)), dtype=np.float64)
        col = self.score_index if raw.shape[1] > self.score_index else raw.shape[1] - 1
        return np.clip(raw[:, col], 0.0, 1.0)

    def score(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """The manifest's score label probability for each image."""
        if not images:
            return np.zeros(0)
        x = self.preprocess(images)
        if self.batched:
            raw = self.session.run(None, {self.input_name: x})[0]
        else:
            raw = np.concatenate([self.session.run(None, {self.input_name: x[i : i + 1]})[0] for i in range(len(x))])
        if len(raw) != len(images):
            raise ModelError(f"model {self.id}: {len(raw)} outputs for {len(images)} images")
        return self._scores(np.asarray(raw))


@dataclass(frozen=True)
class ClassifierScore:
    """One configured classifier's score for one frame."""

    model: str
    category: str
    score: float


FrameScores = tuple[ClassifierScore, ...]


class SyntheticScorer:
    """The ``synthetic`` family's batch function: every configured classifier over a batch of frames.

    Built once per node (by the batcher of the family); the classifiers are loaded from
    ``resolver`` on the first call, on the thread that runs the batches.
    """

    def __init__(
        self, cfg: SyntheticConfig, resolver: Resolver | None, classifiers: Sequence[ManifestClassifier] | None = None
    ) -> None:
        if cfg.classifiers and resolver is None and classifiers is None:
            raise ModelError("synthetic.classifiers are configured but no model registry was given")
        self.cfg = cfg
        self.resolver = resolver
        self._classifiers = list(classifiers) if classifiers is not None else None

    def classifiers(self) -> list[ManifestClassifier]:
        if self._classifiers is None:
            resolver = self.resolver
            self._classifiers = [ManifestClassifier.load(resolver, m) for m in self.cfg.classifiers] if resolver else []
        return self._classifiers

    def score(self, frames: Sequence[VideoFrame]) -> list[FrameScores]:
        """One tuple of scores per frame, one score per classifier."""
        per_model = [(clf, clf.score([f.image for f in frames])) for clf in self.classifiers() if frames]
        return [
            tuple(ClassifierScore(clf.id, clf.category, float(s[i])) for clf, s in per_model)
            for i in range(len(frames))
        ]


def scoring_enabled(cfg: SyntheticConfig) -> bool:
    """Whether frames go to the ``synthetic`` family at all (no classifier configured: no calls)."""
    return cfg.enabled and bool(cfg.classifiers)


class SyntheticTracker:
    """Per-stream synthetic-content state: ``observe(frames, ocr_results, scores) -> signals`` per batch.

    ``scores`` are the ``synthetic`` family's results for ``frames`` (one :data:`FrameScores` per
    frame, or an empty tuple for a frame whose scoring failed).
    """

    def __init__(self, stream: str, cfg: SyntheticConfig, match: MatchFn | None = None) -> None:
        self.stream = stream
        self.cfg = cfg
        self.match = match
        self.loop = LoopDetector(stream, cfg.loop, SYNTHETIC_CATEGORY)

    def observe(
        self,
        frames: Sequence[VideoFrame],
        ocr_results: Sequence[OcrResult] = (),
        scores: Sequence[FrameScores] = (),
        gray: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> list[Signal]:
        """Signals from one batch of sampled frames (and the OCR results and classifier scores of any
        of them); ``gray`` gives a frame's grey copy when other stages share it (the loop hash is
        taken on the grey frame: :class:`~moderation.sample.frames.GrayFrames`)."""
        if not self.cfg.enabled:
            return []
        out: list[Signal] = []
        if self.cfg.loop.enabled:
            for f in frames:
                out.extend(self.loop.observe(f.t, f.image if gray is None else gray(f.image)))
        if scores:
            by_model: dict[str, list[Signal]] = {}
            for f, frame_scores in zip(frames, scores, strict=True):
                for sc in frame_scores:
                    if sc.score >= self.cfg.classifier_min_score:
                        by_model.setdefault(sc.model, []).append(
                            Signal(
                                kind=f"synthetic.model.{sc.model}",
                                stream=self.stream,
                                t=f.t,
                                score=sc.score,
                                category=sc.category,
                            )
                        )
            for sigs in by_model.values():
                out.extend(sigs)
        if self.cfg.disclosure.enabled and self.match is not None and ocr_results:
            out.extend(disclosure_signals(ocr_results, self.match, self.cfg.disclosure))
        return out

    def finish(self) -> list[Signal]:
        """End of stream: report the tail of a loop still running."""
        return self.loop.flush() if self.cfg.enabled else []
