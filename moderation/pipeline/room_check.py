"""Room metadata of a stream, checked through the stream's own inference clients: ``room.*`` signals.

:mod:`moderation.signals.room` turns a room's title, introduction, nickname, cover and avatar into
signals about the room (``Subject("room", stream)``); this module runs it inside the pipeline.
Texts go through the stream's keyword matcher (same lexicon and context rules as speech and chat);
the cover and avatar go through the same vision (NudeNet, open_nsfw) and OCR batchers as the
frames, so they are batched with every stream's frames and need no model of their own.

Where the metadata comes from and when it is checked again:

* an offline scan (``scan --meta``): once, at media time 0 (:func:`check_room`);
* ``watch --meta FILE``: the file is looked at every ``live.meta_poll_s``; when its bytes change it
  is parsed and checked again (a bad edit is logged and reported, the last good metadata stays);
* the control API (``POST /streams`` with ``meta``; ``PUT /streams/{id}/meta`` to change it): the
  new metadata is checked at the next tick (:meth:`RoomCheck.set_meta`).

Whatever the trigger, the models only run when the texts, image references or image bytes differ
from the last checked ones (:meth:`RoomWatcher.fingerprint`). A violation is a verdict about the
room with the field or image as evidence; the pipeline attaches no clip to it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from moderation.config import PipelineConfig
from moderation.ingest.urlguard import UrlGuard
from moderation.messages import Signal, Verdict, VideoFrame
from moderation.pipeline.clients import InferenceClients
from moderation.signals.room import (
    RoomMeta,
    RoomMetaError,
    RoomWatcher,
    load_room_images,
    parse_meta,
    parse_meta_file,
    room_signals_from,
)
from moderation.text.matcher import KeywordMatcher

__all__ = ["RoomCheck", "check_room", "is_room_verdict", "meta_from_spec"]

log = logging.getLogger(__name__)


def is_room_verdict(v: Verdict) -> bool:
    """A verdict about the room's metadata: its evidence is the field or image, never a clip."""
    return v.subject is not None and v.subject.kind == "room"


def _results(results: Any, what: str) -> list[Any]:
    """Per-image results, or the first failure raised (a room check is all or nothing: retried later)."""
    out = list(results)
    for r in out:
        if isinstance(r, Exception):
            raise RuntimeError(f"room {what}: {type(r).__name__}: {r}") from r
    return out


async def check_room(
    meta: RoomMeta,
    cfg: PipelineConfig,
    clients: InferenceClients,
    matcher: KeywordMatcher,
    *,
    t: float = 0.0,
    guard: UrlGuard | None = None,
    last: str | None = None,
    on_images: Callable[[Mapping[str, np.ndarray]], None] | None = None,
) -> tuple[str, list[Signal] | None]:
    """``(fingerprint, signals)`` of the room at media time ``t``; signals None when the
    fingerprint equals ``last`` (nothing changed, no model run). Raises :class:`RoomMetaError`
    when an image cannot be used (before any model runs). ``on_images`` gets the images read
    (reference → BGR image), the evidence of a verdict about them."""
    images = await asyncio.to_thread(load_room_images, meta, guard)
    key = RoomWatcher.fingerprint(meta, images)
    if key == last:
        return key, None
    if on_images is not None:
        on_images({img.ref: img.image for img in images})
    frames = [VideoFrame(meta.stream, t, img.image, index=i) for i, img in enumerate(images)]
    vision = _results(await clients.vision(frames), "vision") if frames and cfg.vision.enabled else None
    ocr = _results(await clients.ocr(frames), "ocr") if frames and cfg.ocr.enabled else None
    sigs = room_signals_from(meta, images, matcher.match, vision, ocr, t=t, vision_cfg=cfg.vision)
    return key, sigs


def meta_from_spec(stream: str, meta_json: str | None, meta_file: str | None) -> RoomMeta | None:
    """A stream's room metadata from its spec: the API's JSON object text, or the file's contents."""
    if meta_file:
        return parse_meta_file(Path(meta_file), stream)
    if meta_json:
        try:
            data = json.loads(meta_json)
        except json.JSONDecodeError as exc:
            raise RoomMetaError(f"room metadata: not valid JSON ({exc.msg})") from None
        return parse_meta(data, stream)
    return None


class RoomCheck:
    """One live stream's room metadata: (re)checked from the event loop's tick, one check at a time.

    ``emit`` gets the signals of every check that found something changed (on the event loop).
    """

    def __init__(
        self,
        stream: str,
        cfg: PipelineConfig,
        clients: InferenceClients,
        matcher: KeywordMatcher,
        emit: Callable[[list[Signal]], None],
        *,
        meta_json: str | None = None,
        meta_file: str | None = None,
        guard: UrlGuard | None = None,
        on_images: Callable[[Mapping[str, np.ndarray]], None] | None = None,
    ) -> None:
        self.stream, self.cfg, self.clients, self.matcher, self.emit = stream, cfg, clients, matcher, emit
        self.meta_file = Path(meta_file) if meta_file else None
        self.guard = guard
        self.on_images = on_images
        self.checks = 0  # checks that ran the matcher and models (metadata changed)
        self.error: str | None = None  # the last check's failure, for status
        #: Metadata waiting for a check, oldest first: each version a room showed is checked once
        #: (a title changed again before its check still counts), the oldest dropped beyond 8.
        self._pending: deque[RoomMeta] = deque(maxlen=8)
        if meta_json:
            self._pending.append(meta_from_spec(stream, meta_json, None))  # type: ignore[arg-type]
        self._file_bytes: bytes | None = None
        self._next_poll = 0.0
        self._last: str | None = None
        self._task: asyncio.Task[None] | None = None

    def set_meta(self, meta: RoomMeta) -> None:
        """New metadata (the control API); checked at the next :meth:`poll`."""
        self._pending.append(meta)

    def _read_file(self, now: float) -> RoomMeta | None:
        """The meta file's metadata when its bytes changed since the last look (at most every poll_s)."""
        if self.meta_file is None or now < self._next_poll:
            return None
        self._next_poll = now + self.cfg.live.meta_poll_s
        try:
            data = self.meta_file.read_bytes()
        except OSError as exc:
            self._failed(f"--meta {self.meta_file}: cannot read ({exc.strerror or exc})")
            return None
        if data == self._file_bytes:
            return None
        self._file_bytes = data
        try:
            return parse_meta_file(self.meta_file, self.stream)
        except RoomMetaError as exc:
            self._failed(str(exc))
            return None

    def poll(self, t: float) -> None:
        """From the tick: start a check when new metadata is waiting (media time ``t`` is its time)."""
        if self._task is not None and not self._task.done():
            return
        loop = asyncio.get_running_loop()
        changed = self._read_file(loop.time())
        if changed is not None:
            self._pending.append(changed)
        if not self._pending:
            return
        meta = self._pending.popleft()
        self._task = loop.create_task(self._check(meta, t), name=f"room-{self.stream}")

    async def _check(self, meta: RoomMeta, t: float) -> None:
        try:
            key, sigs = await check_room(
                meta,
                self.cfg,
                self.clients,
                self.matcher,
                t=t,
                guard=self.guard,
                last=self._last,
                on_images=self.on_images,
            )
        except Exception as exc:  # a bad image or a failed model: reported; the stream goes on
            self._failed(str(exc))
            return
        self._last, self.error = key, None
        if sigs is not None:
            self.checks += 1
            if sigs:
                self.emit(sigs)

    def _failed(self, msg: str) -> None:
        if msg != self.error:
            log.warning("%s: room metadata not checked: %s", self.stream, msg)
        self.error = msg

    async def drain(self, t: float) -> None:
        """The stream is ending: check what is still waiting (a stream shorter than a tick) and let
        the check in flight finish, so its signals still count."""
        self._next_poll = 0.0  # look at the file once more
        while True:
            if self._task is None or self._task.done():
                self.poll(t)
            if self._task is None or self._task.done():
                return
            await asyncio.gather(self._task, return_exceptions=True)
