"""A live stream's viewer feeds (chat / danmaku, gifts), followed beside its media (no Ray).

A :class:`FeedFollower` runs in its own thread for as long as the stream is followed: it reads a
JSONL feed (over HTTP(S), or a file where ``live.allow_files`` allows it), maps each line's send
time (``ts``, Unix seconds) onto the stream's media timeline through the pipeline's
:class:`~moderation.pipeline.clock.WallClock`, and hands each item on. Two feeds share it:

* :class:`ChatFollower` reads :func:`moderation.ingest.chat.iter_chat` and turns messages into
  de-duplicated ``chat.keyword`` signals (:class:`moderation.signals.chat.ChatSignals`), matching
  the messages of a burst together (a second thread handles what the reader has queued);
* :class:`GiftFollower` reads :func:`moderation.ingest.gifts.iter_gifts` and hands the gift events
  on as they are (the pipeline's one :class:`~moderation.signals.gifts.GiftTracker` must also see
  every other signal of the stream, so it lives with the fusers, not in this thread).

A viewer feed is optional evidence, so it never ends the stream:

* a feed that ends or breaks is reopened with backoff (a chat service restarting, a proxy timing
  out an idle stream); a feed should send a blank line as keep-alive within its ``timeout_s``;
* a source the URL guard refuses (scheme, private address, file without ``allow_files``) is a
  permanent error: logged once, reported in the stream's status, and the stream goes on without
  that feed;
* bad lines are skipped and counted by the reader (:class:`~moderation.ingest.jsonl_feed.FeedStats`),
  among them an item whose time is more than ``live_ahead_s`` ahead of the stream's media clock or
  whose ``ts`` is no date;
* an item whose handling raises is skipped and counted (:class:`~moderation.pipeline.failures.TaskFailures`),
  and the feed goes on with the next one.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from moderation.config import PipelineConfig, guard_config
from moderation.errors import InputError
from moderation.ingest.chat import ChatStats, iter_chat
from moderation.ingest.gifts import GiftStats, iter_gifts
from moderation.ingest.jsonl_feed import FeedStats
from moderation.ingest.urlguard import UrlGuard, UrlRefused, redact
from moderation.messages import ChatMessage, GiftEvent, Signal
from moderation.pipeline.clock import WallClock
from moderation.pipeline.failures import TaskFailures
from moderation.pipeline.status import StreamSpec, is_file_url
from moderation.signals.chat import BATCH, ChatSignals, MatchFn

__all__ = ["ChatFollower", "FeedFollower", "FeedStatus", "GiftFollower", "chat_source", "gift_source"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Chat messages read but not yet handled, at most: beyond it the reader waits (as it did when it
#: handled each message itself), so a feed faster than matching backs up into its connection.
_BACKLOG = 16 * BATCH


def _fill(own: str | None, template: str | None, spec: StreamSpec) -> str | None:
    """The stream's own feed, else ``template`` filled in with ``{stream}``, ``{app}``, ``{name}``."""
    if own:
        return own
    if not template:
        return None
    return template.format(stream=spec.stream_id, app=spec.app or "", name=spec.name or spec.stream_id)


def chat_source(spec: StreamSpec, cfg: PipelineConfig) -> str | None:
    """The stream's chat feed: its own ``spec.chat``, else ``live.chat_source`` filled in with
    ``{stream}``, ``{app}`` and ``{name}``; None = no chat."""
    return _fill(spec.chat, cfg.live.chat_source, spec)


def gift_source(spec: StreamSpec, cfg: PipelineConfig) -> str | None:
    """The stream's gift feed: its own ``spec.gifts``, else ``live.gift_source`` filled in like
    :func:`chat_source`; None = no gifts."""
    return _fill(spec.gifts, cfg.live.gift_source, spec)


@dataclass
class FeedStatus:
    messages: int = 0  # items read (chat messages, gift events)
    reopened: int = 0
    error: str | None = None  # permanent: the feed was refused and is not followed


class FeedFollower(Generic[T]):
    """Follow one JSONL viewer feed until :meth:`stop`; subclasses say how to read it
    (:meth:`_read`) and what to do with each item (:meth:`_handle`, called from this thread)."""

    #: The feed's name in thread names, logs, errors and failure counts ("chat", "gift").
    kind = "feed"

    def __init__(
        self,
        source: str,
        spec: StreamSpec,
        cfg: PipelineConfig,
        clock: WallClock,
        *,
        timeout_s: float,
        live_ahead_s: float,
        stats: FeedStats,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        failures: TaskFailures | None = None,
    ) -> None:
        self.source, self.spec, self.cfg, self.clock = source, spec, cfg, clock
        self.live_ahead_s = live_ahead_s
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.status = FeedStatus()
        self.stats = stats
        self.failures = failures or TaskFailures(spec.stream_id)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.guard = UrlGuard(guard_config(cfg.live, ("http", "https"), timeout_s))
        #: Called with every item read before it is handled (the stream's record keeper), if set.
        self.record: Callable[[T], None] | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> FeedFollower[T]:
        """Follow in a daemon thread; the pipeline starts it at the stream's first frame, so every
        send time maps onto the media timeline."""
        self._thread = threading.Thread(target=self.run, daemon=True, name=f"{self.kind}-{self.spec.stream_id}")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop following (a read in progress ends within the feed's timeout; the thread is a daemon)."""
        self._stop.set()

    def _wall_to_media(self, ts: float) -> float | None:
        return self.clock.media_at(datetime.fromtimestamp(ts, UTC))

    def _max_t(self) -> float | None:
        """Latest media time an item may have now: the stream's media clock plus ``live_ahead_s``
        (an item from the future would move the stream's fusion clock past every real signal)."""
        now = self.clock.media_at(datetime.now(UTC))
        return (now or 0.0) + self.live_ahead_s

    def _read(self) -> Iterator[T]:
        raise NotImplementedError

    def _handle(self, item: T) -> None:
        raise NotImplementedError

    def _observe(self, item: T) -> None:
        """One item → the pipeline; a failure costs this item only."""
        try:
            if self.record is not None:
                self.record(item)
            self._handle(item)
        except Exception as exc:
            self.failures.item(self.kind, exc)

    def _refused(self) -> str | None:
        if is_file_url(self.source):
            if self.cfg.live.allow_files:
                return None
            return f"files are not allowed as {self.kind} feeds (live.allow_files)"
        try:
            self.guard.check(self.source)
        except UrlRefused as exc:
            return str(exc)
        return None

    def run(self) -> None:
        name = redact(self.source)
        refused = self._refused()
        if refused is not None:
            self.status.error = f"{self.kind} feed refused: {refused}"
            log.error("%s: %s", self.spec.stream_id, self.status.error)
            return
        attempt = 0
        while not self._stop.is_set():
            got = 0
            try:
                for item in self._read():
                    if self._stop.is_set():
                        return
                    got += 1
                    self.status.messages += 1
                    self._observe(item)
            except InputError as exc:
                if isinstance(exc.__cause__, UrlRefused):  # a redirect to a refused place: permanent
                    self.status.error = str(exc)
                    log.error("%s: %s", self.spec.stream_id, exc)
                    return
                log.warning("%s: %s feed %s: %s", self.spec.stream_id, self.kind, name, exc)
            except Exception as exc:  # a broken read must not take the stream down: counted, reopened
                self.failures.item(self.kind, exc)
            attempt = 1 if got else attempt + 1
            if self._stop.is_set() or is_file_url(self.source):  # a file has been read: nothing more comes
                return
            self.status.reopened += 1
            delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
            self._stop.wait(delay * random.uniform(0.8, 1.2))


class ChatFollower(FeedFollower[ChatMessage]):
    """Follow one chat feed; its ``chat.keyword`` signals go to ``on_signals`` (from this thread)."""

    kind = "chat"

    def __init__(
        self,
        source: str,
        spec: StreamSpec,
        cfg: PipelineConfig,
        clock: WallClock,
        match: MatchFn,
        on_signals: Callable[[list[Signal]], None],
        *,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        failures: TaskFailures | None = None,
        on_line: Callable[[ChatMessage], None] | None = None,
    ) -> None:
        super().__init__(
            source,
            spec,
            cfg,
            clock,
            timeout_s=cfg.chat.timeout_s,
            live_ahead_s=cfg.chat.live_ahead_s,
            stats=ChatStats(),
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
            failures=failures,
        )
        self.tracker = ChatSignals(match, cfg.chat.dedup_window_s)
        self.on_signals = on_signals
        #: Every line read (for the intent classifier), from the handling thread; None: not wanted.
        self.on_line = on_line
        self._queue: queue.Queue[ChatMessage | None] | None = None

    def run(self) -> None:
        """Read the feed in this thread and handle messages in a second one, in batches.

        Messages that arrive while a batch is being matched wait in a queue and are matched
        together next (``match_many`` when the matcher has it: one normalisation and prefilter pass
        for all of them), so a burst of chat costs one batch, and a message that arrives alone is
        handled at once: batching never holds a message back. Returns once every message read
        has been handled; the reader waits while :data:`_BACKLOG` messages are queued."""
        q: queue.Queue[ChatMessage | None] = queue.Queue(maxsize=_BACKLOG)
        handler = threading.Thread(target=self._drain, args=(q,), daemon=True, name=f"chat-match-{self.spec.stream_id}")
        self._queue = q
        handler.start()
        try:
            super().run()
        finally:
            self._queue = None
            q.put(None)
            handler.join()

    def _observe(self, item: ChatMessage) -> None:
        if self._queue is None:
            super()._observe(item)
        else:
            self._queue.put(item)

    def _drain(self, q: queue.Queue[ChatMessage | None]) -> None:
        """Handle what is queued, up to :data:`BATCH` messages at a time, until the end marker."""
        while (item := q.get()) is not None:
            batch = [item]
            end = False
            while len(batch) < BATCH and not q.empty():
                nxt = q.get()
                if nxt is None:
                    end = True
                    break
                batch.append(nxt)
            self._observe_batch(batch)
            if end:
                return

    def _observe_batch(self, items: list[ChatMessage]) -> None:
        """Each message → the pipeline, as :meth:`_observe` would one by one; a failure costs its
        own message only (a batch whose matching fails is handled again message by message)."""
        ok: list[ChatMessage] = []
        for item in items:
            try:
                if self.record is not None:
                    self.record(item)
                if self.on_line is not None:
                    self.on_line(item)
                ok.append(item)
            except Exception as exc:
                self.failures.item(self.kind, exc)
        try:
            each = self.tracker.observe_each(ok)
        except Exception:
            each = None
        for k, item in enumerate(ok):
            try:
                signals = self.tracker.observe(item) if each is None else each[k]
                if signals:
                    self.on_signals(signals)
            except Exception as exc:
                self.failures.item(self.kind, exc)

    def _read(self) -> Iterator[ChatMessage]:
        return iter_chat(
            self.source,
            self.spec.stream_id,
            self.cfg.chat,
            stats=self.stats,
            guard=self.guard,
            wall_to_media=self._wall_to_media,
            max_t=self._max_t,
        )

    def _handle(self, item: ChatMessage) -> None:
        if self.on_line is not None:
            self.on_line(item)
        signals = self.tracker.observe(item)
        if signals:
            self.on_signals(signals)


class GiftFollower(FeedFollower[GiftEvent]):
    """Follow one gift feed; each gift event goes to ``on_gifts`` (from this thread) as a list of one."""

    kind = "gift"

    def __init__(
        self,
        source: str,
        spec: StreamSpec,
        cfg: PipelineConfig,
        clock: WallClock,
        on_gifts: Callable[[list[GiftEvent]], None],
        *,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        failures: TaskFailures | None = None,
    ) -> None:
        super().__init__(
            source,
            spec,
            cfg,
            clock,
            timeout_s=cfg.gifts.timeout_s,
            live_ahead_s=cfg.gifts.live_ahead_s,
            stats=GiftStats(),
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
            failures=failures,
        )
        self.on_gifts = on_gifts

    def _read(self) -> Iterator[GiftEvent]:
        return iter_gifts(
            self.source,
            self.spec.stream_id,
            self.cfg.gifts,
            stats=self.stats,
            guard=self.guard,
            wall_to_media=self._wall_to_media,
            max_t=self._max_t,
        )

    def _handle(self, item: GiftEvent) -> None:
        self.on_gifts([item])
