"""One stream's QR searches: a code whose region has not changed is not decoded again.

A code put up for viewers stays on screen for seconds to minutes, and decoding it is most of what
a search costs: on a 720p frame OpenCV's detector rejects a frame without a code in ~3 ms but takes
~30 ms on a frame with one, every ``qr.every_s`` for as long as it is shown. The pixels of a code
are its payload, so where the region a code was decoded from is unchanged since (grey pixels within
the codec's noise), it still shows that code: it is kept without decoding, and the rest of the
frame is searched with that region blanked out (white, as a code's quiet zone is), which costs what
a frame without a code costs. Codes newly shown anywhere else are found as before; a region that
changed at all (the code replaced, moved, scaled, covered or gone) is searched again in full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from moderation.signals.qr import QrCode, decode_qr

__all__ = ["QrSearch"]

#: Pixels around a code's box compared with it (and blanked with it): the quiet zone's edge.
MARGIN_PX = 4
#: A grey pixel that moved by more than this many levels has changed; codec noise on a static
#: overlay stays well below it, while a different payload flips whole modules (about 200 levels).
CHANGED_LEVELS = 48
#: Share of a region's pixels that may exceed :data:`CHANGED_LEVELS` for it to count as unchanged.
#: Another payload changes dozens of modules (its error-correction bytes alone): several percent
#: of the region even at 2 px per module.
CHANGED_SHARE = 0.001


@dataclass(frozen=True)
class _Held:
    """A code, the region it was decoded from (with its margin) and that region's grey pixels then."""

    code: QrCode
    region: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
    pixels: np.ndarray


class QrSearch:
    """Call with each searched frame (grey or BGR) of one stream, in time order; returns its codes.

    ``decode`` is the full search (:func:`~moderation.signals.qr.decode_qr`).
    """

    def __init__(self, decode: Callable[[np.ndarray], list[QrCode]] = decode_qr) -> None:
        self.decode = decode
        self._held: list[_Held] = []
        #: searches that kept at least one code without decoding it (for tests and counters)
        self.reused = 0

    def __call__(self, gray: np.ndarray) -> list[QrCode]:
        kept = [h for h in self._held if _unchanged(h, gray)]
        if not kept:
            found = self.decode(gray)
            self._held = [_hold(c, gray) for c in found]
            return found
        self.reused += 1
        masked = gray.copy()
        for h in kept:
            x0, y0, x1, y1 = h.region
            masked[y0:y1, x0:x1] = 255
        known = {h.code.data for h in kept}
        new = [c for c in self.decode(masked) if c.data not in known]
        self._held = kept + [_hold(c, gray) for c in new]
        return [h.code for h in kept] + new


def _region(code: QrCode, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    x, y, w, h = code.box
    rows, cols = shape[:2]
    x0, y0 = max(0, int(np.floor(x)) - MARGIN_PX), max(0, int(np.floor(y)) - MARGIN_PX)
    x1, y1 = min(cols, int(np.ceil(x + w)) + 1 + MARGIN_PX), min(rows, int(np.ceil(y + h)) + 1 + MARGIN_PX)
    return x0, y0, x1, y1


def _hold(code: QrCode, gray: np.ndarray) -> _Held:
    x0, y0, x1, y1 = region = _region(code, gray.shape)
    return _Held(code, region, gray[y0:y1, x0:x1].copy())


def _unchanged(held: _Held, gray: np.ndarray) -> bool:
    """Whether ``gray`` shows the held region as it was when its code was decoded."""
    x0, y0, x1, y1 = held.region
    if gray.ndim != held.pixels.ndim or y1 > gray.shape[0] or x1 > gray.shape[1]:
        return False
    now = gray[y0:y1, x0:x1]
    if now.shape != held.pixels.shape or now.size == 0:
        return False
    moved = int(np.count_nonzero(np.abs(now.astype(np.int16) - held.pixels.astype(np.int16)) > CHANGED_LEVELS))
    return moved <= CHANGED_SHARE * now.size
