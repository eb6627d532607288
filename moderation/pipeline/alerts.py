"""Which live violations were already alerted or enforced, so each is acted on once.

A live stream sees one violation through two fusers (:mod:`moderation.pipeline.stream`): a *preview*
fed with frame signals the moment the frames are done (alerts and enforcement within about a
second, without waiting for transcripts), and the authoritative fuser fed every signal in
media-time order behind the watermark (the verdicts that reach the review queue, identical to an
offline scan). The two may place the same violation a little differently — the authoritative one
can start earlier when speech came before the picture, or end later — so a violation's identity
is its category and media-time interval, and two intervals closer than the category's
``merge_gap_s`` are the same violation, not an equal ``start``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from moderation.messages import Verdict

__all__ = ["Alert", "AlertTracker", "ViolationLog", "evidence_source"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """The first moment a violation was known (open, or decided in one step)."""

    category: str
    start: float  # media time of its first evidence
    latency_s: float | None  # first evidence arrival → known; None when the arrival is unknown
    early: bool  # known by the preview (frame and chat signals), before transcripts were in
    sources: tuple[str, ...]  # where its evidence came from: "frames", "speech", "chat"

    @property
    def visual(self) -> bool:
        """Some of its evidence came from frames."""
        return "frames" in self.sources


def evidence_source(kind: str) -> str:
    """``asr.*`` → speech, ``chat.*`` → chat, anything else (image, OCR, QR, synthetic) → frames."""
    return {"asr": "speech", "chat": "chat"}.get(kind.split(".", 1)[0], "frames")


@dataclass
class _Seen:
    key: tuple[str, ...]
    start: float
    end: float


class ViolationLog:
    """Per-key media intervals already acted on; bounded, for streams that run for days."""

    def __init__(self, gap_for: Callable[[str], float], keep: int = 256) -> None:
        """``gap_for(category)``: how far apart two sightings may be and still be one violation."""
        self._gap_for = gap_for
        self._seen: deque[_Seen] = deque(maxlen=keep)

    def first(self, key: tuple[str, ...], start: float, end: float) -> bool:
        """True (and remembered) when nothing under ``key`` overlaps ``[start, end]`` within the
        gap of ``key[0]`` (the category); otherwise the known interval grows to cover it."""
        gap = self._gap_for(key[0])
        for s in self._seen:
            if s.key == key and start <= s.end + gap and end >= s.start - gap:
                s.start, s.end = min(s.start, start), max(s.end, end)
                return False
        self._seen.append(_Seen(key, start, end))
        return True

    def __len__(self) -> int:
        return len(self._seen)


class AlertTracker:
    """The first sighting of each violation of one stream: an :class:`Alert` with its detection
    latency, kept (the latest ``keep``), counted, and passed to ``listener``."""

    def __init__(
        self,
        gap_for: Callable[[str], float],
        wall_at: Callable[[float], datetime | None],
        listener: Callable[[Alert], None] | None = None,
        keep: int = 256,
    ) -> None:
        """``wall_at(t)``: when media time ``t`` arrived (the latency is measured from there)."""
        self._seen = ViolationLog(gap_for, keep)
        self._wall_at = wall_at
        self.listener = listener
        self.recent: deque[Alert] = deque(maxlen=keep)
        self.count = 0

    def see(self, v: Verdict, now: datetime, early: bool) -> Alert | None:
        """The new alert when ``v`` (open, or decided in one step) is a violation not seen before."""
        if not self._seen.first((v.category,), v.start, v.end):
            return None
        arrived = self._wall_at(v.start)
        latency = max(0.0, (now - arrived).total_seconds()) if arrived is not None else None
        sources = tuple(sorted({evidence_source(sig.kind) for sig in v.signals}))
        alert = Alert(v.category, v.start, latency, early, sources)
        self.recent.append(alert)
        self.count += 1
        if self.listener is not None:
            try:
                self.listener(alert)
            except Exception as exc:  # a listener's failure must not stop the stream
                log.warning("%s: alert listener failed: %s", v.stream, exc)
        return alert
