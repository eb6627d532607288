"""Chat lines → the intent classifier (batched like every model) → ``chat.intent`` signals.

The classifier is evidence beside the keyword rules (:mod:`moderation.signals.intent`): it catches
wording no lexicon lists (pressure to tip, innuendo, abuse, implicit solicitation). It runs only
with ``intent.enabled``, always through the ``intent`` batcher family, so the lines of every stream
on a node are embedded together. Files call :func:`classify_lines` on the whole chat feed; live
streams queue each line in an :class:`IntentFeed` (bounded: under overload the oldest waiting
lines are dropped and counted, chat ingest never blocks) whose task sends what is waiting at once.

With ``intent.veto_score`` set, a line the classifier calls confidently harmless vetoes the
keyword hits of that same line (counter-speech a clause rule missed). Files drop them before
fusion; a live stream's keyword signals wait in the feed (:meth:`IntentFeed.hold`) until their
line is classified — one batch round trip — and a line that is never classified (dropped under
overload, failed, left at the end, or waiting longer than ``HOLD_MAX_S``) releases its hits:
evidence is never lost to the veto's absence, only to its answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence

from moderation.config.intent import IntentConfig
from moderation.messages import ChatMessage, Signal
from moderation.pipeline.clients import InferenceClients
from moderation.pipeline.failures import TaskFailures
from moderation.signals.intent import IntentDedup, LineKey, ReadingFn, classifiable, intent_signals, vetoed_lines

__all__ = ["IntentFeed", "classify_lines", "drop_vetoed", "vetoable"]

#: Lines whose veto decision a live feed remembers for keyword signals that come after it.
DECIDED_MAX = 4096
#: Longest a live line's keyword hits wait for its classification (wall seconds) before they count
#: anyway: a stalled or failing classifier must not hold chat evidence back for the whole stream.
HOLD_MAX_S = 5.0


def line_key(s: Signal) -> LineKey:
    return (s.stream, s.user or "", s.t)


def vetoable(s: Signal, cfg: IntentConfig) -> bool:
    """Whether a veto may drop ``s``: a keyword hit in a category the classifier reads."""
    return s.kind == "chat.keyword" and s.category in cfg.veto_categories


def drop_vetoed(signals: Sequence[Signal], vetoed: set[LineKey], cfg: IntentConfig) -> list[Signal]:
    """``signals`` without the vetoable keyword hits (:func:`vetoable`) of vetoed lines."""
    return [s for s in signals if not (vetoable(s, cfg) and line_key(s) in vetoed)]


async def classify_lines(
    clients: InferenceClients,
    messages: Sequence[ChatMessage],
    cfg: IntentConfig,
    failures: TaskFailures | None = None,
    dedup: IntentDedup | None = None,
    vetoed: set[LineKey] | None = None,
    reading: ReadingFn | None = None,
) -> list[Signal]:
    """``chat.intent`` signals of ``messages`` (in time order), ``cfg.batch_size`` lines per call,
    de-duplicated by ``dedup`` when given; the lines the classifier vetoes are added to ``vetoed``
    (when given, decided before de-duplication); categories ``reading`` says the rules read as mentions give no
    signal. A line the classifier failed on is counted in ``failures`` (when given) and skipped,
    never the rest."""
    out: list[Signal] = []
    messages = [m for m in messages if classifiable(m.text, cfg)]  # short lines: rules only
    for start in range(0, len(messages), cfg.batch_size):
        chunk = list(messages[start : start + cfg.batch_size])
        probs = await clients.intent([m.text for m in chunk])
        if len(probs) != len(chunk):
            raise RuntimeError(f"intent classifier returned {len(probs)} results for {len(chunk)} lines")
        good = [(m, p) for m, p in zip(chunk, probs, strict=True) if not isinstance(p, Exception)]
        for p in probs:
            if isinstance(p, Exception) and failures is not None:
                failures.item("intent", p)
        signals = intent_signals([m for m, _ in good], [p for _, p in good], cfg, reading)
        if vetoed is not None:
            vetoed |= vetoed_lines(signals, cfg)
        out += dedup.keep(signals) if dedup is not None else signals
    return out


class IntentFeed:
    """One live stream's chat lines waiting for the classifier; :meth:`run` is its task.

    :meth:`push` is called on the stream's event loop (the chat thread hands lines over with
    ``call_soon_threadsafe``); ``emit`` gets each batch's signals on the same loop.
    """

    def __init__(
        self,
        clients: InferenceClients,
        cfg: IntentConfig,
        emit: Callable[[list[Signal]], None],
        failures: TaskFailures,
        max_pending: int = 1024,
        dedup_window_s: float = 10.0,
        reading: ReadingFn | None = None,
    ) -> None:
        self.clients, self.cfg, self.emit, self.failures = clients, cfg, emit, failures
        self.reading = reading
        self.dedup = IntentDedup(dedup_window_s)
        self.veto = cfg.veto_score is not None
        # line → (monotonic time its first hit was held, its hits); insertion order is age order
        self._held: dict[LineKey, tuple[float, list[Signal]]] = {}
        self._decided: dict[LineKey, bool] = {}  # line → vetoed, for keyword signals that come later
        self.vetoed_hits = 0
        self._pending: deque[ChatMessage] = deque()
        self.max_pending = max_pending
        self.dropped = 0
        self.classified = 0
        self._wake = asyncio.Event()

    def push(self, message: ChatMessage) -> None:
        if not classifiable(message.text, self.cfg):  # too short to classify: its hits count at once
            self._decide([message], set())
            return
        if len(self._pending) >= self.max_pending:
            lost = self._pending.popleft()
            self.dropped += 1
            self._decide([lost], set())
        self._pending.append(message)
        self._wake.set()

    def hold(self, signals: list[Signal]) -> None:
        """Keyword signals of chat lines: with the veto on, each vetoable one (:func:`vetoable`) waits
        for its line's classification (emitted at once when the line is already decided); the others,
        and all of them without the veto, are emitted at once."""
        if not self.veto:
            self.emit(signals)
            return
        now: list[Signal] = []
        for s in signals:
            if not vetoable(s, self.cfg):
                now.append(s)
                continue
            key = line_key(s)
            decided = self._decided.get(key)
            if decided is None:
                self._held.setdefault(key, (time.monotonic(), []))[1].append(s)
            elif decided:
                self.vetoed_hits += 1
            else:
                now.append(s)
        if now:
            self.emit(now)

    def release_all(self) -> None:
        """Emit every held keyword signal (the stream is ending: undecided lines keep their hits)."""
        self.release_older_than(-1.0)

    def release_older_than(self, max_wait_s: float = HOLD_MAX_S) -> None:
        """Emit the keyword hits of lines held longer than ``max_wait_s`` (called on the stream's tick)."""
        cutoff = time.monotonic() - max_wait_s
        out: list[Signal] = []
        while self._held:
            key, (since, held) = next(iter(self._held.items()))
            if since > cutoff:
                break  # the rest were held later
            del self._held[key]
            out += held
        if out:
            self.emit(out)

    def _decide(self, lines: Sequence[ChatMessage], vetoed: set[LineKey]) -> None:
        if not self.veto:
            return
        out: list[Signal] = []
        for m in lines:
            key = (m.stream, m.user, m.t)
            self._decided[key] = key in vetoed
            held = self._held.pop(key, (0.0, []))[1]
            if key in vetoed:
                self.vetoed_hits += len(held)
            else:
                out += held
        while len(self._decided) > DECIDED_MAX:
            del self._decided[next(iter(self._decided))]
        if out:
            self.emit(out)

    async def run(self) -> None:
        """Until cancelled: classify whatever lines are waiting, emit their signals."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                lines = [self._pending.popleft() for _ in range(min(len(self._pending), self.cfg.batch_size))]
                vetoed: set[LineKey] = set()
                try:
                    signals = await classify_lines(
                        self.clients, lines, self.cfg, self.failures, self.dedup, vetoed, self.reading
                    )
                except Exception as exc:  # this batch is lost; later lines are not
                    self.failures.item("intent", exc)
                    self._decide(lines, set())
                    continue
                self.classified += len(lines)
                if signals:
                    self.emit(signals)
                self._decide(lines, vetoed)
