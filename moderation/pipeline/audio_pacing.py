"""How a live stream cuts its ASR windows: short while Whisper keeps up, long when it falls behind.

Short windows that end at speech pauses (``live.audio_window_s``, ``live.audio_pause_s``) bring a
spoken violation to Whisper seconds sooner, but every window is a full 30 s encoder pass, so they
cost more Whisper work per minute of speech. When the transcripts of a stream fall more than
``live.audio_backlog_s`` behind the end of their windows (the ASR batchers are saturated), more
windows only deepen the queue: the stream switches to ``live.audio_window_busy_s`` windows without
the pause cut, and back once transcripts are well within the backlog again. Pure logic, fed the
lag of each transcribed window; the stream applies what it returns to its ingest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from moderation.config import LiveConfig

#: (window_s, hop_s, pause_s) as the ingest takes them.
Windows = tuple[float, float | None, float]

__all__ = ["AudioPacing", "Windows"]


@dataclass
class AudioPacing:
    """Hysteresis between two window settings: ``patience`` lagging windows in a row switch to
    ``busy``; twice as many windows under half the backlog switch back to ``quick``."""

    quick: Windows
    busy: Windows
    backlog_s: float
    patience: int = 2
    busy_now: bool = False
    _streak: int = 0

    @classmethod
    def from_config(cls, live: LiveConfig) -> AudioPacing | None:
        """None when the busy window is not longer than the normal one (nothing to switch to)."""
        if live.audio_window_busy_s <= live.audio_window_s:
            return None
        overlap = live.audio_overlap_s

        def hop(window: float) -> float | None:
            return window - overlap if overlap > 0 else None

        quick = (live.audio_window_s, hop(live.audio_window_s), live.audio_pause_s)
        busy = (live.audio_window_busy_s, hop(live.audio_window_busy_s), 0.0)
        return cls(quick, busy, live.audio_backlog_s)

    def observe(self, lag_s: float) -> Windows | None:
        """The settings to switch to after a window whose transcript came ``lag_s`` after its end,
        or None to keep the current ones."""
        if not self.busy_now:
            self._streak = self._streak + 1 if lag_s > self.backlog_s else 0
            if self._streak >= self.patience:
                self.busy_now, self._streak = True, 0
                return self.busy
        else:
            self._streak = self._streak + 1 if lag_s < self.backlog_s / 2 else 0
            if self._streak >= 2 * self.patience:
                self.busy_now, self._streak = False, 0
                return self.quick
        return None

    def transcribed(
        self, window_end: datetime | None, now: datetime, apply: Callable[[float, float | None, float], None]
    ) -> None:
        """A window that ended (arrived) at ``window_end`` was transcribed at ``now``: ``apply`` the
        new settings when the lag calls for a switch (nothing when the arrival time is unknown)."""
        if window_end is None:
            return
        change = self.observe((now - window_end).total_seconds())
        if change is not None:
            apply(*change)
