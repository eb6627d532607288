"""Which decoded frames are worth converting: fps sampling on the media timeline.

Decoding is the CPU bottleneck (DESIGN.md §7), and the costly part after decoding is the pixel
conversion (YUV → BGR, rescale). The sampler is consulted *before* that conversion, so an
unsampled frame costs only its decode. It is pure logic on timestamps, so it is tested without
any media and shared by file scans and live streams.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import cv2
import numpy as np

# Timestamps come from integer pts times a rational time base; float rounding may put a frame
# meant for t=2.0 at 1.9999999. Slots are computed with this slack so such a frame still counts
# as the start of slot 2 rather than the tail of slot 1.
_EPS = 1e-6


class FpsSampler:
    """Take the first frame at or after each ``1/fps`` grid point of the media timeline.

    Slot ``k`` covers ``[k/fps, (k+1)/fps)``; the first frame seen in a slot is taken and later
    frames in the same slot are skipped. On a 25 fps source at ``fps=1`` this takes exactly the
    frames at t = 0, 1, 2, ...; a source slower than ``fps`` has every frame taken. The grid is
    anchored to the media timeline (not to the first frame), so two decoders of the same stream
    take the same timestamps, which keeps verdicts reproducible across a rescan.

    A timestamp that jumps backwards by more than ``reset_after_s`` (a live stream restarted
    its clock) resets the sampler instead of starving it until the clock catches up.
    """

    def __init__(self, fps: float, reset_after_s: float = 2.0) -> None:
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"sampling fps must be a positive number, got {fps!r}")
        self.fps = float(fps)
        self.reset_after_s = reset_after_s
        self._last_slot: int | None = None
        self._last_t: float | None = None

    def slot(self, t: float) -> int:
        """Index of the sampling slot a timestamp falls into."""
        return math.floor(t * self.fps + _EPS)

    def take(self, t: float) -> bool:
        """Decide whether the frame at ``t`` (seconds) is sampled, and record it if so."""
        if self._last_t is not None and t < self._last_t - self.reset_after_s:
            self.reset()
        self._last_t = t
        k = self.slot(t)
        if self._last_slot is not None and k <= self._last_slot:
            return False
        self._last_slot = k
        return True

    def next_due(self) -> float:
        """Earliest timestamp that would be taken next (start of the next slot)."""
        if self._last_slot is None:
            return -math.inf
        return (self._last_slot + 1) / self.fps

    def reset(self) -> None:
        """Forget history (after a seek, reconnect or clock reset)."""
        self._last_slot = None
        self._last_t = None

    def retime(self, fps: float) -> None:
        """Sample at ``fps`` from now on (a running stream re-steered). The slot already taken is
        re-expressed at the new rate, so a lower rate does not wait for the old slot numbers."""
        if not (fps > 0 and math.isfinite(fps)):
            raise ValueError(f"sampling fps must be a positive number, got {fps!r}")
        last_t = self._last_t
        self.fps = float(fps)
        if self._last_slot is not None and last_t is not None:
            self._last_slot = self.slot(last_t)


@dataclass(frozen=True)
class ScaledSize:
    """Output size of a downscaled frame."""

    width: int
    height: int


def scaled_size(width: int, height: int, max_side: int) -> ScaledSize:
    """Size with the longer side at most ``max_side``, aspect kept, never upscaled.

    Dimensions are kept even because several swscale paths (and the encoders a thumbnail or
    clip may later go through) handle odd chroma sizes poorly; a one-pixel loss is harmless.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"invalid frame size {width}x{height}")
    if max_side <= 0:
        raise ValueError(f"max_side must be positive, got {max_side}")
    longer = max(width, height)
    if longer <= max_side:
        return ScaledSize(width, height)
    scale = max_side / longer
    w = max(2, round(width * scale) // 2 * 2)
    h = max(2, round(height * scale) // 2 * 2)
    return ScaledSize(w, h)


class GopSkip:
    """Stops decoding a GOP once the rest of it cannot hold a sample.

    P-frames can only be decoded in order from their keyframe, but once the sampler has taken the
    last frame it needs before the next keyframe, the rest of the GOP is decoded for nothing: at
    1 fps with a 2 s GOP that is half of every GOP, and with a 1 s GOP all of it but the keyframe.
    When the keyframe interval has been regular (``regular_within`` relative spread over the last
    ``intervals`` intervals), the next keyframe is predicted; if it comes no later than half a
    sampling period after the next due sample, the packets until that keyframe are not decoded and
    the keyframe is sampled instead. Streams with irregular keyframes (scene-cut keyframes,
    keyframes seconds apart) are decoded as before. A late keyframe can delay one sample by at most
    the lateness; it never stops sampling, since every keyframe is decoded.

    Pure logic on packet times, shared by file scans and live streams, so both decode alike.
    """

    def __init__(self, sampler: FpsSampler, *, intervals: int = 3, regular_within: float = 0.15) -> None:
        self.sampler = sampler
        self.intervals = intervals
        self.regular_within = regular_within
        self._keys: list[float] = []
        self._skipping = False
        self.skipped = 0  # packets not decoded

    def interval(self) -> float | None:
        """The keyframe interval when the recent ones agree, else None."""
        k = self._keys
        if len(k) < self.intervals + 1:
            return None
        gaps = [b - a for a, b in pairwise(k)]
        lo, hi = min(gaps), max(gaps)
        if lo <= 0 or hi - lo > self.regular_within * hi:
            return None
        return hi

    def decode(self, t: float | None, keyframe: bool) -> bool:
        """Whether to decode the video packet at media time ``t`` (None: unknown, always decoded)."""
        if keyframe:
            self._skipping = False
            if t is not None:
                if self._keys and t <= self._keys[-1]:
                    self._keys.clear()  # clock went back (reconnect, restart): learn afresh
                self._keys.append(t)
                del self._keys[: -(self.intervals + 1)]
            return True
        if t is None:
            return True
        if self._skipping:
            self.skipped += 1
        return not self._skipping

    def sampled(self) -> None:
        """Call after the sampler took a frame: decide whether the rest of this GOP is needed."""
        gop = self.interval()
        if gop is None or not self._keys:
            return
        due = self.sampler.next_due()
        self._skipping = self._keys[-1] + gop <= due + 0.5 / self.sampler.fps


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` downscaled to ``width`` x ``height``, close to an area average at a fraction of its cost.

    OpenCV's area interpolation is fast only for whole-number factors; 1280x720 → 480x270 (a factor
    of 2.67) costs ~3.5 ms of CPU, on every sampled frame of every stream. Halving with area
    averaging while the image is at least twice the target, then one bilinear step of less than 2x
    (where bilinear cannot alias), gives nearly the same pixels for ~0.4 ms.
    """
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    while w >= 2 * width and h >= 2 * height and w % 2 == 0 and h % 2 == 0:
        w, h = w // 2, h // 2
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    if (w, h) == (width, height):
        return image
    interp = cv2.INTER_LINEAR if w < 2 * width and h < 2 * height else cv2.INTER_AREA
    return cv2.resize(image, (width, height), interpolation=interp)


class GrayFrames:
    """Grey copies (OpenCV's BGR → grey) of one batch of sampled frames, each made once and shared.

    The OCR gate, the QR search and the loop hash all start from the grey frame; at 720p one
    conversion costs about half a millisecond, and converting once per stage cost about as much,
    per sampled frame of every stream, as the loop hash itself. Whichever stage needs a frame's grey
    copy first makes it; the object lives as long as the batch is being analysed, so the copies
    are not kept with frames held for thumbnails. Stages that use it run one after the other or
    on different frames' copies, and a lost race would only convert a frame twice.
    """

    def __init__(self) -> None:
        self._gray: dict[int, np.ndarray] = {}

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """The grey copy of ``image`` (BGR ``(H, W, 3)``; a grey image is returned as it is).

        Keyed by the array's identity: every frame of a batch is alive while the batch is analysed.
        """
        if image.ndim == 2:
            return image
        key = id(image)
        gray = self._gray.get(key)
        if gray is None:
            gray = self._gray[key] = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        return gray
