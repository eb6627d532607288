"""Accumulate resampled audio chunks into fixed windows with media start times.

The resampler hands out chunks of arbitrary length (one per decoded packet); Whisper wants
windows of up to 30 s. The windower is pure numpy so its bookkeeping (start times, overlap,
the partial last window, gaps) is tested without media.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moderation.sample.pause import PauseDetector

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Window:
    """A finished window: media start time (s) and float32 mono samples."""

    start: float
    samples: np.ndarray


class AudioWindower:
    """Cut a stream of chunks into windows of ``window_s`` seconds every ``hop_s`` seconds.

    ``hop_s`` defaults to ``window_s`` (back-to-back windows); a smaller hop gives overlapping
    windows so a phrase cut at a boundary is still heard whole in the next window.

    Each chunk may carry the media time of its first sample. The first such time anchors the
    windows (so a stream whose audio starts at 0.4 s gets a first window at 0.4 s, not 0.0).
    When a later chunk's time is ahead of the running sample count, samples were lost (a corrupt
    packet was skipped, a live stream dropped audio): a short hole (up to ``gap_tolerance_s``) is
    filled with silence so later speech keeps its true time; a longer one, or a clock that went
    backwards by more than that, emits the pending partial window and starts a new run at the new
    time. Either way times never drift silently. Jitter under ``pad_min_s`` is ignored.

    With a :class:`~moderation.sample.pause.PauseDetector` (live streams), a window is also cut
    early, once it holds at least ``min_window_s`` and speech in it has just paused; the next
    window still overlaps it by ``window_s - hop_s``. Words are then transcribed a pause after
    they are said, not when the clock fills the window.

    A partial window whose new samples are fewer than ``min_tail_s`` is not emitted: AAC pads
    its last frame, so a file of exactly 60 s decodes to 60.01 s, and a 10 ms window would cost
    a Whisper call for nothing.
    """

    def __init__(
        self,
        window_s: float = 30.0,
        hop_s: float | None = None,
        sample_rate: int = SAMPLE_RATE,
        gap_tolerance_s: float = 0.5,
        min_tail_s: float = 0.0,
        pad_min_s: float = 0.01,
        pause: PauseDetector | None = None,
        min_window_s: float = 3.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.gap_tolerance = round(gap_tolerance_s * sample_rate)
        self.min_tail = round(min_tail_s * sample_rate)
        self.pad_min = max(1, round(pad_min_s * sample_rate))
        self.pause = pause
        self.min_window_s = min_window_s
        self.retime(window_s, hop_s)
        self._chunks: list[np.ndarray] = []
        self._buffered = 0
        # Media time of the run's first sample plus an integer sample offset to the buffer start:
        # adding hop/sample_rate to a float for hours of stream would drift; integers do not.
        self._anchor: float | None = None
        self._offset = 0
        # Samples of the buffer already sent out in an earlier window (overlap with hop < window).
        self._emitted_in_buf = 0

    def retime(self, window_s: float, hop_s: float | None = None) -> None:
        """Cut windows of ``window_s`` every ``hop_s`` from the next one on (what is buffered stays)."""
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, got {window_s}")
        hop = window_s if hop_s is None else hop_s
        if not 0 < hop <= window_s:
            raise ValueError(f"hop_s must be in (0, window_s], got {hop_s}")
        self.window = max(1, round(window_s * self.sample_rate))
        self.hop = max(1, round(hop * self.sample_rate))
        self.overlap = self.window - self.hop
        # an early window must hold at least a second of audio no earlier window sent
        self.min_window = max(round(self.min_window_s * self.sample_rate), self.overlap + self.sample_rate)

    @property
    def expected_time(self) -> float | None:
        """Media time the next pushed sample should have, if anchored."""
        if self._anchor is None:
            return None
        return self._anchor + (self._offset + self._buffered) / self.sample_rate

    def push(self, samples: np.ndarray, t: float | None = None) -> list[Window]:
        """Add a chunk (1-D float32) starting at media time ``t`` (or continuing); return full windows."""
        chunk = np.asarray(samples, dtype=np.float32).reshape(-1)
        out: list[Window] = []
        if t is not None:
            expected = self.expected_time
            if expected is None:
                self._anchor, self._offset = t, 0
            else:
                gap = round((t - expected) * self.sample_rate)
                if abs(gap) > self.gap_tolerance:
                    out.extend(self.flush())
                    self._anchor, self._offset = t, 0
                elif gap >= self.pad_min:
                    out.extend(self._append(np.zeros(gap, np.float32)))
        elif self._anchor is None:
            self._anchor, self._offset = 0.0, 0
        out.extend(self._append(chunk))
        return out

    def _append(self, chunk: np.ndarray) -> list[Window]:
        out: list[Window] = []
        if chunk.size == 0:
            return out
        self._chunks.append(chunk)
        self._buffered += chunk.size
        if self.pause is not None:
            self.pause.feed(chunk)
        while self._buffered >= self.window:
            out.append(self._emit(self.window))
            self._drop(self.hop)
            if self.pause is not None:
                self.pause.reset()
        if self.pause is not None and self._buffered >= self.min_window and self.pause.paused():
            # speech just ended: send what was said now instead of waiting for the window to fill
            n = self._buffered
            out.append(self._emit(n))
            self._drop(n - self.overlap)
            self.pause.reset()
        return out

    def flush(self) -> list[Window]:
        """Emit the partial last window (if it holds samples not sent yet) and reset."""
        out: list[Window] = []
        if self._buffered - self._emitted_in_buf > max(0, self.min_tail - 1):
            out.append(self._emit(self._buffered))
        self._chunks = []
        self._buffered = 0
        self._anchor = None
        self._offset = 0
        self._emitted_in_buf = 0
        if self.pause is not None:
            self.pause.reset()
        return out

    def _joined(self) -> np.ndarray:
        if len(self._chunks) != 1:
            self._chunks = [np.concatenate(self._chunks)] if self._chunks else []
        return self._chunks[0] if self._chunks else np.zeros(0, np.float32)

    def _emit(self, n: int) -> Window:
        buf = self._joined()
        assert self._anchor is not None
        self._emitted_in_buf = max(self._emitted_in_buf, n)
        start = self._anchor + self._offset / self.sample_rate
        return Window(start=start, samples=buf[:n].copy())

    def _drop(self, n: int) -> None:
        buf = self._joined()
        n = min(n, buf.size)
        self._chunks = [buf[n:]]
        self._buffered -= n
        self._offset += n
        self._emitted_in_buf = max(0, self._emitted_in_buf - n)
