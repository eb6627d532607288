"""A live pool's process runs OpenCV on the configured number of threads."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import pytest

from moderation.config import load_pipeline
from moderation.pipeline.pool import set_native_threads


@pytest.fixture
def restore_threads() -> Iterator[None]:
    before = cv2.getNumThreads()
    yield
    cv2.setNumThreads(before)


@pytest.mark.usefixtures("restore_threads")
def test_pool_process_uses_the_configured_opencv_threads() -> None:
    cfg = load_pipeline("default")
    cv2.setNumThreads(4)
    set_native_threads(cfg)
    assert cv2.getNumThreads() == cfg.live.opencv_threads == 1


@pytest.mark.usefixtures("restore_threads")
def test_zero_leaves_opencv_its_own_choice() -> None:
    cfg = load_pipeline("default")
    cfg = cfg.model_copy(update={"live": cfg.live.model_copy(update={"opencv_threads": 0})})
    cv2.setNumThreads(3)
    set_native_threads(cfg)
    assert cv2.getNumThreads() == 3
