"""Minors on camera: NudeNet's face boxes → face chips → estimated ages → ``minors`` signals.

No extra face detector: the vision stage already runs NudeNet, whose ``FACE_FEMALE`` /
``FACE_MALE`` detections (``AgeConfig.face_labels``) are the faces. Each face box becomes a chip
(:func:`moderation.infer.age.face_chip`), the chips of many frames and streams go through the age
model in one batch, and the youngest estimate of each frame feeds a per-stream k-of-n rule: a
``image.age`` signal (category ``minors``) is raised only when ``k`` of the last ``n`` frames that
showed a face had one estimated under ``minor_age``. One frame never decides: the model errs by
years on a single unaligned chip (see ``models/age-v1.yaml`` and the measurements in the module
docs of :mod:`moderation.infer.age`), make-up and lighting move it further, and an adult with a
young face is not a minor.

Two steps so the pipeline can batch across streams: :meth:`AgeSignals.chips` (per frame, cheap:
crops) and :meth:`AgeSignals.update` (with the ages the batched model returned for those chips).
:meth:`AgeSignals.observe` does both for one frame with an ``estimate`` callable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import numpy as np

from moderation.config import AgeConfig
from moderation.infer.age import face_boxes, face_chip
from moderation.messages import Box, Signal, VideoFrame, VisionResult

__all__ = ["AgeSignals", "face_boxes"]

Estimate = Callable[[Sequence[np.ndarray]], np.ndarray]


class AgeSignals:
    """Per-stream k-of-n state over the youngest face estimate of each frame with a face."""

    def __init__(self, stream: str, cfg: AgeConfig | None = None) -> None:
        self.stream = stream
        self.cfg = cfg or AgeConfig()
        self._history: deque[tuple[float, float, Box]] = deque()  # (t, youngest age, its box)
        self._emitted: float | None = None

    def chips(self, frame: VideoFrame, result: VisionResult) -> tuple[list[np.ndarray], list[Box]]:
        """Face chips of one frame (64x64 RGB) and their boxes, for the batched age model."""
        chips: list[np.ndarray] = []
        boxes: list[Box] = []
        for box in face_boxes(result.detections, self.cfg):
            chip = face_chip(frame.image, box, self.cfg.padding)
            if chip is not None:
                chips.append(chip)
                boxes.append(box)
        return chips, boxes

    def update(self, t: float, ages: Sequence[float], boxes: Sequence[Box]) -> list[Signal]:
        """Record the ages of one frame's faces (none: the frame showed no face and is not
        counted); a signal when ``k`` of the last ``n`` face frames had a minor's estimate."""
        cfg = self.cfg
        while self._history and self._history[0][0] < t - cfg.history_s:
            self._history.popleft()
        if len(ages) == 0:
            return []
        i = int(np.argmin(ages))
        self._history.append((t, float(ages[i]), boxes[i]))
        while len(self._history) > cfg.n:
            self._history.popleft()
        young = [h for h in self._history if h[1] < cfg.minor_age]
        if len(young) < cfg.k or self._history[-1][1] >= cfg.minor_age:
            return []
        if self._emitted is not None and 0 <= t - self._emitted < cfg.signal_every_s:
            return []
        self._emitted = t
        median = float(np.median([h[1] for h in young]))
        # 0.6 at exactly k of n, towards 1.0 as every frame agrees and the estimate is far below the line
        agree = len(young) / max(len(self._history), 1)
        margin = min(1.0, (cfg.minor_age - median) / cfg.minor_age)
        score = min(1.0, 0.5 + 0.3 * agree + 0.2 * margin)
        return [
            Signal(
                kind="image.age",
                stream=self.stream,
                t=young[0][0],
                end=t,
                score=score,
                category="minors",
                box=self._history[-1][2],
                label=f"age~{median:.0f}",
                text=f"a face estimated under {cfg.minor_age:g} (median {median:.1f}) in "
                f"{len(young)} of the last {len(self._history)} frames with a face",
            )
        ]

    def observe_result(self, result: VisionResult) -> list[Signal]:
        """:meth:`update` with the ages the vision batcher already estimated (:attr:`VisionResult.faces`)."""
        return self.update(result.t, [a for _, a in result.faces], [b for b, _ in result.faces])

    def observe(self, frame: VideoFrame, result: VisionResult, estimate: Estimate) -> list[Signal]:
        """:meth:`chips`, ``estimate`` (e.g. :meth:`moderation.infer.age.AgeModel.estimate`), :meth:`update`."""
        chips, boxes = self.chips(frame, result)
        ages = estimate(chips) if chips else np.zeros(0)
        return self.update(frame.t, [float(a) for a in ages], boxes)
