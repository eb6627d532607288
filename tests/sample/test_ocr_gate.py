"""The OCR gate on tiny generated frames: text vs flat vs smooth vs unchanged, rate and refresh."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from moderation.config import OcrConfig, OcrGateConfig
from moderation.messages import VideoFrame
from moderation.sample.ocr_gate import OcrGate

W, H = 320, 180


def flat(value: int = 90) -> np.ndarray:
    return np.full((H, W, 3), value, np.uint8)


def smooth() -> np.ndarray:
    """A gradient with a blurred disc: what a plain scene looks like, no sharp steps."""
    xs = np.linspace(40, 200, W, dtype=np.float32)
    img = np.repeat(np.repeat(xs[None, :, None], H, 0), 3, 2)
    disc = np.zeros((H, W), np.float32)
    cv2.circle(disc, (160, 90), 40, 1.0, -1)
    disc = cv2.GaussianBlur(disc, (0, 0), 12)[:, :, None]
    return (img * (1 - disc) + 250 * disc).astype(np.uint8)


def with_text(text: str = "BET NOW 888", base: np.ndarray | None = None, y: int = 100) -> np.ndarray:
    img = smooth() if base is None else base.copy()
    cv2.rectangle(img, (20, y - 30), (300, y + 10), (20, 20, 20), -1)
    cv2.putText(img, text, (30, y), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
    return img


def frame(img: np.ndarray, t: float) -> VideoFrame:
    return VideoFrame(stream="s", t=t, image=img)


def gate(**kw: object) -> OcrGate:
    fps = kw.pop("fps", 1.0)
    return OcrGate(OcrConfig(fps=fps, gate=OcrGateConfig(**kw)))  # type: ignore[arg-type]


def test_text_frame_is_read_flat_and_smooth_are_not() -> None:
    g = gate()
    assert g.decide(frame(flat(), 0.0)).reason == "no_text"
    assert g.decide(frame(smooth(), 1.0)).reason == "no_text"
    d = g.decide(frame(with_text(), 2.0))
    assert d.run and d.reason == "ocr" and d.text_cells >= 2
    # regions are in frame pixels and cover the caption band
    assert d.regions and any(x < 60 and y < 100 < y + h and w > 100 for x, y, w, h in d.regions)
    assert (g.stats.no_text, g.stats.ocr, g.stats.gated) == (2, 1, 2)


def test_unchanged_frame_is_skipped_until_refresh_and_a_new_caption_is_read() -> None:
    g = gate(refresh_s=5.0)
    img = with_text()
    assert g.decide(frame(img, 0.0)).run
    assert g.decide(frame(img, 1.0)).reason == "unchanged"
    assert g.decide(frame(img.copy(), 2.0)).reason == "unchanged"
    assert g.decide(frame(img, 5.0)).reason == "refresh"  # still on screen: re-read now and then
    d = g.decide(frame(with_text("JOIN VIP 666"), 6.0))
    assert d.run and d.changed_share > 0
    assert g.stats.unchanged == 2 and g.stats.ocr == 3


def test_gate_decides_on_every_frame_but_reads_at_most_the_ocr_rate() -> None:
    g = gate(fps=0.5)
    assert not g.decide(frame(flat(), 0.0)).run  # slot 0 (0–2 s) not used up by a frameless read
    assert g.decide(frame(with_text(), 1.0)).run  # ...so the caption appearing at 1 s is read at once
    d = g.decide(frame(with_text("OTHER TEXT 1"), 1.5))
    assert d.reason == "rate" and not d.run
    assert g.decide(frame(with_text("OTHER TEXT 2"), 2.0)).run
    assert g.stats.rate_skipped == 1


def test_disabled_gate_reads_every_due_frame() -> None:
    g = gate(enabled=False)
    assert [g.decide(frame(flat(), t)).run for t in (0.0, 0.5, 1.0, 2.0)] == [True, False, True, True]


def test_clock_reset_forgets_the_last_read() -> None:
    g = gate()
    img = with_text()
    assert g.decide(frame(img, 100.0)).run
    assert g.decide(frame(img, 1.0)).run  # the stream restarted its clock: not "unchanged", not "rate"


def test_select_and_tiny_frames() -> None:
    g = gate()
    frames = [frame(with_text(), 0.0), frame(flat(), 1.0), frame(with_text("X Y Z 123"), 2.0)]
    assert [f.t for f in g.select(frames)] == [0.0, 2.0]
    tiny = np.zeros((8, 8, 3), np.uint8)
    tiny[:, ::2] = 255
    assert gate().decide(frame(tiny, 0.0)).reason in ("ocr", "no_text")  # smaller than a cell: no crash


@pytest.mark.parametrize("size", [(360, 640), (720, 1280)])
def test_gate_is_cheap(size: tuple[int, int]) -> None:
    import time

    img = cv2.resize(with_text(), (size[1], size[0]))
    g = gate(fps=10.0)
    t0 = time.perf_counter()
    for i in range(20):
        g.decide(frame(img, i * 0.1))
    assert (time.perf_counter() - t0) / 20 < 0.02  # far below one OCR call (≈100+ ms on CPU)


def scene(cx: int, shift: int) -> np.ndarray:
    """A panning gradient with a blurred disc at ``cx``: a moving scene without text."""
    xs = (150 + 50 * np.sin(2 * np.pi * (np.arange(W) + shift) / W)).astype(np.float32)  # seamless pan
    img = np.repeat(np.repeat(xs[None, :, None], H, 0), 3, 2)
    disc = np.zeros((H, W), np.float32)
    cv2.circle(disc, (cx, 45), 30, 1.0, -1)
    disc = cv2.GaussianBlur(disc, (0, 0), 10)[:, :, None]
    return (img * (1 - disc) + 250 * disc).astype(np.uint8)


def test_static_caption_over_a_moving_scene_is_not_new_text() -> None:
    g = gate(refresh_s=10.0)
    reasons = [g.decide(frame(with_text(base=scene(60 + 40 * i, 15 * i), y=160), float(i))).reason for i in range(6)]
    assert reasons == ["ocr"] + ["unchanged"] * 5
    # ...but a different caption in the same place over the same moving scene is read
    d = g.decide(frame(with_text("JOIN VIP 666", base=scene(300, 90), y=160), 6.0))
    assert d.run and d.reason == "ocr"
    # and the whole frame changing where there was no text does not count either: only the scene moved
    assert g.decide(frame(with_text("JOIN VIP 666", base=scene(100, 150), y=160), 7.0)).reason == "unchanged"
