"""Fusion: signals of one stream → verdicts.

Signals of the same category that follow each other within ``merge_gap_s`` form one group; a
group becomes a verdict when its fused score reaches the category threshold and it holds at
least ``min_signals`` signals. One continuing violation is therefore one verdict that grows, not
one per frame.

The fused score is a noisy-OR of the signal scores: independent pieces of evidence raise the
confidence, and a single strong signal is enough on its own.

:class:`Fuser` is incremental so a live stream can close verdicts as media time advances;
:func:`fuse` is the offline convenience over a finished list of signals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from moderation.config import CategoryPolicy, PolicyConfig
from moderation.messages import Signal, Verdict

#: Categories whose signals are used for suppression, never turned into verdicts themselves.
NON_VERDICT_CATEGORIES = frozenset({"disclosure"})


def noisy_or(scores: Iterable[float]) -> float:
    remaining = 1.0
    for s in scores:
        remaining *= 1.0 - min(max(s, 0.0), 1.0)
    return 1.0 - remaining


def severity_for(score: float, policy: CategoryPolicy) -> str:
    if score >= policy.high_score:
        return "high"
    if score >= (policy.threshold + policy.high_score) / 2:
        return "medium"
    return "low"


@dataclass
class _Group:
    signals: list[Signal] = field(default_factory=list)

    @property
    def start(self) -> float:
        return min(s.t for s in self.signals)

    @property
    def end(self) -> float:
        return max(s.end if s.end is not None else s.t for s in self.signals)


class Fuser:
    """Incremental per-stream fusion. Feed signals in (roughly) media-time order."""

    def __init__(self, stream: str, policy: PolicyConfig) -> None:
        self.stream = stream
        self.policy = policy
        self._open: dict[str, _Group] = {}

    def _policy(self, category: str) -> CategoryPolicy:
        return self.policy.categories.get(category) or CategoryPolicy()

    def add(self, signal: Signal) -> list[Verdict]:
        """Add one signal; returns verdicts of groups this signal proves closed."""
        if signal.category in NON_VERDICT_CATEGORIES:
            return []
        pol = self._policy(signal.category)
        group = self._open.get(signal.category)
        closed: list[Verdict] = []
        if group is not None and signal.t - group.end > pol.merge_gap_s:
            closed.extend(self._close(signal.category))
            group = None
        if group is None:
            group = self._open[signal.category] = _Group()
        group.signals.append(signal)
        return closed

    def advance(self, now: float) -> list[Verdict]:
        """Close groups that nothing can extend any more at media time ``now``."""
        done = [c for c, g in self._open.items() if now - g.end > self._policy(c).merge_gap_s]
        out: list[Verdict] = []
        for category in done:
            out.extend(self._close(category))
        return out

    def finish(self) -> list[Verdict]:
        """Close everything (end of stream)."""
        out: list[Verdict] = []
        for category in list(self._open):
            out.extend(self._close(category))
        return out

    def _close(self, category: str) -> list[Verdict]:
        group = self._open.pop(category)
        pol = self._policy(category)
        score = noisy_or(s.score for s in group.signals)
        if score < pol.threshold or len(group.signals) < pol.min_signals:
            return []
        signals = tuple(sorted(group.signals, key=lambda s: s.t))
        return [
            Verdict(
                stream=self.stream,
                category=category,
                severity=severity_for(score, pol),
                score=score,
                start=group.start,
                end=group.end,
                signals=signals,
                action=pol.action,
            )
        ]


def fuse(stream: str, signals: Sequence[Signal], policy: PolicyConfig) -> list[Verdict]:
    """Verdicts for a finished list of signals, sorted by start time."""
    fuser = Fuser(stream, policy)
    out: list[Verdict] = []
    for signal in sorted(signals, key=lambda s: s.t):
        out.extend(fuser.add(signal))
    out.extend(fuser.finish())
    return sorted(out, key=lambda v: (v.start, v.category))
