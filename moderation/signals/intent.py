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

The keyword rules' reading of the same line (:func:`rules_reading`, a
:class:`~moderation.messages.LineReading`) moves the bar both ways:

* a category the rules read as a mention (a hit in a counter-speech, news, rules or nominal frame:
  "楼上发黄片的，大家别点"; a term inside an allowed phrase: "谢谢榜一大哥") yields no signal: the
  clause rules see the warning the encoder does not, and a lure anywhere in the line already turns
  such a frame back into evidence (:mod:`moderation.text.context`);
* a category the rules found evidence of (a hit that counts, often an ambiguous term that may not
  open a verdict alone) needs only ``IntentConfig.corroborated_score``: two readers that fail
  differently agreeing on one line is stronger than either alone, so an ambiguous 上分 in a line
  the classifier reads as a betting pitch opens a verdict, and the same word in ranked-game talk
  (which the classifier reads as harmless) does not.

Signals carry ``user`` and the line's ``text``, so a viewer's line stays that viewer's (a ``chat.*``
signal with a user is the viewer's, :func:`moderation.policy.rules.subject_of`). They are
de-duplicated like keyword hits (:class:`IntentDedup`, the rules of :mod:`moderation.signals.chat`):
a swarm posting one line under many names is one observation whichever channel saw it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from moderation.config.intent import IntentConfig
from moderation.infer.intent import ENCODER_BENIGN
from moderation.messages import ChatMessage, LineReading, Signal, TranscriptSegment
from moderation.signals.chat import RepeatFilter, message_key

__all__ = [
    "BENIGN_LABEL",
    "KIND",
    "SPEECH_KIND",
    "IntentDedup",
    "classifiable",
    "intent_signals",
    "rules_reading",
    "speech_intent_signals",
    "vetoed_lines",
]

#: A line's text → what the keyword rules read in it.
ReadingFn = Callable[[str], LineReading]

KIND = "chat.intent"
#: The classifier on a transcript segment: the streamer's own words.
SPEECH_KIND = "asr.intent"
BENIGN_LABEL = "benign"

LineKey = tuple[str, str, float]  # (stream, user, t)

_UNIT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u2600-\u27bf\U0001f300-\U0001faff]|[A-Za-z\u00c0-\u024f]+|\d+")


def classifiable(text: str, cfg: IntentConfig) -> bool:
    """Whether a chat line is long enough for the classifier (``cfg.min_units`` content units: a Han
    character, a pictographic emoji, a latin word or a number each; punctuation does not count).
    Emoji count because spam writes words with them (👙脱了吧 💰给你, 🐔上门服务📞): lines the
    encoder reads confidently, which a count of Han characters alone left to the rules. Counting
    stops at the bar, so a long line costs no more than a short one."""
    return any(n >= cfg.min_units for n, _ in enumerate(_UNIT.finditer(text), start=1))


class _Reader(Protocol):
    def read_line(self, text: str) -> LineReading: ...


def rules_reading(matcher: _Reader) -> ReadingFn:
    """What the keyword rules read in a line (:meth:`moderation.text.matcher.KeywordMatcher.read_line`):
    the categories it names only as a mention, and those it has evidence of."""
    return matcher.read_line


def intent_signals(
    messages: Sequence[ChatMessage],
    probs: Sequence[Mapping[str, float]],
    cfg: IntentConfig,
    reading: ReadingFn | None = None,
) -> list[Signal]:
    """One signal per category a line reaches, plus a counter-evidence signal for confident-benign lines.

    ``probs[i]`` is :func:`moderation.infer.intent.classify_batch`'s output for ``messages[i]``.
    With ``reading`` (:func:`rules_reading`), a category the rules read in the line only as a
    mention yields no signal, and one they found evidence of needs only ``cfg.corroborated_score``.
    Without it every category needs its own threshold.
    """
    if len(messages) != len(probs):
        raise ValueError(f"intent_signals: {len(messages)} messages but {len(probs)} probability rows")
    corroborated = cfg.corroborated_score if reading is not None else None
    out: list[Signal] = []
    for msg, row in zip(messages, probs, strict=True):
        read: LineReading | None = None
        for category, p in row.items():
            if category in (BENIGN_LABEL, ENCODER_BENIGN):
                continue
            bar = cfg.threshold(category)
            if p < bar and (corroborated is None or p < corroborated):
                continue
            if reading is not None:
                if read is None:  # read only lines that may give a signal
                    read = reading(msg.text)
                if category in read.mentioned:
                    continue
                if p < bar and category not in read.named:
                    continue
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


def speech_intent_signals(
    segments: Sequence[TranscriptSegment],
    probs: Sequence[Mapping[str, float]],
    cfg: IntentConfig,
    reading: ReadingFn | None = None,
) -> list[Signal]:
    """Transcript segments → ``asr.intent`` signals, the streamer's: a category at
    ``cfg.speech_min_score`` (or at ``cfg.corroborated_score`` where the rules found evidence of it
    in the segment); a category the rules read as a mention gives none, as in chat. Speech has no
    veto and no counter-evidence signal: a streamer's keyword hits are never held for the classifier.
    ``speech_min_score`` None: no signal at all."""
    if len(segments) != len(probs):
        raise ValueError(f"speech_intent_signals: {len(segments)} segments but {len(probs)} probability rows")
    if cfg.speech_min_score is None:
        return []
    bars = cfg.model_copy(update={"min_score": cfg.speech_min_score, "thresholds": {}, "veto_score": None})
    out: list[Signal] = []
    for seg, row in zip(segments, probs, strict=True):
        line = ChatMessage(seg.stream, seg.start, "", seg.text)
        for s in intent_signals([line], [row], bars, reading):
            out.append(
                replace(s, kind=SPEECH_KIND, user=None, lang=seg.lang, end=seg.end, words_end=max(seg.end, seg.start))
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
