"""A live stream's duties beside detection: room metadata checks and records (no Ray).

:class:`StreamDuties` hooks them into one :class:`~moderation.pipeline.stream.StreamPipeline`:

* **room metadata** (``StreamSpec.meta`` from the control API, or ``meta_file`` from ``watch
  --meta``): a :class:`~moderation.pipeline.room_check.RoomCheck` polled on the pipeline's tick;
  its ``room.*`` signals join the stream's other signals (verdicts about the room, no clip).
* **records** (``StreamSpec.records``, else ``records.dir`` with ``records.enabled``): one
  :class:`~moderation.evidence.records.RecordKeeper` that the chat and gift followers hand every
  line to and the frame analyser hands its frames to (one JPEG every ``records.image_every_s``).
* the pool's **replay index** (:attr:`moderation.pipeline.graph.Engines.replay_index`) is given to
  the frame analyser, so every stream of the pool looks up and indexes its keyframes in one index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from moderation.config import PipelineConfig, guard_config
from moderation.evidence.records import RecordKeeper
from moderation.ingest.urlguard import UrlGuard
from moderation.messages import ChatMessage, GiftEvent, Signal
from moderation.pipeline.analysis import FrameAnalyzer
from moderation.pipeline.chat_follower import FeedFollower
from moderation.pipeline.clients import InferenceClients
from moderation.pipeline.room_check import RoomCheck
from moderation.pipeline.status import StreamSpec
from moderation.signals.replay_index import ReplayIndex
from moderation.signals.room import RoomMeta
from moderation.text.matcher import KeywordMatcher

__all__ = ["StreamDuties", "stream_records"]


def stream_records(spec: StreamSpec, cfg: PipelineConfig) -> RecordKeeper | None:
    """The stream's record keeper: into ``spec.records`` when given, else ``records.dir`` when
    ``records.enabled``; None when records are off."""
    if spec.records:
        return RecordKeeper(spec.stream_id, cfg.records, root=Path(spec.records))
    if cfg.records.enabled:
        return RecordKeeper(spec.stream_id, cfg.records)
    return None


class StreamDuties:
    """Room checks and records of one live stream; see the module docstring."""

    def __init__(
        self,
        spec: StreamSpec,
        cfg: PipelineConfig,
        clients: InferenceClients,
        matcher: KeywordMatcher,
        emit: Callable[[list[Signal]], None],
        frames: FrameAnalyzer,
        chat: FeedFollower[ChatMessage] | None,
        gifts: FeedFollower[GiftEvent] | None,
        replay: ReplayIndex | None,
        on_room_images: Callable[[Mapping[str, np.ndarray]], None] | None = None,
    ) -> None:
        self.records = stream_records(spec, cfg)
        if self.records is not None:
            if chat is not None:
                chat.record = self.records.chat
            if gifts is not None:
                gifts.record = self.records.gift
        frames.records, frames.replay = self.records, replay
        self._room_args = (spec.stream_id, cfg, clients, matcher, emit)
        self._on_images = on_room_images
        self._api_guard = UrlGuard(guard_config(cfg.live, ("http", "https")))
        self.room: RoomCheck | None = None
        if spec.meta or spec.meta_file:
            # Metadata from the control API reads images only through the live URL guard (a local
            # path only with live.allow_files); a --meta file is the operator's own and may name
            # local images, its URLs going through the default guard (public HTTP(S) only).
            guard = self._api_guard if spec.meta else None
            self.room = RoomCheck(
                *self._room_args, meta_json=spec.meta, meta_file=spec.meta_file, guard=guard, on_images=self._on_images
            )

    def set_meta(self, meta: RoomMeta) -> None:
        """New room metadata for a running stream (the control API), checked at the next tick."""
        if self.room is None:
            self.room = RoomCheck(*self._room_args, guard=self._api_guard, on_images=self._on_images)
        self.room.set_meta(meta)

    def tick(self, t: float) -> None:
        """On the pipeline's tick (event loop), at media time ``t``."""
        if self.room is not None:
            self.room.poll(t)

    async def finish(self, t: float) -> None:
        """The stream ends: the room check in flight finishes, the records' logs are closed."""
        if self.room is not None:
            await self.room.drain(t)
        if self.records is not None:
            self.records.close()
