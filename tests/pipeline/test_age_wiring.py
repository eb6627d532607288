"""Face ages in the stage graph: NudeNet's face boxes → the age model inside the vision batch →
k-of-n ``minors`` signals per stream (a fake detector and estimator; the real model's own test is
tests/infer/test_age.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from moderation.config import PipelineConfig
from moderation.infer.age import with_face_ages
from moderation.messages import Detection, VideoFrame, VisionResult
from moderation.pipeline.analysis import FrameAnalyzer
from moderation.pipeline.clients import BatchFamily, LocalClients, age_enabled, per_item
from moderation.policy.fuse import fuse
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher

FACE = (100.0, 60.0, 64.0, 64.0)  # x, y, w, h


def detect(frames: Sequence[VideoFrame]) -> list[VisionResult]:
    """Stands in for NudeNet: one face box on every frame, and a box of another class."""
    dets = (Detection("FACE_FEMALE", 0.8, FACE), Detection("BELLY_EXPOSED", 0.9, (0.0, 0.0, 80.0, 80.0)))
    return [VisionResult(f.stream, f.t, dets) for f in frames]


class BrightnessAge:
    """Stands in for the age model: a bright chip is 'young' (so the test sees which pixels were cut)."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def estimate(self, chips: Sequence[np.ndarray]) -> np.ndarray:
        self.calls.append(len(chips))
        return np.array([10.0 if c.mean() > 128 else 35.0 for c in chips])


def frame(stream: str, t: float, face_bright: bool) -> VideoFrame:
    img = np.full((240, 320, 3), 30, np.uint8)
    x, y, w, h = (int(v) for v in FACE)
    if face_bright:
        img[y : y + h, x : x + w] = 220
    return VideoFrame(stream, t, img)


def test_faces_of_a_whole_batch_go_through_the_age_model_in_one_call() -> None:
    cfg = PipelineConfig.model_validate({"age": {"enabled": True}})
    model = BrightnessAge()
    fn = with_face_ages(detect, model, cfg.age)  # type: ignore[arg-type]
    out = fn([frame("a", 0.0, True), frame("b", 0.0, False), frame("a", 1.0, True)])
    assert model.calls == [3]  # the faces of both streams' frames, batched
    assert [r.faces for r in out] == [((FACE, 10.0),), ((FACE, 35.0),), ((FACE, 10.0),)]
    assert all(r.detections == detect([frame("a", 0.0, True)])[0].detections for r in out)  # untouched


def test_minors_need_k_of_n_face_frames_through_the_frame_analyser() -> None:
    cfg = PipelineConfig.model_validate(
        {
            "ocr": {"enabled": False},
            "qr": {"enabled": False},
            "synthetic": {"enabled": False},
            "vision": {"open_nsfw": False},
            "age": {"enabled": True, "k": 3, "n": 4},
        }
    )
    assert age_enabled(cfg)
    assert not age_enabled(cfg.model_copy(update={"vision": cfg.vision.model_copy(update={"nudenet": False})}))
    model = BrightnessAge()
    fn = per_item(with_face_ages(detect, model, cfg.age))  # type: ignore[arg-type]
    family = BatchFamily("vision", fn, lambda: None, 8, 5.0)
    matcher = KeywordMatcher(Lexicon.load())

    async def run() -> list:  # type: ignore[type-arg]
        clients = LocalClients(cfg, families={"vision": family})
        an = FrameAnalyzer("s1", cfg, clients, matcher)
        sigs = []
        # young, adult, young, young: 3 of the last 4 face frames → one signal at the 4th
        for i, young in enumerate([True, False, True, True, True]):
            sigs += (await an.analyse([frame("s1", float(i), young)])).signals
        await clients.close()
        return [s for s in sigs if s.kind == "image.age"]

    age_sigs = asyncio.run(run())
    assert [(s.t, s.end, s.category) for s in age_sigs] == [(0.0, 3.0, "minors")]
    assert age_sigs[0].box == FACE
    (v,) = fuse("s1", age_sigs, cfg.policy)
    assert v.category == "minors" and v.to_record()["subject"] == {"kind": "streamer", "id": "s1"}
