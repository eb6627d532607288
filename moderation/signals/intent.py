"""Intent classifier probabilities → ``chat.intent`` signals, one more channel for fusion.

The keyword rules and the classifier fail differently: rules miss wording no lexicon lists
(pressure to tip, innuendo, abuse, implicit solicitation, new slang); the classifier misses
obfuscated terms the normaliser folds (pinyin, separators, leetspeak) and is less sure on any one
line. So the classifier's output is evidence beside the rules, not a replacement:

* a line whose probability for a category reaches that category's threshold
  (``IntentConfig.threshold``) yields a ``chat.intent`` signal of that category, ``score`` = the
  probability, ``label`` = the category. Fusion combines it with keyword hits like any channel.
* a line the classifier is confident is harmless (P(benign) ≥ ``veto_score``, read from the served
  mean or, with ``veto_reading: encoder``, from the encoder head alone:
  :data:`moderation.infer.intent.ENCODER_BENIGN`) yields a
  counter-evidence signal in ``veto_category`` (``label`` "benign"), which the policy lists as
  non-verdict, and vetoes the keyword hits of that same line (same stream, user and time):
  counter-speech a clause rule missed names the topic but reads as harmless. :func:`vetoed_lines`
  gives the lines; :mod:`moderation.pipeline.intent_feed` applies the veto (files before fusion,
  live streams by holding a line's keyword hits until it is classified).

A line the keyword rules read as a mention of a category (a hit in a counter-speech, news, rules
or nominal frame: "楼上发黄片的，大家别点"; a term inside an allowed phrase: "谢谢榜一大哥") yields no
``chat.intent`` signal of that category: the
clause rules see the warning the encoder does not, and a lure anywhere in the line already turns
such a frame back into evidence (:mod:`moderation.text.context`). :func:`countered_by` gives those
categories per line.

Signals carry ``user`` and the line's ``text``, so a viewer's line stays that viewer's (a ``chat.*``
signal with a user is the viewer's, :func:`moderation.policy.rules.subject_of`). They are
de-duplicated like keyword hits (:class:`IntentDedup`, the rules of :mod:`moderation.signals.chat`):
a swarm posting one line under many names is one observation whichever channel saw it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from moderation.config.intent import IntentConfig
from moderation.infer.intent import ENCODER_BENIGN
from moderation.messages import ChatMessage, Signal
from moderation.signals.chat import RepeatFilter, message_key

__all__ = [
    "BENIGN_LABEL",
    "KIND",
    "IntentDedup",
    "classifiable",
    "countered_by",
    "intent_signals",
    "vetoed_lines",
]

#: A line's text → the categories the rules read in it only as a mention.
CounteredFn = Callable[[str], frozenset[str]]

KIND = "chat.intent"
BENIGN_LABEL = "benign"

LineKey = tuple[str, str, float]  # (stream, user, t)

_UNIT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[A-Za-z\u00c0-\u024f]+|\d+")


def classifiable(text: str, cfg: IntentConfig) -> bool:
    """Whether a chat line is long enough for the classifier (``cfg.min_units`` content units: a Han
    character, a latin word or a number each; emoji and punctuation do not count). Counting stops
    at the bar, so a long line costs no more than a short one."""
    return any(n >= cfg.min_units for n, _ in enumerate(_UNIT.finditer(text), start=1))


class _Mentions(Protocol):
    def mentioned(self, text: str) -> frozenset[str]: ...


def countered_by(matcher: _Mentions) -> CounteredFn:
    """Categories a line names only as a mention, whatever other hits it has: a keyword hit its
    context frames as counter-speech, news, rules or a nominal use, or a term inside a known benign
    phrase (:meth:`moderation.text.matcher.KeywordMatcher.mentioned`)."""
    return matcher.mentioned


def intent_signals(
    messages: Sequence[ChatMessage],
    probs: Sequence[Mapping[str, float]],
    cfg: IntentConfig,
    countered: CounteredFn | None = None,
) -> list[Signal]:
    """One signal per category a line reaches, plus a counter-evidence signal for confident-benign lines.

    ``probs[i]`` is :func:`moderation.infer.intent.classify_batch`'s output for ``messages[i]``.
    With ``countered`` (:func:`countered_by`), a category the rules read in the line only as a
    mention yields no signal.
    """
    if len(messages) != len(probs):
        raise ValueError(f"intent_signals: {len(messages)} messages but {len(probs)} probability rows")
    out: list[Signal] = []
    for msg, row in zip(messages, probs, strict=True):
        mentioned: frozenset[str] | None = None
        for category, p in row.items():
            if category in (BENIGN_LABEL, ENCODER_BENIGN):
                continue
            if countered is not None and p >= cfg.threshold(category):
                if mentioned is None:  # match only lines that would give a signal
                    mentioned = countered(msg.text)
                if category in mentioned:
                    continue
            if p >= cfg.threshold(category):
                out.append(
                    Signal(
                        kind=KIND,
                        stream=msg.stream,
                        t=msg.t,
                        score=float(p),
                        category=category,
                        label=category,
                        text=msg.text,
                        user=msg.user,
                    )
                )
        benign = row.get(BENIGN_LABEL)
        if cfg.veto_reading == "encoder":
            benign = row.get(ENCODER_BENIGN, benign)
        if cfg.veto_score is not None and benign is not None and benign >= cfg.veto_score:
            out.append(
                Signal(
                    kind=KIND,
                    stream=msg.stream,
                    t=msg.t,
                    score=float(benign),
                    category=cfg.veto_category,
                    label=BENIGN_LABEL,
                    text=msg.text,
                    user=msg.user,
                )
            )
    return out


def vetoed_lines(signals: Iterable[Signal], cfg: IntentConfig) -> set[LineKey]:
    """``(stream, user, t)`` of every line the classifier called confidently harmless."""
    return {
        (s.stream, s.user or "", s.t)
        for s in signals
        if s.kind == KIND and s.category == cfg.veto_category and s.label == BENIGN_LABEL
    }


class IntentDedup:
    """Within ``window_s`` of media time, a user is reported once per category, and so is a line's
    text whoever posts it (:class:`~moderation.signals.chat.RepeatFilter`, which also keeps keyword
    hits apart per term). Feed signals in time order."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._repeats = RepeatFilter(window_s)
        self.suppressed = 0

    def keep(self, signals: Sequence[Signal]) -> list[Signal]:
        out: list[Signal] = []
        for s in signals:
            if self._repeats.first(s.user or "", message_key(s.text or ""), (s.category,), s.t):
                out.append(s)
            else:
                self.suppressed += 1
        return out
