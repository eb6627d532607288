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


@dataclass
class ChatSignals:
    """Per-stream state: call :meth:`observe` with messages in time order."""

    match: MatchFn
    dedup_window_s: float = 10.0
    suppressed: int = 0  # hits dropped as repeats
    _last: dict[tuple[str, str, str, str], float] = field(default_factory=dict, repr=False)
    _pruned_at: float = field(default=float("-inf"), repr=False)

    def _seen_recently(self, key: tuple[str, str, str, str], t: float) -> bool:
        last = self._last.get(key)
        return last is not None and 0.0 <= t - last < self.dedup_window_s

    def _prune(self, t: float) -> None:
        """Forget keys older than the window (keeps memory bounded on a long live chat)."""
        if t - self._pruned_at < self.dedup_window_s:
            return
        self._pruned_at = t
        self._last = {k: v for k, v in self._last.items() if 0.0 <= t - v < self.dedup_window_s}

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
        self._prune(msg.t)
        text_key = message_key(msg.text)
        out: list[Signal] = []
        for hit in hits:
            by_user = ("user", msg.user, hit.category, hit.term)
            by_text = ("text", text_key, hit.category, hit.term)
            if self._seen_recently(by_user, msg.t) or self._seen_recently(by_text, msg.t):
                self.suppressed += 1
                continue
            self._last[by_user] = self._last[by_text] = msg.t
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
