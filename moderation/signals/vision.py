"""Vision model results → ``image.*`` signals (DESIGN.md §4.3)."""

from __future__ import annotations

from collections.abc import Iterable

from moderation.config import VisionConfig
from moderation.messages import Signal, VisionResult


def vision_signals(results: Iterable[VisionResult], cfg: VisionConfig) -> list[Signal]:
    """Exposed-body detections and high NSFW scores become ``vulgar`` evidence.

    Covered classes (faces, covered breasts, feet...) are not evidence on their own; which
    classes count is policy, configured in ``VisionConfig.nudenet_labels``.
    """
    labels = set(cfg.nudenet_labels)
    out: list[Signal] = []
    for r in results:
        for d in r.detections:
            if d.label in labels and d.score >= cfg.nudenet_min_score:
                out.append(
                    Signal(
                        kind="image.nudenet",
                        stream=r.stream,
                        t=r.t,
                        score=d.score,
                        category="vulgar",
                        label=d.label,
                        box=d.box,
                    )
                )
        for name, score in r.scores:
            if name == "open_nsfw" and score >= cfg.nsfw_min_score:
                out.append(Signal(kind="image.nsfw", stream=r.stream, t=r.t, score=score, category="vulgar"))
    return out
