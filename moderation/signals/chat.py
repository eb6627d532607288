"""Chat / danmaku messages → ``chat.keyword`` signals (DESIGN.md §4.3), de-duplicated.

Every message goes through the same matcher as speech and on-screen text (normalisation, pinyin,
allow-contexts, clause context); mentions with weight 0 (counter-speech, nominal uses) are
dropped. Chat is spammed: one user repeating a line, or a bot swarm posting the same line under
many names, must not become hundreds of signals. Within ``dedup_window_s`` (per stream):

* a user is reported **once per (category, term)** however many times they repeat it, and
* a message text (compared after case-folding and whitespace collapsing) is reported **once per
  (category, term)** whoever posts it.

Distinct users saying distinct things stay distinct signals — that is real, independent evidence.
The signal carries the ``user`` and the message ``text``.

A matcher with a ``match_many`` method (:class:`~moderation.text.matcher.KeywordMatcher`) matches
a batch of messages at once (:meth:`ChatSignals.observe_many`); the de-duplication still runs
message by message in order, so a batch gives exactly the signals of observing one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice

from moderation.messages import ChatMessage, KeywordHit, Signal
from moderation.signals.keywords import evidence

__all__ = ["ChatSignals", "chat_signals"]

MatchFn = Callable[[str], list[KeywordHit]]
MatchManyFn = Callable[[Sequence[str]], list[list[KeywordHit]]]

#: Messages matched together by :func:`chat_signals` (a chat poll's worth).
BATCH = 64


def message_key(text: str) -> str:
    """A line's text as duplicates compare: case-folded, whitespace collapsed."""
    return " ".join(text.casefold().split())


class RepeatFilter:
    """Evidence reported once per window: ``first(user, line, what, t)`` is True unless the same
    user, or the same line text (:func:`message_key`, whoever posts it), reported ``what`` within
    ``window_s`` of media time before ``t``. A swarm pasting one line, or one viewer repeating it,
    is one observation, not many (keyword hits and intent signals alike). Feed it in time order;
    keys older than the window are forgotten once per window, so memory stays bounded on a long chat.
    """

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._last: dict[tuple[str, str, tuple[str, ...]], float] = {}
        self._pruned_at = float("-inf")

    def _recent(self, key: tuple[str, str, tuple[str, ...]], t: float) -> bool:
        last = self._last.get(key)
        return last is not None and 0.0 <= t - last < self.window_s

    def first(self, user: str, line: str, what: tuple[str, ...], t: float) -> bool:
        if t - self._pruned_at >= self.window_s:
            self._pruned_at = t
            self._last = {k: v for k, v in self._last.items() if 0.0 <= t - v < self.window_s}
        by_user, by_text = ("user", user, what), ("text", line, what)
        if self._recent(by_user, t) or self._recent(by_text, t):
            return False
        self._last[by_user] = self._last[by_text] = t
        return True


@dataclass
class ChatSignals:
    """Per-stream state: call :meth:`observe` with messages in time order."""

    match: MatchFn
    dedup_window_s: float = 10.0
    suppressed: int = 0  # hits dropped as repeats
    _repeats: RepeatFilter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._repeats = RepeatFilter(self.dedup_window_s)

    def observe(self, msg: ChatMessage) -> list[Signal]:
        """Signals for one message (empty when nothing matched or it repeats a recent one)."""
        return self._signals(msg, self.match(msg.text) if msg.text.strip() else [])

    def observe_many(self, messages: Sequence[ChatMessage]) -> list[Signal]:
        """The signals of calling :meth:`observe` on each message in order, matched as one batch
        when the matcher can (one normalisation and prefilter scan for all of them)."""
        return [s for signals in self.observe_each(messages) for s in signals]

    def observe_each(self, messages: Sequence[ChatMessage]) -> list[list[Signal]]:
        """``[observe(m) for m in messages]``, matched as one batch when the matcher can; a caller
        that hands each message's signals on separately (a live feed) keeps them apart."""
        many: MatchManyFn | None = getattr(self.match, "match_many", None)
        if many is None:
            return [self.observe(msg) for msg in messages]
        todo = [k for k, msg in enumerate(messages) if msg.text.strip()]
        found = dict(zip(todo, many([messages[k].text for k in todo]), strict=True))
        return [self._signals(msg, found.get(k, [])) for k, msg in enumerate(messages)]

    def _signals(self, msg: ChatMessage, matched: list[KeywordHit]) -> list[Signal]:
        hits = evidence(matched)
        if not hits:
            return []
        text_key = message_key(msg.text)
        out: list[Signal] = []
        for hit in hits:
            if not self._repeats.first(msg.user, text_key, (hit.category, hit.term), msg.t):
                self.suppressed += 1
                continue
            out.append(
                Signal(
                    kind="chat.keyword",
                    stream=msg.stream,
                    t=msg.t,
                    score=hit.weight,
                    category=hit.category,
                    term=hit.term,
                    text=msg.text,
                    user=msg.user,
                    context=hit.context,
                )
            )
        return out


def chat_signals(messages: Iterable[ChatMessage], match: MatchFn, dedup_window_s: float = 10.0) -> list[Signal]:
    """All de-duplicated ``chat.keyword`` signals of a feed (messages sorted by time first),
    matched :data:`BATCH` messages at a time when ``match`` has a ``match_many`` method."""
    tracker = ChatSignals(match, dedup_window_s)
    out: list[Signal] = []
    ordered = iter(sorted(messages, key=lambda m: m.t))
    while batch := list(islice(ordered, BATCH)):
        out.extend(tracker.observe_many(batch))
    return out
