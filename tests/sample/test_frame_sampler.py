"""FpsSampler and scaled_size: pure timestamp logic, no media."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from moderation.sample.frames import FpsSampler, scaled_size, shrink


def _taken(fps: float, times: list[float]) -> list[float]:
    s = FpsSampler(fps)
    return [t for t in times if s.take(t)]


def test_fps1_on_25fps_takes_whole_seconds() -> None:
    times = [i / 25 for i in range(25 * 5)]
    assert _taken(1.0, times) == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_fps2_on_25fps_takes_first_frame_of_each_half_second() -> None:
    times = [i / 25 for i in range(25 * 2)]
    # 0.5 s is not on the 25 fps grid (0.48, 0.52): the first frame at or after it is taken.
    assert _taken(2.0, times) == pytest.approx([0.0, 0.52, 1.0, 1.52])


def test_float_rounding_below_slot_boundary_still_counts() -> None:
    assert _taken(1.0, [0.0, 0.96, 1.9999999999, 2.04]) == [0.0, 1.9999999999]


def test_source_slower_than_fps_takes_every_frame() -> None:
    times = [i * 0.5 for i in range(6)]
    assert _taken(5.0, times) == times


def test_grid_is_anchored_to_timeline_not_first_frame() -> None:
    # Starting mid-stream (after a seek) still samples on whole seconds.
    assert _taken(1.0, [2.6 + i * 0.2 for i in range(10)]) == pytest.approx([2.6, 3.0, 4.0])


def test_backward_clock_jump_resets() -> None:
    s = FpsSampler(1.0)
    assert s.take(100.0)
    assert not s.take(100.5)
    assert s.take(0.0)  # stream restarted its clock
    assert not s.take(0.5)
    assert s.take(1.0)


def test_next_due() -> None:
    s = FpsSampler(2.0)
    s.take(1.1)
    assert s.next_due() == pytest.approx(1.5)


@pytest.mark.parametrize("fps", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_fps_rejected(fps: float) -> None:
    with pytest.raises(ValueError):
        FpsSampler(fps)


def test_scaled_size() -> None:
    s = scaled_size(640, 360, 1280)  # never upscaled
    assert (s.width, s.height) == (640, 360)
    s = scaled_size(3840, 2160, 1280)
    assert (s.width, s.height) == (1280, 720)
    s = scaled_size(1080, 1920, 640)  # portrait phone stream
    assert (s.width, s.height) == (360, 640)
    s = scaled_size(1001, 501, 500)
    assert s.width <= 500 and s.width % 2 == 0 and s.height % 2 == 0


@pytest.mark.parametrize(
    ("src", "dst"), [((1280, 720), (480, 270)), ((1920, 1080), (320, 180)), ((333, 517), (100, 155))]
)
def test_shrink_is_close_to_an_area_average(src: tuple[int, int], dst: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    w, h = src
    # smooth shapes plus fine noise: aliasing would show as a large difference
    yy, xx = np.mgrid[0:h, 0:w]
    base = 120 + 80 * np.sin(xx / 37.0) * np.cos(yy / 23.0)
    img = np.clip(base[..., None] + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)
    ours = shrink(img, *dst)
    ref = cv2.resize(img, dst, interpolation=cv2.INTER_AREA)
    assert ours.shape == ref.shape
    assert np.abs(ours.astype(np.int16) - ref.astype(np.int16)).mean() < 4.0


def test_shrink_keeps_an_image_of_the_target_size() -> None:
    img = np.zeros((90, 160), np.uint8)
    assert shrink(img, 160, 90) is img
