"""Minors on camera: NudeNet face boxes → chips → ages; k-of-n over frames with a face."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from moderation.config import AgeConfig
from moderation.messages import Detection, VideoFrame, VisionResult
from moderation.signals.age import AgeSignals, face_boxes

FACE = Detection("FACE_FEMALE", 0.8, (40.0, 30.0, 60.0, 60.0))


def frame(t: float) -> VideoFrame:
    return VideoFrame("s", t, np.full((120, 160, 3), 90, np.uint8))


def result(t: float, *dets: Detection) -> VisionResult:
    return VisionResult("s", t, tuple(dets))


def fixed(age: float):  # type: ignore[no-untyped-def]
    def estimate(chips: Sequence[np.ndarray]) -> np.ndarray:
        assert all(c.shape == (64, 64, 3) for c in chips)
        return np.full(len(chips), age)

    return estimate


def test_only_confident_large_faces_are_estimated() -> None:
    cfg = AgeConfig(min_face_score=0.5, min_face_px=40)
    dets = [
        FACE,
        Detection("FACE_MALE", 0.3, (0, 0, 60, 60)),
        Detection("FACE_MALE", 0.9, (0, 0, 20, 20)),
        Detection("FEMALE_BREAST_EXPOSED", 0.9, (0, 0, 80, 80)),
    ]
    assert face_boxes(dets, cfg) == [FACE.box]


def test_k_of_n_consistent_young_estimates_raise_minors() -> None:
    sig = AgeSignals("s", AgeConfig(k=3, n=5))
    out = []
    for i in range(2):
        out += sig.observe(frame(float(i)), result(float(i), FACE), fixed(12.0))
    assert out == []  # two frames are not enough
    out = sig.observe(frame(2.0), result(2.0, FACE), fixed(12.0))
    assert [(s.kind, s.category) for s in out] == [("image.age", "minors")]
    assert out[0].t == 0.0 and out[0].end == 2.0 and out[0].label == "age~12" and out[0].score >= 0.6


def test_adults_frames_without_faces_and_a_single_young_frame_do_not() -> None:
    sig = AgeSignals("s", AgeConfig(k=3, n=5))
    ages = [30.0, 12.0, 35.0, 40.0, 28.0, 33.0]
    out = []
    for i, a in enumerate(ages):
        out += sig.observe(frame(float(i)), result(float(i), FACE), fixed(a))
        out += sig.observe(frame(i + 0.5), result(i + 0.5), fixed(10.0))  # no face: not counted
    assert out == []


def test_youngest_face_of_a_frame_counts_and_old_history_expires() -> None:
    sig = AgeSignals("s", AgeConfig(k=2, n=3, history_s=10.0))
    two = result(0.0, FACE, Detection("FACE_MALE", 0.9, (100.0, 30.0, 50.0, 50.0)))
    calls = iter([np.array([40.0, 11.0])])
    assert sig.observe(frame(0.0), two, lambda c: next(calls)) == []
    out = sig.observe(frame(100.0), result(100.0, FACE), fixed(11.0))
    assert out == []  # the first young frame left the history long ago
    out = sig.observe(frame(101.0), result(101.0, FACE), fixed(11.0))
    assert len(out) == 1
