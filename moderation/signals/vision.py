"""Vision model results → ``image.*`` signals (DESIGN.md §4.3)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from moderation.config import VisionConfig
from moderation.messages import Signal, VisionResult

#: Fingerprint resolution: scores to 0.01, boxes to 8 px. A still image sampled twice gives the same
#: outputs (one observation); a frame that changed moves a score or a box past this.
_SCORE_STEP, _BOX_STEP = 0.01, 8.0


def frame_fingerprint(r: VisionResult) -> str:
    """A short hash of a frame's model outputs (labels, boxes, scores), quantised.

    Fusion counts signals with one fingerprint as one observation, so identical frames (a still
    image, a frozen stream) are not independent evidence however often they are sampled.
    """
    dets = sorted((d.label, round(d.score / _SCORE_STEP), *(round(v / _BOX_STEP) for v in d.box)) for d in r.detections)
    scores = sorted((name, round(score / _SCORE_STEP)) for name, score in r.scores)
    return hashlib.blake2b(repr((dets, scores)).encode(), digest_size=8).hexdigest()


def vision_signals(results: Iterable[VisionResult], cfg: VisionConfig) -> list[Signal]:
    """Exposed-body detections and high NSFW scores become ``vulgar`` evidence.

    Covered classes (faces, covered breasts, feet...) are not evidence on their own; which
    classes count is policy, configured in ``VisionConfig.nudenet_labels``. Each signal carries
    the frame's fingerprint (:func:`frame_fingerprint`) and, as ``support``, the other model's view
    of the same frame (open_nsfw for a box; the best counted box for open_nsfw), so the policy can
    apply per-class thresholds and ask the two models to agree (``SignalRule.labels`` and
    ``agree_score``).
    """
    labels = set(cfg.nudenet_labels)
    out: list[Signal] = []
    for r in results:
        counted = [d for d in r.detections if d.label in labels and d.score >= cfg.nudenet_min_score]
        nsfw = [score for name, score in r.scores if name == "open_nsfw"]
        if not counted and not any(s >= cfg.nsfw_min_score for s in nsfw):
            continue
        frame = frame_fingerprint(r)
        for d in counted:
            out.append(
                Signal(
                    kind="image.nudenet",
                    stream=r.stream,
                    t=r.t,
                    score=d.score,
                    category="vulgar",
                    label=d.label,
                    box=d.box,
                    frame=frame,
                    support=max(nsfw) if nsfw else None,
                )
            )
        for score in nsfw:
            if score >= cfg.nsfw_min_score:
                best_box = max((d.score for d in counted), default=None)
                out.append(
                    Signal(
                        kind="image.nsfw",
                        stream=r.stream,
                        t=r.t,
                        score=score,
                        category="vulgar",
                        frame=frame,
                        support=best_box,
                    )
                )
    return out
