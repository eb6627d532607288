"""The one gift tracker of a live stream, fed from the event loop.

Gift events come from the gift feed's thread and every other signal of the stream from the frame,
audio and chat paths; all reach the tracker on the event loop, so one thread owns it and it needs
no lock. A failure costs the one gift or signal that raised, counted with the stream's failures.
"""

from __future__ import annotations

from collections.abc import Sequence

from moderation.messages import GiftEvent, Signal
from moderation.pipeline.failures import TaskFailures
from moderation.signals.gifts import GiftTracker


class GiftHub:
    """Gift events and the stream's other signals → ``tipping_abnormal`` / ``minors`` signals."""

    def __init__(self, tracker: GiftTracker, failures: TaskFailures) -> None:
        self.tracker = tracker
        self.failures = failures

    def gifts(self, events: Sequence[GiftEvent]) -> list[Signal]:
        out: list[Signal] = []
        for g in events:
            try:
                out += self.tracker.observe_gift(g)
            except Exception as exc:  # one gift's failure costs that gift only
                self.failures.item("gift", exc)
        return out

    def signals(self, signals: Sequence[Signal]) -> list[Signal]:
        """What the tracker makes of the stream's other signals (an inducement, a viewer's minor
        disclosure after tipping); ``gift.*`` signals are its own and not fed back."""
        out: list[Signal] = []
        for s in signals:
            if s.kind.startswith("gift."):
                continue
            try:
                out += self.tracker.observe_signal(s)
            except Exception as exc:  # one signal's failure costs that signal only
                self.failures.item("gift", exc)
        return out
