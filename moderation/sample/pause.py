"""Pauses in live speech, so an ASR window can end where a sentence does instead of on the clock.

A fixed 10 s window makes words spoken early in it wait for the rest of the window before Whisper
hears them: on average half a window, at worst a whole one, of alert latency for nothing. When the
audio shows that someone spoke and then stopped, the window can be cut right there. This is a
cheap energy test on 20 ms frames (numpy, in the ingest thread), not a VAD model: a pause is a run
of frames far quieter than the loudest frame of the current window. Audio that never goes quiet
(music beds, crowd noise) is simply never cut early and keeps its fixed windows, so the detector
can only shorten a window, never lose audio.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["PauseDetector"]


class PauseDetector:
    """Feed it a window's samples as they arrive; :meth:`paused` says whether speech just ended.

    ``pause_s``: the quiet run needed. ``quiet_ratio``: a frame is quiet below this fraction of
    the window's loudest frame so far. ``min_level``: the loudest frame must reach this RMS
    (about -40 dBFS) before anything counts as speech, so near-silence never triggers a cut.
    """

    def __init__(
        self,
        sample_rate: int,
        pause_s: float = 0.6,
        *,
        frame_s: float = 0.02,
        quiet_ratio: float = 0.1,
        min_level: float = 0.01,
    ) -> None:
        if pause_s <= 0:
            raise ValueError(f"pause_s must be positive, got {pause_s}")
        self.frame = max(1, round(sample_rate * frame_s))
        self.need = math.ceil(pause_s / frame_s)
        self.quiet_ratio = quiet_ratio
        self.min_level = min_level
        self.reset()

    def reset(self) -> None:
        """Start a new window: nothing heard yet."""
        self._rest = np.zeros(0, np.float32)
        self._peak = 0.0
        self._quiet_run = 0
        self._spoke = False

    def feed(self, samples: np.ndarray) -> None:
        """Add the next samples of the current window."""
        x = np.concatenate([self._rest, samples]) if self._rest.size else samples
        n = x.size // self.frame * self.frame
        self._rest = x[n:].astype(np.float32, copy=True)
        if n == 0:
            return
        frames = x[:n].reshape(-1, self.frame).astype(np.float32, copy=False)
        rms = np.sqrt(np.mean(frames * frames, axis=1))
        self._peak = max(self._peak, float(rms.max()))
        if self._peak < self.min_level:
            self._quiet_run += rms.size
            return
        quiet = rms < self.quiet_ratio * self._peak
        if quiet.all():
            self._quiet_run += rms.size
            return
        self._spoke = True
        loud = np.flatnonzero(~quiet)
        self._quiet_run = int(rms.size - 1 - loud[-1])

    def paused(self) -> bool:
        """Speech was heard in this window and the last ``pause_s`` have been quiet."""
        return self._spoke and self._quiet_run >= self.need
