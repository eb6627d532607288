"""The optional inputs and duties of a file scan, beside its media (:mod:`moderation.pipeline.graph`).

* chat and gift feeds of the recording (JSONL files or HTTP(S) URLs on its media timeline), the
  chat through the keyword matcher and, with ``intent.enabled``, the intent classifier;
* the room's metadata, checked once at media time 0 (:mod:`moderation.pipeline.room_check`);
* records (:mod:`moderation.evidence.records`): the chat and gift lines as they are read, and
  (through the frame analyser) one image every ``records.image_every_s``;
* the replay index: a file's keyframes are fingerprinted while it decodes and looked up and
  indexed here, once the files before it in the input have been (see :func:`index_replays`).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from moderation.config import PipelineConfig
from moderation.evidence.records import RecordKeeper
from moderation.ingest.chat import ChatStats, iter_chat
from moderation.ingest.gifts import GiftStats, iter_gifts
from moderation.messages import ChatMessage, Signal
from moderation.pipeline.clients import InferenceClients
from moderation.pipeline.intent_feed import classify_lines, drop_vetoed
from moderation.pipeline.room_check import check_room
from moderation.signals.chat import chat_signals
from moderation.signals.gifts import GiftTracker
from moderation.signals.intent import IntentDedup, LineKey, rules_reading
from moderation.signals.replay_index import ReplayIndex
from moderation.signals.room import RoomMeta

if TYPE_CHECKING:
    from moderation.pipeline.graph import Engines, FileScan, FileTask

T = TypeVar("T")


def file_keeper(task: FileTask, cfg: PipelineConfig) -> RecordKeeper | None:
    """The file's record keeper: ``task.records``, else ``records.dir`` when records are enabled."""
    if task.records is not None:
        return RecordKeeper(task.stream, cfg.records, root=Path(task.records))
    if cfg.records.enabled:
        return RecordKeeper(task.stream, cfg.records)
    return None


async def room_at_start(
    meta: RoomMeta,
    engines: Engines,
    clients: InferenceClients,
    on_images: Callable[[Mapping[str, np.ndarray]], None] | None = None,
) -> list[Signal]:
    """The room's metadata, checked once at media time 0 over the scan's batchers; ``on_images``
    gets the images read (the evidence of a verdict about them)."""
    _, sigs = await check_room(meta, engines.cfg, clients, engines.matcher, t=0.0, on_images=on_images)
    return sigs or []


def index_replays(index: ReplayIndex, stream: str, keys: Sequence[tuple[float, int | None]]) -> list[Signal]:
    """A scanned file's keyframes looked up and indexed in media-time order (the pool clock of a
    scan is media time); then the tail of its replay runs."""
    out: list[Signal] = []
    with index.lock:
        for t, h in keys:
            out += index.observe_keyframe(stream, t, h, t)
        out += index.end_stream(stream)
    return out


def kept(items: Iterable[T], record: Callable[[T], None] | None) -> Iterator[T]:
    """``items``, each also handed to ``record`` (the record keeper) on the way."""
    for item in items:
        if record is not None:
            record(item)
        yield item


def chat_feed_signals(
    chat: str,
    scan: FileScan,
    engines: Engines,
    keeper: RecordKeeper | None = None,
    lines: list[ChatMessage] | None = None,
) -> list[Signal]:
    """The recording's chat feed → ``chat.keyword`` signals; every line read is also appended to
    ``lines`` when given (for the intent classifier)."""
    cfg = engines.cfg
    scan.chat = ChatStats()
    limit = chat_limit(scan, cfg.chat.recording_slack_s)
    messages = iter_chat(chat, scan.stream, cfg.chat, stats=scan.chat, max_t=lambda: limit)
    read = kept(messages, keeper.chat if keeper is not None else None)
    if lines is not None:
        read = _collect(read, lines)
    return list(chat_signals(read, engines.matcher, cfg.chat.dedup_window_s))


def _collect(messages: Iterable[ChatMessage], into: list[ChatMessage]) -> Iterator[ChatMessage]:
    for m in messages:
        into.append(m)
        yield m


async def chat_feed(
    chat: str, scan: FileScan, engines: Engines, keeper: RecordKeeper | None, clients: InferenceClients
) -> list[Signal]:
    """Keyword signals of the chat feed and, with ``intent.enabled``, the classifier's
    ``chat.intent`` signals of every line (through the scan's ``intent`` batcher)."""
    lines: list[ChatMessage] | None = [] if engines.cfg.intent.enabled else None
    signals = await asyncio.to_thread(chat_feed_signals, chat, scan, engines, keeper, lines)
    if lines:
        lines.sort(key=lambda m: m.t)  # in time order, as the keyword signals are de-duplicated
        dedup = IntentDedup(engines.cfg.chat.dedup_window_s)
        vetoed: set[LineKey] = set()
        intent = await classify_lines(
            clients, lines, engines.cfg.intent, dedup=dedup, vetoed=vetoed, reading=rules_reading(engines.matcher)
        )
        signals = drop_vetoed(signals, vetoed, engines.cfg.intent) + intent
    return signals


def gift_feed_signals(gifts: str, scan: FileScan, engines: Engines, keeper: RecordKeeper | None = None) -> list[Signal]:
    """The recording's gift events and every signal found so far, through one :class:`GiftTracker`
    in media-time order (a signal before a gift at the same time: a disclosure or an inducement
    comes before the gift that answers it)."""
    cfg = engines.cfg
    scan.gifts = GiftStats()
    limit = chat_limit(scan, cfg.gifts.recording_slack_s)
    feed = iter_gifts(gifts, scan.stream, cfg.gifts, stats=scan.gifts, max_t=lambda: limit)
    events = list(kept(feed, keeper.gift if keeper is not None else None))
    timeline: list[tuple[float, int, int]] = [(s.t, 0, i) for i, s in enumerate(scan.signals)]
    timeline += [(g.t, 1, i) for i, g in enumerate(events)]
    tracker = GiftTracker(scan.stream, cfg.gifts)
    out: list[Signal] = []
    for _, is_gift, i in sorted(timeline):
        out += tracker.observe_gift(events[i]) if is_gift else tracker.observe_signal(scan.signals[i])
    return out


def chat_limit(scan: FileScan, slack_s: float) -> float:
    """Latest media time a chat message (or gift) of this recording may have: its end plus ``slack_s``.
    The end is the container's duration, or (when it has none) the latest decoded media."""
    dur = scan.info.duration
    if dur is None or not math.isfinite(dur) or dur < 0:
        dur = max([scan.audio_s, *(s.end if s.end is not None else s.t for s in scan.signals)])
    return dur + slack_s
