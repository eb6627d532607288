"""Preprocessing fused into the model graph (uint8 frames in) against the CPU preprocessing path.

Runs on the CPU provider, so CI checks the graph that a GPU node runs: the resampling weights
against cv2 / PIL directly, then whole fused models against the cv2/PIL path on frames of several
sizes (detections and scores within the tolerances the reference comparisons use).
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from PIL import Image

from moderation.infer import onnx as onnx_mod
from moderation.infer.fused import (
    FRAMES,
    fuse_preprocessing,
    fused_model_path,
    group_by_size,
    resize_weights,
)
from moderation.infer.onnx import choose_providers
from moderation.infer.runner import RunnerOptions
from moderation.infer.vision import NudeNetDetector, OpenNsfwClassifier, default_nudenet_path
from tests.infer.test_vision import draw_face, draw_torso, noise, tall_frame, wide_scene

SIZES = [(720, 1280), (240, 440), (400, 220), (97, 81), (360, 640)]


def _frame(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // w, y * 255 // h, (x + y) % 256], axis=-1)
    return (base + rng.integers(0, 60, (h, w, 3))).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize(("h", "w"), SIZES)
def test_nudenet_weights_reproduce_cv2_letterbox_resize(h: int, w: int) -> None:
    img = _frame(h, w, 1)
    side = max(h, w)
    padded = cv2.copyMakeBorder(img, 0, side - h, 0, side - w, cv2.BORDER_CONSTANT, value=0)
    ref = cv2.resize(padded, (320, 320), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    rows, cols = resize_weights("nudenet", h, w)
    ours = np.floor(rows @ (img.astype(np.float32).transpose(2, 0, 1) @ cols) + 0.5).transpose(1, 2, 0)
    # cv2 rounds fixed-point weights: at most one grey level apart, and rarely.
    assert np.abs(ours - ref).max() <= 1
    assert np.mean(ours != ref) < 0.15


@pytest.mark.parametrize(("h", "w"), SIZES)
def test_open_nsfw_weights_reproduce_pil_resize_and_crop(h: int, w: int) -> None:
    img = _frame(h, w, 2)
    ref = np.asarray(Image.fromarray(img).resize((256, 256), Image.Resampling.BILINEAR), dtype=np.float32)
    ref = ref[16:240, 16:240]
    rows, cols = resize_weights("open_nsfw", h, w)
    first = np.floor(img.astype(np.float32).transpose(2, 0, 1) @ cols + 0.5)
    ours = np.floor(rows @ first + 0.5).transpose(1, 2, 0)
    assert np.abs(ours - ref).max() <= 1
    assert np.mean(ours != ref) < 0.3


def test_weights_are_cached_and_read_only() -> None:
    a = resize_weights("nudenet", 720, 1280)
    assert resize_weights("nudenet", 720, 1280)[0] is a[0]
    assert not a[0].flags.writeable and not a[1].flags.writeable
    with pytest.raises(ValueError, match="unknown preprocessing kind"):
        resize_weights("yolo", 10, 10)


def test_group_by_size_keeps_first_seen_order() -> None:
    ims = [np.zeros((4, 6, 3), np.uint8), np.zeros((5, 5, 3), np.uint8), np.zeros((4, 6, 3), np.uint8)]
    assert group_by_size(ims) == [[0, 2], [1]]


def test_fused_graph_replaces_the_image_input_and_is_cached(tmp_path: Path) -> None:
    model = onnx.load(str(default_nudenet_path()))
    fused = fuse_preprocessing(model, "nudenet")
    assert next(i.name for i in fused.graph.input) == FRAMES
    assert fused.opset_import == model.opset_import
    with pytest.raises(ValueError, match="one image input"):
        fuse_preprocessing(fused, "nudenet")
    p1 = fused_model_path(default_nudenet_path(), "nudenet", tmp_path)
    mtime = p1.stat().st_mtime_ns
    assert fused_model_path(default_nudenet_path(), "nudenet", tmp_path) == p1
    assert p1.stat().st_mtime_ns == mtime
    assert not list(tmp_path.glob("*.partial"))


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """Frames with real detections (face, torso) in several sizes, two of each size in places."""
    return [
        draw_face(),
        draw_torso(),
        wide_scene(),
        tall_frame(),
        draw_face(97, 81),
        noise(),
        wide_scene()[::-1].copy(),
    ]


@pytest.mark.slow
def test_fused_nudenet_equals_cpu_preprocessing(frames: list[np.ndarray], tmp_path: Path) -> None:
    cpu = NudeNetDetector(providers=["CPUExecutionProvider"], intra_op_threads=1)
    fused = NudeNetDetector(
        providers=["CPUExecutionProvider"],
        intra_op_threads=1,
        runner=RunnerOptions(fused_preprocess=True),
    )
    assert fused.fused and not cpu.fused
    want, got = cpu.detect(frames), fused.detect(frames)
    assert sum(len(d) for d in want) >= 3  # real detections were compared
    for a, b in zip(want, got, strict=True):
        assert [d.label for d in a] == [d.label for d in b]
        for x, y in zip(a, b, strict=True):
            assert abs(x.score - y.score) <= 0.01
            assert np.max(np.abs(np.array(x.box) - np.array(y.box))) <= 2.0


@pytest.mark.slow
@pytest.mark.parametrize("io_binding", [False, True])
def test_fused_open_nsfw_equals_cpu_preprocessing(frames: list[np.ndarray], io_binding: bool) -> None:
    opts = RunnerOptions(fused_preprocess=True, io_binding=io_binding)
    fused = OpenNsfwClassifier(providers=["CPUExecutionProvider"], intra_op_threads=1, runner=opts)
    plain = OpenNsfwClassifier(providers=["CPUExecutionProvider"], intra_op_threads=1, jpeg_roundtrip=False)
    jpeg = OpenNsfwClassifier(providers=["CPUExecutionProvider"], intra_op_threads=1)
    got = fused.score(frames)
    assert fused.fused
    np.testing.assert_allclose(got, plain.score(frames), atol=0.01)
    # The JPEG round trip is the one step the graph leaves out: it moves a blurred skin-tone
    # torso by about 0.1 (0.31 without, 0.21 with), so the fused path is close to it, not equal.
    np.testing.assert_allclose(got, jpeg.score(frames), atol=0.15)
    assert got.max() - got.min() > 0.2  # the scores differ between frames: the comparison means something


@pytest.mark.slow
def test_fused_batches_split_by_size_and_batch(frames: list[np.ndarray]) -> None:
    det = NudeNetDetector(
        providers=["CPUExecutionProvider"],
        intra_op_threads=1,
        batch_size=2,
        runner=RunnerOptions(fused_preprocess=True),
    )
    one_by_one = [det.detect([f])[0] for f in frames]
    assert det.detect(frames) == one_by_one


def test_gpu_provider_on_a_cpu_machine_falls_back_with_one_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_mod, "available_providers", lambda: ["CPUExecutionProvider"])
    with caplog.at_level(logging.WARNING, logger="moderation.infer.onnx"):
        assert choose_providers(["CUDAExecutionProvider"]) == ["CPUExecutionProvider"]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "CUDAExecutionProvider" in lines[0] and "\n" not in lines[0]


def test_unknown_provider_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="CudaProvider"):
        choose_providers(["CudaProvider"])


def _i420(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)


@pytest.fixture(scope="module")
def even_frames(frames: list[np.ndarray]) -> list[np.ndarray]:
    """The frames whose sides are even (I420 needs that)."""
    return [f for f in frames if f.shape[0] % 2 == 0 and f.shape[1] % 2 == 0]


@pytest.mark.slow
def test_i420_nudenet_equals_cpu_path_on_the_converted_frames(even_frames: list[np.ndarray]) -> None:
    """Fused I420 in ≈ OpenCV's I420→BGR conversion, then the CPU path (letterbox padding black)."""
    cpu = NudeNetDetector(providers=["CPUExecutionProvider"], intra_op_threads=1)
    fused = NudeNetDetector(
        providers=["CPUExecutionProvider"], intra_op_threads=1, runner=RunnerOptions(fused_input="i420")
    )
    assert fused.fused == "i420"
    planes = [_i420(f) for f in even_frames]
    want = cpu.detect([cv2.cvtColor(p, cv2.COLOR_YUV2BGR_I420) for p in planes])
    got = fused.detect(planes)
    assert sum(len(d) for d in want) >= 3
    for a, b in zip(want, got, strict=True):
        # Two detections with scores 0.006 apart may swap places; compare them in box order.
        a, b = (sorted(d, key=lambda x: (x.label, x.box[0])) for d in (a, b))
        assert [d.label for d in a] == [d.label for d in b]
        for x, y in zip(a, b, strict=True):
            assert abs(x.score - y.score) <= 0.02
            assert np.max(np.abs(np.array(x.box) - np.array(y.box))) <= 3.0


@pytest.mark.slow
def test_i420_open_nsfw_close_to_cpu_path(even_frames: list[np.ndarray]) -> None:
    plain = OpenNsfwClassifier(providers=["CPUExecutionProvider"], intra_op_threads=1, jpeg_roundtrip=False)
    fused = OpenNsfwClassifier(
        providers=["CPUExecutionProvider"], intra_op_threads=1, runner=RunnerOptions(fused_input="i420")
    )
    planes = [_i420(f) for f in even_frames]
    want = plain.score([cv2.cvtColor(p, cv2.COLOR_YUV2BGR_I420) for p in planes])
    got = fused.score(planes)
    np.testing.assert_allclose(got, want, atol=0.02)
    assert got.max() - got.min() > 0.2


def test_i420_frames_are_checked() -> None:
    from moderation.infer.fused_i420 import i420_size

    assert i420_size(np.zeros((1080, 1280), np.uint8)) == (720, 1280)
    with pytest.raises(ValueError, match="frame 3"):
        i420_size(np.zeros((720, 1280, 3), np.uint8), "frame 3")
    with pytest.raises(ValueError, match="even"):
        i420_size(np.zeros((1080, 1281), np.uint8))
    with pytest.raises(ValueError, match="even"):
        i420_size(np.zeros((1082, 1280), np.uint8))


def test_chroma_weights_equal_resizing_2x2_repeated_chroma() -> None:
    from moderation.infer.fused_i420 import chroma_weights

    rows, cols = resize_weights("nudenet", 240, 440)
    c_rows, c_cols = chroma_weights(rows, cols)
    plane = np.random.default_rng(3).random((120, 220)).astype(np.float32)
    repeated = np.repeat(np.repeat(plane, 2, axis=0), 2, axis=1)
    np.testing.assert_allclose(c_rows @ plane @ c_cols, rows @ repeated @ cols, rtol=1e-5, atol=1e-4)
