"""Loop / replay detection: footage replayed in a loop and passed off as live (POLICY.md).

Each sampled frame gets a perceptual hash (pHash: DCT of a downscaled grey image, robust to
re-encoding and small scaling). A frame *replays* an earlier one when their hashes are within
``match_bits`` and the picture went somewhere else in between (some frame between them is far from
both), which tells a replay from a scene that simply did not change. A loop is confirmed when, over
the last ``confirm_s`` seconds, most frames replay at one consistent lag (or a multiple of it, when
sampling phase drifts) *and* those frames show at least ``min_distinct``
different pictures, so a static slide or a still camera never counts as a loop.

While a loop lasts, one ``synthetic.loop`` signal is emitted per ``signal_every_s`` with ``t`` and
``end`` covering the span, so fusion sees a continuing violation, not one signal per frame.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from moderation.config import LoopConfig
from moderation.messages import Signal


def _dct_scale(n: int) -> np.ndarray:
    """Per-coefficient factors turning OpenCV's orthonormal DCT-II into SciPy's unnormalised one."""
    f = np.full(n, np.sqrt(2.0 * n), dtype=np.float32)
    f[0] = np.sqrt(4.0 * n)
    return np.outer(f, f)


def frame_hash(image: np.ndarray, hash_size: int = 8) -> np.ndarray:
    """pHash bits (bool, ``hash_size**2``) of a BGR or grey frame.

    The same construction as ``imagehash.phash`` (a ``4 * hash_size`` square grey thumbnail, its
    2-D DCT-II, the low-frequency ``hash_size`` square compared with its median), computed in
    OpenCV: shrinking by a power of two first takes OpenCV's integer-factor area path, and the
    whole hash costs under a millisecond on a 720p frame, where going through Pillow and SciPy cost
    3-6 ms (it runs on every sampled frame of every stream). The thumbnail is an area average
    rather than Pillow's Lanczos, so a bit may differ from ``imagehash``'s; the tests hold the two
    within a few bits of each other.
    """
    side = hash_size * 4
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape[:2]
    k = 1
    while min(h, w) // (2 * k) >= 2 * side and h % (2 * k) == 0 and w % (2 * k) == 0:
        k *= 2
    if k > 1:
        grey = cv2.resize(grey, (w // k, h // k), interpolation=cv2.INTER_AREA)
    small = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = (cv2.dct(small) * _dct_scale(side))[:hash_size, :hash_size]
    return np.asarray(low > np.median(low), dtype=bool).reshape(-1)


@dataclass(frozen=True)
class _Obs:
    t: float
    bits: np.ndarray
    lag: float | None  # lag of the replayed frame, None = not a replay


def _distinct(hashes: list[np.ndarray], min_bits: int) -> int:
    """Greedy count of pictures more than ``min_bits`` apart from every one counted before."""
    reps: list[np.ndarray] = []
    for h in hashes:
        if all(int(np.count_nonzero(h != r)) > min_bits for r in reps):
            reps.append(h)
    return len(reps)


def _agrees(lag: float, ref: float, tol: float) -> bool:
    """Same lag, or a whole multiple of it (a repeat two periods back)."""
    k = max(1, round(lag / ref))
    return abs(lag - k * ref) <= tol * k


class LoopDetector:
    """Per-stream loop state. Feed sampled frames in time order with :meth:`observe`."""

    def __init__(self, stream: str, cfg: LoopConfig, category: str = "synthetic_unlabeled") -> None:
        self.stream = stream
        self.cfg = cfg
        self.category = category
        self._history: deque[_Obs] = deque()
        self._run_start: float | None = None  # media time the current loop was first seen
        self._emitted_to: float | None = None  # end of the last signal of this run
        self._last_confirmed: float | None = None
        self._lag = 0.0
        self._score = 0.0

    # ------------------------------------------------------------------ matching
    def _replay_lag(self, t: float, bits: np.ndarray) -> float | None:
        """Smallest lag at which ``bits`` replays an earlier frame, or None."""
        old = [o for o in self._history if o.t <= t - self.cfg.min_lag_s]
        if not old:
            return None
        hist = np.stack([o.bits for o in self._history])
        dist = np.count_nonzero(hist != bits[None, :], axis=1)
        away = 2 * self.cfg.match_bits
        # went_away[i]: some frame after i (up to now) is far from the current picture
        after = np.concatenate([np.maximum.accumulate(dist[::-1])[::-1][1:], [0]])
        for i in range(len(old) - 1, -1, -1):
            if dist[i] <= self.cfg.match_bits and after[i] > away:
                return t - old[i].t
        return None

    def _confirmed(self, t: float) -> tuple[float, float, float] | None:
        """(run start, lag, matched share) when the recent frames replay consistently."""
        recent = [o for o in self._history if o.t > t - self.cfg.confirm_s]
        if len(recent) < max(3, self.cfg.min_distinct):
            return None
        lags = [o.lag for o in recent if o.lag is not None]
        if len(lags) < self.cfg.min_matched * len(recent):
            return None
        tol = self.cfg.lag_tolerance_s
        support = {x: sum(_agrees(y, x, tol) for y in lags) for x in lags}
        best = max(support.values())
        ref = min(x for x, n in support.items() if n == best)  # the period, not a multiple of it
        agreeing = [o for o in recent if o.lag is not None and _agrees(o.lag, ref, tol)]
        share = len(agreeing) / len(recent)
        if share < self.cfg.min_matched:
            return None
        if _distinct([o.bits for o in agreeing], self.cfg.match_bits) < self.cfg.min_distinct:
            return None
        return agreeing[0].t, ref, share

    # ------------------------------------------------------------------ stream
    def observe(self, t: float, image: np.ndarray) -> list[Signal]:
        """Hash one sampled frame at media time ``t``; signals for loop spans now known."""
        bits = frame_hash(image, self.cfg.hash_size)
        lag = self._replay_lag(t, bits)
        self._history.append(_Obs(t, bits, lag))
        while self._history and self._history[0].t < t - self.cfg.history_s:
            self._history.popleft()
        found = self._confirmed(t)
        out: list[Signal] = []
        if found is not None:
            start, self._lag, self._score = found
            if self._run_start is None:
                self._run_start = start
                self._emitted_to = None
            self._last_confirmed = t
            since = self._emitted_to if self._emitted_to is not None else self._run_start
            if self._emitted_to is None or t - since >= self.cfg.signal_every_s:
                out.append(self._signal(since, t))
        elif self._run_start is not None:
            out.extend(self.flush())
        return out

    def flush(self) -> list[Signal]:
        """End the current loop run (stream end or loop gone); emits its not yet reported tail."""
        out: list[Signal] = []
        last = self._last_confirmed
        since = self._emitted_to
        if self._run_start is not None and last is not None and since is not None and last > since:
            out.append(self._signal(since, last))
        self._run_start = self._emitted_to = self._last_confirmed = None
        return out

    def _signal(self, start: float, end: float) -> Signal:
        self._emitted_to = end
        return Signal(
            kind="synthetic.loop",
            stream=self.stream,
            t=start,
            end=end,
            score=self._score,
            category=self.category,
            text=f"footage replays what was shown {self._lag:.1f}s earlier",
            label=f"lag={self._lag:.1f}s",
        )
