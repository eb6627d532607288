"""Pictures for sample media: a moving background, CJK text overlays and QR codes.

Text is drawn with Pillow and the Noto CJK font (Debian ``fonts-noto-cjk``) because OpenCV's
Hershey fonts have no Chinese glyphs; QR codes come from ``cv2.QRCodeEncoder`` so the decode side
(``cv2.QRCodeDetector``) is tested against a standard encoder, not against itself.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from moderation.samplegen.writer import SampleGenError

_FONT_DIR = Path("/usr/share/fonts/opentype/noto")
BGR = tuple[int, int, int]


@functools.lru_cache(maxsize=4)
def find_cjk_font(bold: bool = True) -> Path:
    """Path of a Noto Sans CJK font file (Debian ``fonts-noto-cjk``), or a clear error."""
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    for candidate in (_FONT_DIR / name, _FONT_DIR / "NotoSansCJK-Regular.ttc"):
        if candidate.is_file():
            return candidate
    exe = shutil.which("fc-match")
    if exe is not None:
        style = ":style=Bold" if bold else ""
        proc = subprocess.run(
            [exe, "-f", "%{file}", f"Noto Sans CJK SC{style}"], capture_output=True, text=True, check=False
        )
        found = Path(proc.stdout.strip())
        if proc.returncode == 0 and "CJK" in found.name and found.is_file():
            return found
    raise SampleGenError("Noto CJK font not found: install the Debian package 'fonts-noto-cjk'")


@functools.lru_cache(maxsize=16)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    # index 2 of the .ttc collection is the Simplified Chinese ("SC") face.
    path = find_cjk_font(bold)
    return ImageFont.truetype(str(path), size=size, index=2 if path.suffix.lower() == ".ttc" else 0)


def render_text(
    text: str,
    font_size: int = 48,
    fg: BGR = (255, 255, 255),
    bg: BGR = (0, 0, 0),
    pad: int = 16,
    bold: bool = True,
) -> np.ndarray:
    """Render one line of (CJK or Latin) text on a solid box; returns BGR uint8.

    A solid high-contrast box is what a streamer's "caption" overlay looks like and what OCR
    reads reliably; the sample is meant to test the pipeline, not the OCR model's limits.
    """
    font = _font(font_size, bold)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    img = Image.new("RGB", (w, h), bg[::-1])
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill=fg[::-1])
    return np.asarray(img)[:, :, ::-1].copy()


def qr_image(url: str, size: int = 280) -> np.ndarray:
    """A QR code for ``url`` as a BGR image of ``size``x``size`` with its white quiet zone."""
    encoder = cv2.QRCodeEncoder.create()
    modules = encoder.encode(url)
    if modules is None or modules.size == 0:
        raise SampleGenError(f"cv2.QRCodeEncoder could not encode {url!r}")
    # Integer module size (nearest-neighbour) keeps module edges sharp for the detector.
    scale = max(1, size // modules.shape[0])
    big = cv2.resize(modules, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    canvas = np.full((size, size), 255, np.uint8)
    off = (size - big.shape[0]) // 2
    canvas[off : off + big.shape[0], off : off + big.shape[1]] = big[: size - off, : size - off]
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)


def paste(frame: np.ndarray, image: np.ndarray, x: int, y: int) -> tuple[int, int, int, int]:
    """Copy ``image`` onto ``frame`` at (x, y) in place, clipped; returns the box (x, y, w, h)."""
    fh, fw = frame.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(fw, x + image.shape[1]), min(fh, y + image.shape[0])
    if x1 <= x0 or y1 <= y0:
        return (x0, y0, 0, 0)
    frame[y0:y1, x0:x1] = image[y0 - y : y1 - y, x0 - x : x1 - x]
    return (x0, y0, x1 - x0, y1 - y0)


def centered_box(frame_w: int, frame_h: int, w: int, h: int, y_frac: float = 0.5) -> tuple[int, int]:
    """Top-left corner that centres a ``w``x``h`` image horizontally at ``y_frac`` of the height."""
    return (frame_w - w) // 2, int(frame_h * y_frac - h / 2)


class Background:
    """A seeded, moving, text-free scene: drifting colour gradient plus a bouncing soft blob.

    Movement makes the clip obviously video (and exercises inter-frame coding); the gradient is
    computed once and rolled per frame, so 60 s of frames cost little CPU. The moving object is
    a blurred disc on purpose: RapidOCR reads a hard-edged square as "■" and a disc as "O",
    and "no text outside the planted overlays" is part of the sample's contract.
    """

    def __init__(self, width: int, height: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.width, self.height = width, height
        xs = np.linspace(0.0, 2 * np.pi, width, endpoint=False)
        ys = np.linspace(0.0, np.pi, height, endpoint=False)
        phase = rng.uniform(0, 2 * np.pi, 3)
        base = np.empty((height, width, 3), np.float32)
        for c in range(3):
            base[:, :, c] = 90 + 50 * np.sin(xs[None, :] + phase[c]) * np.cos(ys[:, None] + phase[c] / 2)
        self._base = base.clip(0, 255).astype(np.uint8)
        self._speed = rng.uniform(40, 80, 2)  # blob velocity, px/s
        self._color = rng.integers(150, 256, 3).astype(np.float32)
        self._drift = float(rng.uniform(20, 40))  # gradient drift, px/s
        side = max(8, min(width, height) // 3)
        mask = np.zeros((side, side), np.float32)
        cv2.circle(mask, (side // 2, side // 2), side // 4, 1.0, thickness=-1)
        self._alpha = cv2.GaussianBlur(mask, (0, 0), side / 8)[:, :, None]
        self._side = side

    def frame(self, t: float) -> np.ndarray:
        img = np.roll(self._base, int(t * self._drift) % self.width, axis=1)
        side = self._side
        x = _bounce(t * self._speed[0], self.width - side)
        y = _bounce(t * self._speed[1], self.height - side)
        patch = img[y : y + side, x : x + side].astype(np.float32)
        alpha = self._alpha[: patch.shape[0], : patch.shape[1]]
        img[y : y + side, x : x + side] = (patch * (1 - alpha) + self._color * alpha).astype(np.uint8)
        return img


def _bounce(pos: float, span: int) -> int:
    """Position ping-ponging in ``[0, span]``."""
    if span <= 0:
        return 0
    p = pos % (2 * span)
    return int(p if p <= span else 2 * span - p)
