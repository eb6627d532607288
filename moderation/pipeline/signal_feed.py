"""Where a live stream's signals meet its fusers: :class:`SignalFeed`.

Two fusers per stream (see :mod:`moderation.pipeline.stream`): the **authoritative** one gets every
signal in media-time order, held back until the stream's watermark passes it, so live verdicts
equal offline ones; the **preview** gets frame, chat, gift and unstitched speech signals at once, to learn of
open violations early (alert, provisional review item, enforcement while open). Gift events and
every other signal also pass the stream's one :class:`~moderation.pipeline.gift_hub.GiftHub`.

Runs on the stream's event loop only, so nothing here needs a lock; every step isolates its items
(one signal that makes a fuser raise costs that signal, counted in :class:`TaskFailures`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from moderation.messages import GiftEvent, Signal, Verdict
from moderation.pipeline.alerts import AlertTracker
from moderation.pipeline.failures import TaskFailures
from moderation.pipeline.gift_hub import GiftHub
from moderation.pipeline.observe import Observers
from moderation.pipeline.outlet import VerdictOutlet
from moderation.policy.fuse import Fuser

__all__ = ["SignalFeed"]


@dataclass
class SignalFeed:
    """Signals → preview and authoritative fusers → the outlet (verdicts) and alerts (open ones)."""

    stream: str
    fuser: Fuser
    preview: Fuser
    outlet: VerdictOutlet
    alerts: AlertTracker
    failures: TaskFailures
    observed: Observers
    #: Media time every stage has reported up to (frames and transcripts), and frames only.
    watermark: Callable[[], float]
    frame_watermark: Callable[[], float]
    gift_hub: GiftHub | None = None
    #: Enforce a violation while it is still open (``live.enforcement.on_active``).
    enforce_open: bool = False
    held: list[Signal] = field(default_factory=list)

    def early(self, signals: Sequence[Signal]) -> None:
        """Signals → the preview fuser at once: alerts and enforcement of open violations."""
        seen: list[Verdict] = []
        for s in sorted(signals, key=lambda s: s.t):
            try:
                seen += self.preview.add(s)
            except Exception as exc:  # one signal's failure costs that signal only
                self.failures.item("preview", exc)
        try:
            seen += self.preview.advance(self.frame_watermark())
            seen += self.preview.active()
        except Exception as exc:
            self.failures.item("preview", exc)
        self._open(seen, early=True, new=signals)

    def feed(self, signals: Sequence[Signal], final: bool = False) -> None:
        """Signals for the authoritative fuser (held until the watermark passes them)."""
        self.held.extend(signals)
        if self.gift_hub is not None:
            self.held.extend(self.gift_hub.signals(list(signals)))
        self.release(final)

    def both(self, signals: Sequence[Signal]) -> None:
        """Signals that arrive whole and in time (a frame batch's, chat's): preview, then held."""
        self.early(signals)
        self.feed(signals)

    def gifts(self, events: list[GiftEvent]) -> None:
        """Gift events → the gift hub's ``gift.*`` signals → both fusers."""
        signals = self.gift_hub.gifts(events) if self.gift_hub is not None else []
        if signals:
            self.early(signals)
            self.held.extend(signals)
            self.release()

    def tick(self) -> None:
        """Advance both fusers with time even when no signal comes (verdicts close)."""
        self.early([])
        self.release()

    def release(self, final: bool = False) -> None:
        """Give the fuser every held signal up to the watermark, in media-time order."""
        wm = math.inf if final else self.watermark()
        ready = sorted((s for s in self.held if s.t <= wm), key=lambda s: s.t)
        self.held = [s for s in self.held if s.t > wm]
        if ready:
            self.observed.on_signals(self.stream, ready)
        for s in ready:
            try:
                self.outlet.emit(self.fuser.add(s))
            except Exception as exc:  # one signal's failure costs that signal only
                self.failures.item("fusion", exc)
        try:
            if not final:
                self.outlet.emit(self.fuser.advance(wm))
            active = self.fuser.active()
        except Exception as exc:
            self.failures.item("fusion", exc)
            active = []
        self._open(active, early=False, new=ready)
        if not final:
            self.outlet.settle(wm)  # live items the full analysis passed without a verdict

    def finish(self, rest: Sequence[Signal]) -> None:
        """The stream ended: everything held (and ``rest``) goes in, open verdicts close."""
        self.feed(rest, final=True)
        try:
            self.outlet.emit(self.fuser.finish())
        except Exception as exc:
            self.failures.item("fusion", exc)
        self.outlet.finish_open()

    def _open(self, verdicts: list[Verdict], early: bool, new: Sequence[Signal]) -> None:
        """Violations known to be going on: alert (once each) and enforce while open. ``new``: the
        signals just fused, of which the alert's evidence that made it known is one."""
        now = datetime.now(UTC)
        for v in verdicts:
            try:
                self.alerts.see(v, now, early, new)  # first time a violation is known: observers hear of it
                self.outlet.opened(v)  # first time: a provisional record for the review queue
                if self.enforce_open:  # a violation may grow from review to cut while open
                    self.outlet.maybe_enforce(v)
            except Exception as exc:
                self.failures.item("alert", exc)
