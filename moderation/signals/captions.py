"""How long an on-screen caption that OCR flagged stays on screen, without running OCR again.

OCR is gated (:mod:`moderation.sample.ocr_gate`): a caption that does not change is read once and
then only every ``refresh_s`` seconds, so its ``ocr.keyword`` signals mark when it appeared, not
how long it stayed. :class:`CaptionTracker` remembers the box of every keyword hit OCR read, with a
small grey copy of that region as it looked then, and compares the same region of every later
sampled frame with it (the strokes of a downscaled grey crop: well under a millisecond per region).
While the region still looks the same the caption is on screen, and the tracker reports the seconds
since its last report as a copy of the hit's signal with ``t`` .. ``end`` spanning them: every
``extend_s`` seconds while it stays (so a live verdict grows with it) and once more as soon as the
region changes (the caption is gone, or something covers it). The copies keep the hit's kind, term,
score and text, so fusion counts them with the original read as one observation; they only make
the verdict last as long as the caption did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from moderation.messages import Box, Signal, VideoFrame

__all__ = ["CaptionTracker", "print_distance", "region_print"]

#: Size the caption region is reduced to before comparing (width, height): enough to see the
#: glyph strokes of a line, small enough to cost nothing next to decoding.
_PRINT_SIZE = (96, 24)
#: A print with less stroke energy than this (a blank box) is compared as if it had this much.
_MIN_ENERGY = 0.02


def region_print(image: np.ndarray, box: Box) -> np.ndarray | None:
    """The strokes in ``box`` (x, y, w, h in pixels) of a BGR or grey frame: a small grey copy
    minus its blurred self, so a moving or drifting scene behind the glyphs (smooth) counts for
    little and the glyphs (sharp) for much; None when the box lies outside the frame or is empty."""
    h, w = image.shape[:2]
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(w, int(np.ceil(box[0] + box[2]))), min(h, int(np.ceil(box[1] + box[3])))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    crop = image[y0:y1, x0:x1]
    gray = crop if crop.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, _PRINT_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return small - cv2.GaussianBlur(small, (0, 0), 3.0)


def print_distance(ref: np.ndarray, now: np.ndarray) -> float:
    """How much the strokes of ``now`` differ from ``ref``, relative to the strokes of ``ref``:
    near 0 for the same caption, about 1 when it is gone, more when other text replaced it."""
    energy = max(float(np.abs(ref).mean()), _MIN_ENERGY)
    return float(np.abs(now - ref).mean()) / energy


def _iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@dataclass
class _Caption:
    """One flagged caption region still believed on screen."""

    box: Box
    ref: np.ndarray  # the region as it looked when OCR read it
    hits: list[Signal]  # the keyword signals read in it (templates for the extensions)
    last: float  # latest frame where the region still matched
    reported: float  # extensions cover the caption up to here


class CaptionTracker:
    """Per-stream: extends the ``ocr.keyword`` signals of a caption while it stays on screen.

    Call :meth:`read` with every frame OCR read and the ``ocr.keyword`` signals made from it,
    :meth:`observe` with every sampled frame (in media-time order, read or not), and
    :meth:`finish` at the end of the stream; each returns the extension signals now due.

    ``tolerance`` is the :func:`print_distance` up to which the region still shows the same
    caption (0 = identical, about 1 = the caption is gone); ``max_regions`` bounds the memory on a
    stream full of captions (the oldest region is forgotten first, after reporting its seconds).
    """

    def __init__(self, extend_s: float = 2.0, tolerance: float = 0.5, max_regions: int = 32) -> None:
        if not extend_s > 0:
            raise ValueError(f"extend_s must be positive, got {extend_s}")
        if not 0 < tolerance < 1:
            raise ValueError(f"tolerance must be within 0..1 (exclusive), got {tolerance}")
        if max_regions < 1:
            raise ValueError(f"max_regions must be at least 1, got {max_regions}")
        self.extend_s = extend_s
        self.tolerance = tolerance
        self.max_regions = max_regions
        self._captions: list[_Caption] = []

    @property
    def tracked(self) -> int:
        """Caption regions currently tracked."""
        return len(self._captions)

    def read(self, frame: VideoFrame, ocr_signals: Sequence[Signal]) -> list[Signal]:
        """Remember the regions of the keyword hits OCR found in ``frame`` (call it for every frame
        OCR read, hits or none).

        A hit in a region already tracked (same term, overlapping box) continues that caption
        with the new look as reference; other hits start a new one; a tracked caption whose term
        OCR did not find again ends at its last matching frame. The hits themselves are the
        caller's to report: only later seconds come back from this tracker."""
        out: list[Signal] = []
        seen: list[_Caption] = []
        for sig in ocr_signals:
            if sig.kind != "ocr.keyword" or sig.box is None or sig.t != frame.t:
                continue
            ref = region_print(frame.image, sig.box)
            if ref is None:
                continue
            cap = self._find(sig)
            if cap is not None:
                cap.ref, cap.box = ref, sig.box
                cap.last = max(cap.last, frame.t)
                if not any(h.term == sig.term for h in cap.hits):
                    cap.hits.append(sig)
                seen.append(cap)
                continue
            same_box = next((c for c in self._captions if c.box == sig.box and c.reported == frame.t), None)
            if same_box is not None:  # another term of the line just read
                same_box.hits.append(sig)
                continue
            self._captions.append(_Caption(sig.box, ref, [sig], frame.t, frame.t))
            seen.append(self._captions[-1])
        # OCR read this frame and no longer finds a tracked caption's term: the caption is gone,
        # however similar its region still looks (OCR is the authority; the print only saves work).
        for cap in [c for c in self._captions if c.last < frame.t and not any(c is s for s in seen)]:
            out += self._flush(cap)
            self._captions.remove(cap)
        while len(self._captions) > self.max_regions:
            out += self._flush(self._captions.pop(0))
        return out

    def _find(self, sig: Signal) -> _Caption | None:
        assert sig.box is not None
        for cap in self._captions:
            if _iou(cap.box, sig.box) >= 0.5 and any(h.term == sig.term for h in cap.hits):
                return cap
        return None

    def observe(self, frame: VideoFrame) -> list[Signal]:
        """Compare every tracked region of ``frame`` with the caption read there: extend the
        captions still shown, end (and report the rest of) those that are gone."""
        out: list[Signal] = []
        kept: list[_Caption] = []
        for cap in self._captions:
            if frame.t <= cap.last:  # the frame it was read from, or one already compared
                kept.append(cap)
                continue
            now = region_print(frame.image, cap.box)
            if now is None or print_distance(cap.ref, now) > self.tolerance:
                out += self._flush(cap)  # gone: it was on screen until the last matching frame
                continue
            cap.last = frame.t
            if cap.last - cap.reported >= self.extend_s:
                out += self._flush(cap)
            kept.append(cap)
        self._captions = kept
        return sorted(out, key=lambda s: s.t)

    def finish(self) -> list[Signal]:
        """End of stream: report the seconds of every caption still on screen."""
        out = [s for cap in self._captions for s in self._flush(cap)]
        self._captions = []
        return sorted(out, key=lambda s: s.t)

    @staticmethod
    def _flush(cap: _Caption) -> list[Signal]:
        """Copies of the caption's hits spanning the seconds not yet reported."""
        if cap.last <= cap.reported:
            return []
        start, cap.reported = cap.reported, cap.last
        return [replace(h, t=start, end=cap.last) for h in cap.hits]
