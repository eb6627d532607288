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

import hashlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from moderation.messages import Signal, Subject, Verdict

__all__ = ["Alert", "AlertTracker", "ViolationIds", "ViolationLog", "evidence_source"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """The first moment a violation was known (open, or decided in one step)."""

    category: str
    start: float  # media time of its first evidence
    #: The evidence that made it known was complete (arrived) → known; None when the arrival is
    #: unknown. That evidence is the earliest of the violation's signals that came in the feed that
    #: opened it (a frame batch, a window's transcript, a chat line): the violation could not be known
    #: before it arrived. For speech its completion is the end of the offending words
    #: (:attr:`Signal.words_end`), the moment they had been said; for a frame or a chat message, its
    #: own arrival.
    latency_s: float | None
    early: bool  # known by the preview (frame and chat signals), before transcripts were in
    sources: tuple[str, ...]  # where its evidence came from: "frames", "speech", "chat"
    #: where its first evidence (at ``start``) came from
    first: str = "frames"
    #: The first evidence's start (the first offending word's, for speech) arrived → known: longer
    #: than ``latency_s`` by the time the words took to say. None when the arrival is unknown.
    from_start_s: float | None = None
    #: where the evidence that made it known came from: a caption that tips a violation whose first
    #: evidence was a weak word said ten seconds earlier is a visual alert, timed from the caption
    trigger: str = "frames"
    #: The first evidence was complete → known (for speech, from the end of its words), whatever
    #: made it known: the wait for the first sign, weak or not. None when the arrival is unknown.
    from_first_s: float | None = None

    @property
    def visual(self) -> bool:
        """The evidence that made it known came from frames, so ``latency_s`` is a frame's. A
        violation first heard in speech and confirmed by a caption is a visual alert when the
        caption tipped it; one first seen and tipped by a transcript is a speech alert."""
        return self.trigger == "frames"


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


@dataclass
class _Violation:
    key: tuple[str, str, str]  # category, subject kind, subject id
    start: float
    end: float
    id: str
    closed: bool = False
    unconfirmed: bool = False  # the authoritative fuser passed it without a verdict


class ViolationIds:
    """A stable id for each live violation of one stream, shared by its provisional record (written
    when it is first seen open) and its final verdict, so the review queue updates one item.

    Sightings are matched as :class:`ViolationLog` does (category and interval within the merge
    gap), and also by subject: a viewer's chat spam and the streamer's speech in the same category
    and second are two violations, two review items. A final verdict *closes* the id it takes; a
    second final verdict over the same interval (the authoritative fuser split what the preview saw
    as one) gets a fresh id, so no final verdict ever overwrites another. Bounded like the log.
    """

    def __init__(self, gap_for: Callable[[str], float], keep: int = 256) -> None:
        self._gap_for = gap_for
        self._seen: deque[_Violation] = deque(maxlen=keep)

    @staticmethod
    def _key(v: Verdict) -> tuple[str, str, str]:
        subject = v.subject or Subject("streamer", v.stream)
        return (v.category, subject.kind, subject.id)

    def _matches(self, key: tuple[str, str, str], start: float, end: float) -> list[_Violation]:
        gap = self._gap_for(key[0])
        return [s for s in self._seen if s.key == key and start <= s.end + gap and end >= s.start - gap]

    def _new(self, key: tuple[str, str, str], v: Verdict, closed: bool) -> _Violation:
        base = f"{v.category}@{round(v.start * 1000)}"
        if key[1] != "streamer":  # ids stay short whatever the subject's id is
            base += f"/{key[1]}-{hashlib.sha256(key[2].encode()).hexdigest()[:12]}"
        taken = {s.id for s in self._seen}
        vid, n = base, 1
        while vid in taken:
            n += 1
            vid = f"{base}#{n}"
        seen = _Violation(key, v.start, v.end, vid, closed)
        self._seen.append(seen)
        return seen

    def open(self, v: Verdict) -> tuple[str, bool]:
        """The id of the open violation ``v`` is part of, and whether it was new (not seen before,
        open or closed): only a new one gets a provisional record."""
        key = self._key(v)
        for s in self._matches(key, v.start, v.end):
            s.start, s.end = min(s.start, v.start), max(s.end, v.end)
            s.unconfirmed = False  # seen going on again
            return s.id, False
        return self._new(key, v, closed=False).id, True

    def close(self, v: Verdict) -> str:
        """The id the final verdict ``v`` carries: that of the open violation it ends, else a new one."""
        key = self._key(v)
        for s in self._matches(key, v.start, v.end):
            if not s.closed:
                s.start, s.end, s.closed = min(s.start, v.start), max(s.end, v.end), True
                return s.id
        return self._new(key, v, closed=True).id

    def settle(self, watermark: float, after: Callable[[str], float]) -> list[str]:
        """Ids of open violations the authoritative fuser has passed without a verdict: their end
        plus ``after(category)`` (its merge gap and fusion window: how long evidence may still
        gather) lies behind ``watermark``. Each is returned once; a later final verdict still
        takes its id (the review item is then confirmed in place)."""
        out = []
        for s in self._seen:
            if not s.closed and not s.unconfirmed and s.end + after(s.key[0]) < watermark:
                s.unconfirmed = True
                out.append(s.id)
        return out

    def is_closed(self, vid: str) -> bool:
        """Whether the violation ``vid`` has its final verdict (or is no longer remembered)."""
        return not any(s.id == vid and not s.closed for s in self._seen)

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

    def _since(self, t: float, now: datetime) -> float | None:
        """Seconds from the arrival of media time ``t`` to ``now``; None when it is unknown."""
        arrived = self._wall_at(t)
        return max(0.0, (now - arrived).total_seconds()) if arrived is not None else None

    def see(self, v: Verdict, now: datetime, early: bool, new: Sequence[Signal] | None = None) -> Alert | None:
        """The new alert when ``v`` (open, or decided in one step) is a violation not seen before.

        ``new``: the signals of the feed that is being fused (None when unknown). The earliest of
        ``v``'s signals among them made it known; when none is (time alone opened it: a window
        filled, a duration was reached), its latest signal completed the evidence; when ``new`` is
        None, its first signal is taken, as nothing says otherwise."""
        if not self._seen.first((v.category,), v.start, v.end):
            return None
        earliest = min(v.signals, key=lambda sig: sig.t) if v.signals else None
        tipping = _trigger(v, new) if new is not None else earliest
        sources = tuple(sorted({evidence_source(sig.kind) for sig in v.signals}))
        alert = Alert(
            v.category,
            v.start,
            self._since(_said(tipping, v.start), now),
            early,
            sources,
            evidence_source(earliest.kind) if earliest is not None else "frames",
            from_start_s=self._since(v.start, now),
            trigger=evidence_source(tipping.kind) if tipping is not None else "frames",
            from_first_s=self._since(_said(earliest, v.start), now),
        )
        self.recent.append(alert)
        self.count += 1
        if self.listener is not None:
            try:
                self.listener(alert)
            except Exception as exc:  # a listener's failure must not stop the stream
                log.warning("%s: alert listener failed: %s", v.stream, exc)
        return alert


def _said(sig: Signal | None, start: float) -> float:
    """When ``sig`` was complete: the end of its words for speech, else its own time (never before
    the violation's ``start``)."""
    if sig is None:
        return start
    return max(start, sig.words_end if sig.words_end is not None else sig.t)


def _trigger(v: Verdict, new: Sequence[Signal]) -> Signal | None:
    """The signal that made ``v`` known: the earliest of its signals in ``new``, else its latest."""
    if not v.signals:
        return None
    fed = set(new)  # signals are frozen: one hash each instead of comparing every pair
    fresh = [s for s in v.signals if s in fed]
    if fresh:
        return min(fresh, key=lambda s: s.t)
    return max(v.signals, key=lambda s: _said(s, v.start))
