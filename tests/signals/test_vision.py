"""Vision signals carry a frame fingerprint and the other model's score on the same frame."""

from __future__ import annotations

from moderation.config import VisionConfig
from moderation.messages import Detection, VisionResult
from moderation.signals.vision import frame_fingerprint, vision_signals


def result(t: float, score: float, x: float = 10.0, nsfw: float = 0.9) -> VisionResult:
    det = Detection("FEMALE_BREAST_EXPOSED", score, (x, 10.0, 40.0, 40.0))
    return VisionResult("s1", t, (det,), (("open_nsfw", nsfw),))


def test_identical_frames_share_a_fingerprint_changed_ones_do_not() -> None:
    assert frame_fingerprint(result(1.0, 0.7)) == frame_fingerprint(result(9.0, 0.7))
    assert frame_fingerprint(result(1.0, 0.7)) != frame_fingerprint(result(1.0, 0.75))
    assert frame_fingerprint(result(1.0, 0.7)) != frame_fingerprint(result(1.0, 0.7, x=60.0))


def test_signals_carry_support_from_the_other_model() -> None:
    box, nsfw = vision_signals([result(1.0, 0.7, nsfw=0.85)], VisionConfig())
    assert (box.kind, box.support, nsfw.kind, nsfw.support) == ("image.nudenet", 0.85, "image.nsfw", 0.7)
    assert box.frame == nsfw.frame is not None
    assert vision_signals([result(1.0, 0.3, nsfw=0.1)], VisionConfig()) == []
