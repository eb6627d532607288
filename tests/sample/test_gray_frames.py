"""GrayFrames: one grey copy per frame, shared by the stages that start from the grey frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from moderation.sample.frames import GrayFrames


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (36, 64, 3), dtype=np.uint8)


def test_the_grey_copy_is_opencvs_and_made_once_per_image(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, ...]] = []
    convert = cv2.cvtColor

    def counting(image: np.ndarray, code: int) -> np.ndarray:
        calls.append(image.shape)
        return convert(image, code)

    a, b = _image(0), _image(1)
    expected_a, expected_b = convert(a, cv2.COLOR_BGR2GRAY), convert(b, cv2.COLOR_BGR2GRAY)
    monkeypatch.setattr(cv2, "cvtColor", counting)
    gray = GrayFrames()
    first = gray(a)
    assert np.array_equal(first, expected_a)
    assert gray(a) is first
    assert np.array_equal(gray(b), expected_b)
    assert len(calls) == 2  # one conversion per image, however often it is asked for


def test_a_grey_image_is_its_own_grey_copy() -> None:
    grey = _image(2)[:, :, 0]
    assert GrayFrames()(grey) is grey
