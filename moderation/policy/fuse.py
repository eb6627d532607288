"""Fusion: signals of one stream → verdicts, over sliding windows (DESIGN.md §2).

Per subject (the streamer, each viewer by chat user id, the room — :func:`rules.subject_of`) and
category, a small state machine driven by media time. A viewer's chat never feeds the streamer's
state: a viewer spamming ads gets a verdict naming that viewer, and weak lines of many viewers do
not add up into a verdict against anyone.

* **score** — one evidence model for every channel. The category's signals in
  ``(t - window_s, t]`` are grouped into *observations* (:func:`rules.observation_key`): a user
  repeating a term, one caption read on many frames or twice in a line, identical frames — each is
  one observation at its best weighted score (:func:`rules.contribution`). Distinct observations
  (other terms, other channels, frames that changed) are independent evidence and combine by
  noisy-OR: one strong observation is enough on its own, weak ones corroborate, and old evidence
  falls out of the window. Keyword scores are the lexicon weight whatever channel carried the
  words, so a term opens the same verdict in chat, on screen or in speech.
* **open** — when the score reaches ``threshold``, at least one observation in the window is not an
  ambiguous keyword hit (an ambiguous term never opens a verdict alone), and, if configured,
  ``k_of_n`` holds (new observations in k of the last n bins: a still image sampled every second
  is one observation, not k), so one fluke frame cannot open a verdict.
* **grow** — while signals keep the score at or above ``close_threshold`` (hysteresis: a lower bar
  to stay open than to open) with gaps of at most ``merge_gap_s``. One continuing violation is one
  verdict that grows, not one per frame; weak signals after the last strong moment are not evidence.
* **close** — once nothing kept it alive for ``merge_gap_s``. The verdict is kept if it lasted
  ``min_duration_s``, holds ``min_signals`` signals, and no ``suppressed_by`` signal (a disclosure
  label) was seen within ``suppress_window_s`` of it. Suppressible categories wait until that
  window has passed before they are emitted, so live and offline runs decide the same way.

:class:`Fuser` is incremental for live streams: call :meth:`Fuser.add` per signal, in media-time
order, and :meth:`Fuser.advance` with a watermark (the oldest media time any stage may still
report); the live pipeline holds signals until the watermark passes them, so it feeds the fuser
exactly what an offline scan would. :func:`fuse` is the offline wrapper over a finished list.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from moderation.config import CategoryPolicy, PolicyConfig
from moderation.messages import Signal, Subject, Verdict
from moderation.policy.rules import (
    ObservationKey,
    action_for,
    contribution,
    kind_matches,
    noisy_or,
    observation_key,
    severity_for,
    subject_of,
)

__all__ = ["Fuser", "fuse", "noisy_or", "severity_for"]


@dataclass(order=True)
class _Entry:
    t: float
    weight: float = field(compare=False)
    signal: Signal = field(compare=False)
    key: ObservationKey = field(compare=False, default=())
    ambiguous: bool = field(compare=False, default=False)


def _combine(entries: list[_Entry]) -> float:
    """Noisy-OR over distinct observations, each at the best weight of its signals."""
    best: dict[ObservationKey, float] = {}
    for e in entries:
        if e.weight > best.get(e.key, -1.0):
            best[e.key] = e.weight
    return noisy_or(best.values())


@dataclass
class _Episode:
    start: float
    evidence: list[Signal]
    last_hot: float
    peak: float
    tail: list[Signal] = field(default_factory=list)

    @property
    def end(self) -> float:
        return max(s.end if s.end is not None else s.t for s in self.evidence)


@dataclass
class _State:
    policy: CategoryPolicy
    subject: Subject
    recent: list[_Entry] = field(default_factory=list)  # sorted by t, within the look-back
    episode: _Episode | None = None
    consumed_until: float = -math.inf  # evidence up to here belongs to an earlier verdict

    @property
    def lookback(self) -> float:
        k = self.policy.k_of_n
        return max(self.policy.window_s, k.n * k.bin_s if k is not None else 0.0)


def _window(st: _State, t: float) -> list[_Entry]:
    """Entries in the window ending at ``t`` (which holds ``t`` itself even where
    ``t - window_s == t`` in floating point)."""
    return [e for e in st.recent if t - st.policy.window_s < e.t <= t or e.t == t]


def _score_at(st: _State, t: float) -> float:
    """Fused score at media time ``t``: see :func:`_combine`."""
    return _combine(_window(st, t))


def _may_open(st: _State, t: float) -> bool:
    """An ambiguous keyword hit never opens a verdict alone: the window needs another observation."""
    return any(not e.ambiguous for e in _window(st, t))


def _kofn_ok(st: _State, t: float) -> bool:
    """Evidence in k of the last n bins, counting in each bin only observations not already seen in
    an earlier one: a frame identical to an earlier frame (same fingerprint) or a repeated line
    does not make a bin hot again."""
    k = st.policy.k_of_n
    if k is None:
        return True
    current = math.floor(t / k.bin_s)
    bins: dict[int, list[_Entry]] = {}
    first: dict[ObservationKey, int] = {}
    for e in st.recent:  # sorted by time: an observation belongs to the first bin it appears in
        b = math.floor(e.t / k.bin_s)
        if first.setdefault(e.key, b) != b:
            continue
        if current - k.n < b <= current:
            bins.setdefault(b, []).append(e)
    hot = sum(1 for es in bins.values() if es and _combine(es) >= k.min_score)
    return hot >= k.k


_Key = tuple[Subject, str]  # (subject, category)


class Fuser:
    """Incremental per-stream fusion. Feed signals in (roughly) media-time order."""

    def __init__(self, stream: str, policy: PolicyConfig) -> None:
        self.stream = stream
        self.policy = policy
        self._states: dict[_Key, _State] = {}
        self._ended: list[tuple[_Key, _Episode]] = []
        self._suppressors: list[Signal] = []
        self._now = -math.inf
        self._swept_at = -math.inf
        self.late_dropped = 0  # signals that came after their look-back had passed
        policies = [*policy.categories.values(), policy.default]
        self._suppress_kinds = tuple({p for c in policies for p in c.suppressed_by})
        self._longest_suppress = max((c.suppress_window_s for c in policies if c.suppressed_by), default=0.0)
        self._longest_lookback = max(_State(c, Subject("streamer", stream)).lookback for c in policies)

    def _state(self, key: _Key) -> _State:
        st = self._states.get(key)
        if st is None:
            st = self._states[key] = _State(self.policy.category(key[1]), key[0])
        return st

    # ------------------------------------------------------------------ input
    def add(self, signal: Signal) -> list[Verdict]:
        """Add one signal; returns verdicts that media time ``signal.t`` proves finished.

        Any finite time is accepted. A signal older than its category's look-back behind the
        newest time seen (a late chat message, or one so far ahead that ``t - lookback == t`` in
        floating point) cannot change any score, so it only moves the clock; a non-finite time
        is a caller's bug and raises :class:`ValueError`."""
        if not math.isfinite(signal.t) or (signal.end is not None and not math.isfinite(signal.end)):
            raise ValueError(f"signal {signal.kind} of {signal.stream}: media time must be finite, got {signal.t}")
        out = self.advance(signal.t)
        if kind_matches(signal.kind, self._suppress_kinds):
            self._suppressors.append(signal)
        if signal.category in self.policy.non_verdict_categories:
            return out
        pol = self.policy.category(signal.category)
        if not pol.enabled:
            return out
        weight = contribution(signal, pol)
        if weight is None:
            return out
        st = self._state((subject_of(signal), signal.category))
        newest = max(self._now, signal.t)
        # Below ``newest`` even where ``newest - lookback == newest`` (huge times): the newest stays.
        horizon = min(newest - st.lookback, math.nextafter(newest, -math.inf))
        if signal.t <= horizon:  # outside every window still open: it cannot count any more
            self.late_dropped += 1
            return out
        entry = _Entry(signal.t, weight, signal, observation_key(signal), signal.context == "ambiguous")
        bisect.insort(st.recent, entry)
        while st.recent[0].t <= horizon:  # stops at the signal just added, which is past the horizon
            st.recent.pop(0)
        t = signal.t
        score = _score_at(st, t)
        opens = score >= st.policy.open_threshold and _may_open(st, t)
        if st.recent[-1].t > t:  # arrived late: it may raise the score at later moments too
            for e in st.recent:
                if t < e.t < t + st.policy.window_s:
                    later = _score_at(st, e.t)
                    score = max(score, later)
                    opens = opens or (later >= st.policy.open_threshold and _may_open(st, e.t))
        ep = st.episode
        if ep is not None:
            if score >= st.policy.keep_threshold:
                ep.evidence.extend(ep.tail)
                ep.evidence.append(signal)
                ep.tail.clear()
                ep.last_hot = max(ep.last_hot, _hot_until(signal))
                ep.peak = max(ep.peak, score)
            else:
                ep.tail.append(signal)
        elif opens and _kofn_ok(st, t):
            evidence = [e.signal for e in st.recent if st.consumed_until < e.t <= t]
            if not evidence:  # a late signal, at or before the last episode's end, raised later moments
                evidence = [e.signal for e in st.recent if st.consumed_until < e.t < t + st.policy.window_s]
            if evidence:
                start = min(s.t for s in evidence)
                hot = max(t, max(_hot_until(s) for s in evidence))
                st.episode = _Episode(start=start, evidence=evidence, last_hot=hot, peak=score)
        return out

    # ------------------------------------------------------------------ time
    def advance(self, now: float) -> list[Verdict]:
        """Close what nothing can extend at media time ``now``; emit what is decided."""
        if math.isnan(now):
            raise ValueError("fusion watermark must be a number, got NaN")
        self._now = max(self._now, now)
        for key, st in self._states.items():
            ep = st.episode
            if ep is not None and now - ep.last_hot > st.policy.merge_gap_s:
                self._close(key, st)
        out: list[Verdict] = []
        waiting: list[tuple[_Key, _Episode]] = []
        for key, ep in self._ended:
            pol = self.policy.category(key[1])
            if pol.suppressed_by and now - ep.end <= pol.suppress_window_s:
                waiting.append((key, ep))
                continue
            out.extend(self._verdict(key, ep))
        self._ended = waiting
        self._prune_suppressors()
        self._sweep()
        return out

    def _sweep(self) -> None:
        """Forget idle states (no open episode, nothing left in the look-back): a long live chat
        has many viewers, and each would otherwise keep a state for the rest of the stream."""
        if self._now - self._swept_at < self._longest_lookback:
            return
        self._swept_at = self._now
        for key in [k for k, st in self._states.items() if st.episode is None]:
            st = self._states[key]
            if not st.recent or st.recent[-1].t <= self._now - st.lookback:
                del self._states[key]

    def finish(self) -> list[Verdict]:
        """Close everything (end of stream)."""
        for key, st in self._states.items():
            if st.episode is not None:
                self._close(key, st)
        out = [v for key, ep in self._ended for v in self._verdict(key, ep)]
        self._ended = []
        return out

    def _close(self, key: _Key, st: _State) -> None:
        """End ``st``'s open episode: its evidence is consumed and it waits in ``_ended`` to be decided."""
        ep = st.episode
        assert ep is not None
        st.episode = None
        st.consumed_until = ep.end
        self._ended.append((key, ep))

    def active(self) -> list[Verdict]:
        """Provisional verdicts of violations still going on (for live warn/cut before they end)."""
        out: list[Verdict] = []
        for key, st in self._states.items():
            if st.episode is not None:
                out.extend(self._verdict(key, st.episode))
        return out

    # ------------------------------------------------------------------ decisions
    def retune(self, policy: PolicyConfig) -> bool:
        """Judge by ``policy`` from now on (a running stream re-steered to a stricter profile),
        keeping every open episode and its evidence. Only thresholds, severities, actions and the
        like may change: when a category, its window, its k-of-n or its suppression differs, the
        evidence kept so far would be the wrong look-back, so nothing changes and False is returned."""

        def shape(p: PolicyConfig) -> dict[str, tuple[object, ...]]:
            cats = {**p.categories, "": p.default}
            return {k: (c.window_s, c.k_of_n, c.suppressed_by, c.suppress_window_s) for k, c in cats.items()}

        if shape(policy) != shape(self.policy) or policy.non_verdict_categories != self.policy.non_verdict_categories:
            return False
        self.policy = policy
        for (_, category), st in self._states.items():
            st.policy = policy.category(category)
        return True

    def _suppressed(self, ep: _Episode, pol: CategoryPolicy) -> bool:
        if not pol.suppressed_by:
            return False
        lo, hi = ep.start - pol.suppress_window_s, ep.end + pol.suppress_window_s
        return any(lo <= s.t <= hi and kind_matches(s.kind, pol.suppressed_by) for s in self._suppressors)

    def _prune_suppressors(self) -> None:
        if not self._suppressors:
            return
        # A future verdict may start as far back as the longest look-back; open and ended ones at
        # their start. Suppressors older than any of these minus the suppress window are useless.
        starts = [ep.start for st in self._states.values() if (ep := st.episode) is not None]
        starts += [ep.start for _, ep in self._ended]
        oldest_needed = min([*starts, self._now - self._longest_lookback]) - self._longest_suppress
        self._suppressors = [s for s in self._suppressors if s.t >= oldest_needed]

    def _verdict(self, key: _Key, ep: _Episode) -> list[Verdict]:
        subject, category = key
        pol = self.policy.category(category)
        signals = tuple(sorted(ep.evidence, key=lambda s: s.t))
        start, end = ep.start, ep.end
        if len(signals) < pol.min_signals or end - start < pol.min_duration_s or self._suppressed(ep, pol):
            return []
        severity = severity_for(ep.peak, pol)
        return [
            Verdict(
                stream=self.stream,
                category=category,
                severity=severity,
                score=ep.peak,
                start=start,
                end=end,
                signals=signals,
                action=action_for(severity, pol, subject),
                subject=subject,
            )
        ]


def fuse(stream: str, signals: Sequence[Signal], policy: PolicyConfig) -> list[Verdict]:
    """Verdicts for a finished list of signals, sorted by start time."""
    fuser = Fuser(stream, policy)
    out: list[Verdict] = []
    for signal in sorted(signals, key=lambda s: s.t):
        out.extend(fuser.add(signal))
    out.extend(fuser.finish())
    return sorted(out, key=lambda v: (v.start, v.category, _subject_order(v.subject)))


def _subject_order(subject: Subject | None) -> tuple[str, str]:
    return ("", "") if subject is None else (subject.kind, subject.id)


def _hot_until(signal: Signal) -> float:
    """Media time up to which a signal shows its evidence: its end for spans (a caption followed
    on screen, a QR code while visible, a speech segment), else its instant. An episode stays open
    for the merge gap after that, so a span reported late joins the violation it belongs to."""
    return signal.end if signal.end is not None and signal.end > signal.t else signal.t
