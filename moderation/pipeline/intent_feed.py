"""Chat lines → the intent classifier (batched like every model) → ``chat.intent`` signals.

The classifier is evidence beside the keyword rules (:mod:`moderation.signals.intent`): it catches
wording no lexicon lists (pressure to tip, innuendo, abuse, implicit solicitation). It runs only
with ``intent.enabled``, always through the ``intent`` batcher family, so the lines of every stream
on a node are embedded together. Files call :func:`classify_lines` on the whole chat feed; live
streams queue each line in an :class:`IntentFeed` (bounded: under overload the oldest waiting
lines are dropped and counted, chat ingest never blocks) whose task sends what is waiting at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence

from moderation.config.intent import IntentConfig
from moderation.messages import ChatMessage, Signal
from moderation.pipeline.clients import InferenceClients
from moderation.pipeline.failures import TaskFailures
from moderation.signals.intent import IntentDedup, intent_signals

__all__ = ["IntentFeed", "classify_lines"]


async def classify_lines(
    clients: InferenceClients,
    messages: Sequence[ChatMessage],
    cfg: IntentConfig,
    failures: TaskFailures | None = None,
    dedup: IntentDedup | None = None,
) -> list[Signal]:
    """``chat.intent`` signals of ``messages`` (in time order), ``cfg.batch_size`` lines per call,
    de-duplicated by ``dedup`` when given. A line the classifier failed on is counted in
    ``failures`` (when given) and skipped, never the rest."""
    out: list[Signal] = []
    for start in range(0, len(messages), cfg.batch_size):
        chunk = list(messages[start : start + cfg.batch_size])
        probs = await clients.intent([m.text for m in chunk])
        if len(probs) != len(chunk):
            raise RuntimeError(f"intent classifier returned {len(probs)} results for {len(chunk)} lines")
        good = [(m, p) for m, p in zip(chunk, probs, strict=True) if not isinstance(p, Exception)]
        for p in probs:
            if isinstance(p, Exception) and failures is not None:
                failures.item("intent", p)
        signals = intent_signals([m for m, _ in good], [p for _, p in good], cfg)
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
    ) -> None:
        self.clients, self.cfg, self.emit, self.failures = clients, cfg, emit, failures
        self.dedup = IntentDedup(dedup_window_s)
        self._pending: deque[ChatMessage] = deque()
        self.max_pending = max_pending
        self.dropped = 0
        self.classified = 0
        self._wake = asyncio.Event()

    def push(self, message: ChatMessage) -> None:
        if len(self._pending) >= self.max_pending:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append(message)
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled: classify whatever lines are waiting, emit their signals."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                lines = [self._pending.popleft() for _ in range(min(len(self._pending), self.cfg.batch_size))]
                try:
                    signals = await classify_lines(self.clients, lines, self.cfg, self.failures, self.dedup)
                except Exception as exc:  # this batch is lost; later lines are not
                    self.failures.item("intent", exc)
                    continue
                self.classified += len(lines)
                if signals:
                    self.emit(signals)
