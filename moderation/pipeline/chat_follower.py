"""A live stream's chat / danmaku feed, followed beside its media (no Ray).

:class:`ChatFollower` runs in its own thread for as long as the stream is followed: it reads the
feed with :func:`moderation.ingest.chat.iter_chat` (JSONL over HTTP(S), or a file where
``live.allow_files`` allows it), maps each message's send time (``ts``, Unix seconds) onto the
stream's media timeline through the pipeline's :class:`~moderation.evidence.writer.WallClock`, and
turns them into de-duplicated ``chat.keyword`` signals (:class:`moderation.signals.chat.ChatSignals`)
for a callback. Chat is optional evidence, so it never ends the stream:

* a feed that ends or breaks is reopened with backoff (a chat service restarting, a proxy timing
  out an idle stream); a feed should send a blank line as keep-alive within ``chat.timeout_s``;
* a source the URL guard refuses (scheme, private address, file without ``allow_files``) is a
  permanent error: logged once, reported in the stream's status, and the stream goes on without chat;
* bad lines are skipped and counted by the reader (``ChatStats``), among them a message whose time
  is more than ``chat.live_ahead_s`` ahead of the stream's media clock or whose ``ts`` is no date;
* a message whose handling raises is skipped and counted (:class:`~moderation.pipeline.failures.TaskFailures`),
  and the feed goes on with the next one.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from moderation.config import PipelineConfig, guard_config
from moderation.errors import InputError
from moderation.ingest.chat import ChatStats, iter_chat
from moderation.ingest.urlguard import UrlGuard, UrlRefused, redact
from moderation.messages import ChatMessage, Signal
from moderation.pipeline.clock import WallClock
from moderation.pipeline.failures import TaskFailures
from moderation.pipeline.status import StreamSpec, is_file_url
from moderation.signals.chat import ChatSignals, MatchFn

__all__ = ["ChatFollower", "chat_source"]

log = logging.getLogger(__name__)


def chat_source(spec: StreamSpec, cfg: PipelineConfig) -> str | None:
    """The stream's chat feed: its own ``spec.chat``, else ``live.chat_source`` filled in with
    ``{stream}``, ``{app}`` and ``{name}``; None = no chat."""
    if spec.chat:
        return spec.chat
    template = cfg.live.chat_source
    if not template:
        return None
    return template.format(stream=spec.stream_id, app=spec.app or "", name=spec.name or spec.stream_id)


@dataclass
class ChatFeedStatus:
    messages: int = 0
    reopened: int = 0
    error: str | None = None  # permanent: the feed was refused and is not followed


class ChatFollower:
    """Follow one chat feed until :meth:`stop`; ``on_signals`` is called from this thread."""

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
    ) -> None:
        self.source, self.spec, self.cfg, self.clock = source, spec, cfg, clock
        self.tracker = ChatSignals(match, cfg.chat.dedup_window_s)
        self.on_signals = on_signals
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.status = ChatFeedStatus()
        self.stats = ChatStats()
        self.failures = failures or TaskFailures(spec.stream_id)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.guard = UrlGuard(guard_config(cfg.live, ("http", "https"), cfg.chat.timeout_s))

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> ChatFollower:
        """Follow in a daemon thread; the pipeline starts it at the stream's first frame, so every
        send time maps onto the media timeline."""
        self._thread = threading.Thread(target=self.run, daemon=True, name=f"chat-{self.spec.stream_id}")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop following (a read in progress ends within ``chat.timeout_s``; the thread is a daemon)."""
        self._stop.set()

    def _wall_to_media(self, ts: float) -> float | None:
        return self.clock.media_at(datetime.fromtimestamp(ts, UTC))

    def _max_t(self) -> float | None:
        """Latest media time a message may have now: the stream's media clock plus ``chat.live_ahead_s``
        (a message from the future would move the stream's fusion clock past every real signal)."""
        now = self.clock.media_at(datetime.now(UTC))
        return (now or 0.0) + self.cfg.chat.live_ahead_s

    def _observe(self, msg: ChatMessage) -> None:
        """One message → signals → the pipeline; a failure costs this message only."""
        try:
            signals = self.tracker.observe(msg)
            if signals:
                self.on_signals(signals)
        except Exception as exc:
            self.failures.item("chat", exc)

    def _refused(self) -> str | None:
        if is_file_url(self.source):
            return None if self.cfg.live.allow_files else "files are not allowed as chat feeds (live.allow_files)"
        try:
            self.guard.check(self.source)
        except UrlRefused as exc:
            return str(exc)
        return None

    def run(self) -> None:
        name = redact(self.source)
        refused = self._refused()
        if refused is not None:
            self.status.error = f"chat feed refused: {refused}"
            log.error("%s: %s", self.spec.stream_id, self.status.error)
            return
        attempt = 0
        while not self._stop.is_set():
            got = 0
            try:
                for msg in iter_chat(
                    self.source,
                    self.spec.stream_id,
                    self.cfg.chat,
                    stats=self.stats,
                    guard=self.guard,
                    wall_to_media=self._wall_to_media,
                    max_t=self._max_t,
                ):
                    if self._stop.is_set():
                        return
                    got += 1
                    self.status.messages += 1
                    self._observe(msg)
            except InputError as exc:
                if isinstance(exc.__cause__, UrlRefused):  # a redirect to a refused place: permanent
                    self.status.error = str(exc)
                    log.error("%s: %s", self.spec.stream_id, exc)
                    return
                log.warning("%s: chat feed %s: %s", self.spec.stream_id, name, exc)
            except Exception as exc:  # a broken read must not take the stream down: counted, reopened
                self.failures.item("chat", exc)
            attempt = 1 if got else attempt + 1
            if self._stop.is_set() or is_file_url(self.source):  # a file has been read: nothing more comes
                return
            self.status.reopened += 1
            delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
            self._stop.wait(delay * random.uniform(0.8, 1.2))
