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
from moderation.messages import Signal, Subject

#: Keyword kinds whose hits are keyed by term: the same term on the same channel is one observation.
_TERM_KINDS = ("ocr.keyword", "asr.keyword")

ObservationKey = tuple[object, ...]


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


def subject_of(signal: Signal) -> Subject:
    """Whose behaviour a signal shows: its own ``subject``, else a chat signal with a user is that
    viewer's, a ``room.*`` signal the room's, and everything else (frames, speech, captions, QR
    codes on screen) the streamer's."""
    if signal.subject is not None:
        return signal.subject
    if signal.kind.startswith("chat.") and signal.user is not None:
        return Subject("viewer", signal.user)
    if signal.kind.startswith("room."):
        return Subject("room", signal.stream)
    return Subject("streamer", signal.stream)


def observation_key(signal: Signal) -> ObservationKey:
    """What makes two signals the *same* observation, which fusion counts once (at its best score).

    * chat: the same user writing the same term (repeats, floods);
    * OCR and speech: the same term on the same channel — one caption read on many frames, or
      twice within one line, or a phrase said again, is one piece of evidence;
    * vision: the same frame fingerprint — identical frames (a still image sampled repeatedly) are
      one observation, and the models' scores on one frame are one observation too;
    * QR: the same decoded URL.

    Everything else (and a keyword signal without a term) is keyed by its own time, so distinct
    moments stay distinct. Distinct keys are
    independent evidence and corroborate (noisy-OR); across channels (chat, OCR, speech, vision)
    keys always differ.
    """
    if signal.kind == "chat.keyword" and signal.term is not None:
        return (signal.kind, signal.user, signal.term)
    if signal.kind == "chat.intent":  # the classifier on one viewer's line: a repeated line is one
        return (signal.kind, signal.user, signal.category, signal.text)
    if signal.kind in _TERM_KINDS and signal.term is not None:
        return (signal.kind, signal.term)
    if signal.frame is not None:
        return ("frame", signal.frame)
    if signal.kind == "qr.url":
        return (signal.kind, signal.url)
    return (signal.kind, signal.label, signal.term, signal.url, signal.t)


def contribution(signal: Signal, policy: CategoryPolicy) -> float | None:
    """Weighted score a signal adds to its category, or None when it does not count at all.

    A rule may give per-label thresholds (``labels``: NudeNet classes differ in how often they
    fire on harmless images). A signal below its label's threshold still counts when the other
    model on the same frame agrees (``support`` at least ``agree_score``); otherwise it does not
    count at all. Nor does any signal whose other model is sure the frame is clean (``support``
    below ``clean_below``).
    """
    rule = rule_for(policy, signal.kind)
    if rule is None or signal.score < rule.min_score:
        return None
    if rule.clean_below is not None and signal.support is not None and signal.support < rule.clean_below:
        return None  # the other model on the same frame is sure it is clean
    need = rule.labels.get(signal.label, rule.min_score) if signal.label is not None else rule.min_score
    if signal.score < need:
        agreed = rule.agree_score is not None and signal.support is not None and signal.support >= rule.agree_score
        if not agreed:
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


def action_for(severity: str, policy: CategoryPolicy, subject: Subject | None = None) -> str:
    """Suggested action: a per-severity override, else the category's action.

    A viewer's verdict is always ``review``: warn and cut act on the stream, and the streamer is
    not to be warned or cut off for what a viewer writes (muting a viewer is the chat platform's).
    """
    if subject is not None and subject.kind == "viewer":
        return "review"
    return policy.actions.get(severity, policy.action)
