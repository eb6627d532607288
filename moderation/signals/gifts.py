"""Gift events → ``tipping_abnormal`` (and ``minors``) signals: sky-high totals, bursts, tipping
on inducement, and gifts from a viewer who said they are a minor (POLICY.md: 天价打赏, 激情打赏,
诱导打赏, 未成年人打赏).

:class:`GiftTracker` keeps one room's recent gifts. Feed it gifts in (roughly) time order with
:meth:`GiftTracker.observe_gift`, and every other signal of the stream with
:meth:`GiftTracker.observe_signal` (it only keeps what it needs from ``tipping_inducement`` and
``minors`` keyword signals). Conditions and the signals they raise:

* ``gift.user_total``: a viewer's total over ``user_window_s`` above ``user_limit`` (subject: that
  viewer);
* ``gift.room_total``: the room's total over ``room_window_s`` above ``room_limit`` (subject: the
  room);
* ``gift.burst``: ``burst_count`` gifts from one viewer within ``burst_window_s`` (subject: that
  viewer) — impulsive tipping is a count, not a sum, so many cheap gifts count too;
* ``gift.after_inducement``: a viewer's gifts within ``inducement_window_s`` after an inducement
  signal reaching ``inducement_min_amount`` (subject: the streamer, whose inducement it answers;
  ``label`` names the inducement time so the pipeline can attach it to that verdict);
* ``gift.minor``: any gift from a viewer who disclosed being a minor within ``minor_memory_s``;
  raised twice, as ``minors`` and as ``tipping_abnormal``, both at score 0.95 (high severity) for
  that viewer.

While one condition lasts, a subject gets at most one signal of a kind per ``signal_every_s`` (a
whale's hundred rockets are one piece of evidence a minute, not a hundred). Memory is bounded by
the windows: old gifts are dropped as time moves on, and viewers without recent gifts forgotten.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from moderation.config import GiftsConfig
from moderation.messages import GiftEvent, Signal, Subject

__all__ = ["ABNORMAL", "MINORS", "GiftTracker"]

ABNORMAL = "tipping_abnormal"
MINORS = "minors"
INDUCEMENT = "tipping_inducement"
_MINOR_SCORE = 0.95
_SWEEP_S = 10.0  # forget idle viewers and old cues at most this often (a sweep visits every viewer)
_NO_WEIGHT = ("counter", "nominal", "ambiguous")  # mentions and unsupported hits are no cue


class _Window:
    """Gifts in a sliding window with a running sum (amortised O(1) per gift)."""

    __slots__ = ("items", "span", "total")

    def __init__(self, span: float) -> None:
        self.span = span
        self.items: deque[tuple[float, float]] = deque()
        self.total = 0.0

    def add(self, t: float, amount: float) -> None:
        self.items.append((t, amount))
        self.total += amount

    def prune(self, now: float) -> None:
        while self.items and self.items[0][0] <= now - self.span:
            self.total -= self.items.popleft()[1]
        if not self.items:
            self.total = 0.0  # no float drift survives an empty window


@dataclass
class _Viewer:
    total: _Window
    burst: _Window


def _over(total: float, limit: float) -> float:
    """Score of a total above its limit: 0.8 at the limit, 1.0 at twice it."""
    return min(1.0, 0.6 + 0.2 * total / limit)


class GiftTracker:
    """Per-room gift state; see the module docstring for what it raises."""

    def __init__(self, stream: str, cfg: GiftsConfig | None = None) -> None:
        self.stream = stream
        self.cfg = cfg or GiftsConfig()
        self._viewers: dict[str, _Viewer] = {}
        self._room = _Window(self.cfg.room_window_s)
        self._inducements: deque[tuple[float, str]] = deque()  # (t, what was said)
        self._after: dict[tuple[str, float], float] = {}  # (user, inducement t) → amount since
        self._minors: dict[str, tuple[float, str]] = {}  # user → (t of disclosure, text)
        self._emitted: dict[tuple[str, str], float] = {}  # (kind, subject id) → t
        self._now = float("-inf")
        self._swept = float("-inf")

    # ------------------------------------------------------------------ other signals
    def observe_signal(self, sig: Signal) -> list[Signal]:
        """Note an inducement (any subject: the streamer's speech, a caption, a shill's chat) or a
        viewer's minor disclosure (a ``minors`` signal carrying its ``user``). A disclosure from a
        viewer who already tipped within ``user_window_s`` raises ``gift.minor`` at once."""
        if sig.context in _NO_WEIGHT or sig.score <= 0:
            return []
        if sig.category == INDUCEMENT:
            self._inducements.append((sig.t, sig.term or sig.text or sig.kind))
        elif sig.category == MINORS and sig.user is not None:
            said = sig.text or sig.term or ""
            prev = self._minors.get(sig.user)
            if prev is None or prev[0] < sig.t:
                self._minors[sig.user] = (sig.t, said)
            v = self._viewers.get(sig.user)
            if v is not None:
                v.total.prune(max(sig.t, self._now))
                if v.total.items:
                    g = GiftEvent(self.stream, sig.t, sig.user, "", v.total.total, "", v.total.total)
                    text = f"viewer who said {said!r} tipped {v.total.total:g} in the last {self.cfg.user_window_s:g}s"
                    return self._minor(g, text)
        return []

    def _minor(self, g: GiftEvent, text: str) -> list[Signal]:
        viewer = Subject("viewer", g.user)
        out: list[Signal] = []
        for category in (MINORS, ABNORMAL):
            out += self._emit("gift.minor", g, viewer, _MINOR_SCORE, text, category=category)
        return out

    # ------------------------------------------------------------------ gifts
    def observe_gift(self, g: GiftEvent) -> list[Signal]:
        """Signals this gift completes (empty for an ordinary gift)."""
        cfg = self.cfg
        self._advance(g.t)
        v = self._viewers.get(g.user)
        if v is None:
            v = self._viewers[g.user] = _Viewer(_Window(cfg.user_window_s), _Window(cfg.burst_window_s))
        v.total.prune(g.t)
        v.burst.prune(g.t)
        v.total.add(g.t, g.amount)
        v.burst.add(g.t, g.amount)
        self._room.add(g.t, g.amount)
        viewer = Subject("viewer", g.user)
        out: list[Signal] = []
        if v.total.total > cfg.user_limit:
            out += self._emit(
                "gift.user_total",
                g,
                viewer,
                _over(v.total.total, cfg.user_limit),
                f"viewer tipped {v.total.total:g} in {cfg.user_window_s:g}s (limit {cfg.user_limit:g})",
            )
        if len(v.burst.items) >= cfg.burst_count:
            out += self._emit(
                "gift.burst",
                g,
                viewer,
                min(1.0, 0.6 + 0.2 * len(v.burst.items) / cfg.burst_count),
                f"{len(v.burst.items)} gifts ({v.burst.total:g}) in {cfg.burst_window_s:g}s",
            )
        if self._room.total > cfg.room_limit:
            out += self._emit(
                "gift.room_total",
                g,
                Subject("room", self.stream),
                _over(self._room.total, cfg.room_limit),
                f"room received {self._room.total:g} in {cfg.room_window_s:g}s (limit {cfg.room_limit:g})",
            )
        out += self._after_inducement(g)
        minor = self._minors.get(g.user)
        if minor is not None and 0 <= g.t - minor[0] <= cfg.minor_memory_s:
            text = f"gift {g.gift or '?'} ({g.amount:g}) from a viewer who said {minor[1]!r} at {minor[0]:.1f}s"
            out += self._minor(g, text)
        return out

    def _after_inducement(self, g: GiftEvent) -> list[Signal]:
        cfg = self.cfg
        out: list[Signal] = []
        for ti, said in self._inducements:
            if not 0 <= g.t - ti <= cfg.inducement_window_s:
                continue
            key = (g.user, ti)
            amount = self._after[key] = self._after.get(key, 0.0) + g.amount
            if amount >= cfg.inducement_min_amount:
                out += self._emit(
                    "gift.after_inducement",
                    g,
                    Subject("streamer", self.stream),
                    0.8,
                    f"viewer {g.user} tipped {amount:g} within {g.t - ti:.0f}s of {said!r}",
                    label=f"inducement_t={ti:.1f}",
                    key=f"{g.user}@{ti:.3f}",
                )
                break
        return out

    def _emit(
        self,
        kind: str,
        g: GiftEvent,
        subject: Subject,
        score: float,
        text: str,
        *,
        category: str = ABNORMAL,
        label: str | None = None,
        key: str | None = None,
        every: float | None = None,
    ) -> list[Signal]:
        slot = (f"{kind}/{category}", key or subject.id)
        last = self._emitted.get(slot)
        gap = self.cfg.signal_every_s if every is None else every
        if last is not None and 0 <= g.t - last < gap:
            return []
        self._emitted[slot] = g.t
        return [
            Signal(
                kind=kind,
                stream=self.stream,
                t=g.t,
                score=score,
                category=category,
                term=g.gift or None,
                text=text,
                label=label,
                user=g.user,
                subject=subject,
            )
        ]

    def _advance(self, t: float) -> None:
        """Move the clock to ``t`` (never back) and drop what every window has left behind."""
        if t <= self._now:
            return
        self._now = t
        cfg = self.cfg
        self._room.prune(t)
        if t - self._swept < _SWEEP_S:
            return
        self._swept = t
        for user in list(self._viewers):
            v = self._viewers[user]
            v.total.prune(t)
            v.burst.prune(t)
            if not v.total.items and not v.burst.items:
                del self._viewers[user]
        while self._inducements and self._inducements[0][0] < t - cfg.inducement_window_s:
            self._inducements.popleft()
        if self._after:
            live = {ti for ti, _ in self._inducements}
            self._after = {k: a for k, a in self._after.items() if k[1] in live}
        self._minors = {u: m for u, m in self._minors.items() if t - m[0] <= cfg.minor_memory_s}
        horizon = max(cfg.signal_every_s, cfg.user_window_s)
        if len(self._emitted) > 1024:
            self._emitted = {k: v for k, v in self._emitted.items() if t - v < horizon}

    @property
    def viewers(self) -> int:
        """Viewers with gifts still inside a window (what the tracker's memory grows with)."""
        return len(self._viewers)
