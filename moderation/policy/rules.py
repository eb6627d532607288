"""Per-category rules that do not depend on time: which signals count, severity, suggested action.

Kept apart from :mod:`moderation.policy.fuse` (the temporal state machine) so each can be read,
tested and changed on its own: a policy file edit that re-weights ``ocr.keyword`` only touches
what is computed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from functools import lru_cache

from moderation.config import CategoryPolicy, SignalRule
from moderation.messages import Signal


def noisy_or(scores: Iterable[float]) -> float:
    """Combine independent pieces of evidence: any strong one suffices, weak ones add up."""
    remaining = 1.0
    for s in scores:
        remaining *= 1.0 - min(max(s, 0.0), 1.0)
    return 1.0 - remaining


@lru_cache(maxsize=4096)
def _matches(pattern: str, kind: str) -> bool:
    return fnmatchcase(kind, pattern)


def kind_matches(kind: str, patterns: Iterable[str]) -> bool:
    """True when ``kind`` matches one of the fnmatch ``patterns`` (``image.model.*``)."""
    return any(_matches(p, kind) for p in patterns)


def rule_for(policy: CategoryPolicy, kind: str) -> SignalRule | None:
    """The rule for a signal kind; an exact key wins over a pattern. None = the kind does not count.

    An empty ``signals`` table means every kind counts at weight 1, so an extra category defined
    only by a lexicon works without a policy entry.
    """
    if not policy.signals:
        return SignalRule()
    exact = policy.signals.get(kind)
    if exact is not None:
        return exact
    for pattern, rule in policy.signals.items():
        if _matches(pattern, kind):
            return rule
    return None


def contribution(signal: Signal, policy: CategoryPolicy) -> float | None:
    """Weighted score a signal adds to its category, or None when it does not count at all."""
    rule = rule_for(policy, signal.kind)
    if rule is None or signal.score < rule.min_score:
        return None
    return min(max(signal.score * rule.weight, 0.0), 1.0)


def severity_for(score: float, policy: CategoryPolicy) -> str:
    """Highest severity level whose lowest score ``score`` reaches (the lowest level otherwise)."""
    levels = policy.severity_levels()
    chosen = levels[0][0]
    for name, lowest in levels:
        if score >= lowest:
            chosen = name
    return chosen


def action_for(severity: str, policy: CategoryPolicy) -> str:
    """Suggested action: a per-severity override, else the category's action."""
    return policy.actions.get(severity, policy.action)
