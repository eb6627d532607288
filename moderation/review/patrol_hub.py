"""Server-sent events of the patrol wall: one producer per app, a one-slot mailbox per wall.

The producer runs only while a wall is open. It rebuilds the snapshot from the store every
``check_s`` and asks the pool every ``refresh_s`` (one pool request per interval however many
walls are open), and it pushes a snapshot when it changed, and at least every ``refresh_s``.
Each wall holds only the newest snapshot it has not sent yet: a slow browser skips snapshots
instead of growing a buffer, and a wall that disconnects is dropped when its next write fails or
its stream ends (every ``STREAM_MAX_S``; ``EventSource`` reconnects by itself, which also re-checks
the session, so a logged-out reviewer's wall stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from moderation.config.patrol import PatrolConfig
from moderation.review.patrol import PoolStatusSource, PoolUnavailable, PoolView, build_snapshot
from moderation.review.store import ReviewStore

log = logging.getLogger(__name__)

#: Seconds one event stream lasts before the server ends it and the browser reconnects.
STREAM_MAX_S = 30.0
#: What the browser waits before reconnecting (ms), sent as the stream's ``retry`` field.
RETRY_MS = 2000


class HubFull(Exception):
    """``max_clients`` walls are open already."""


class _Slot:
    """The newest snapshot a wall has not been sent yet (never more than one)."""

    def __init__(self) -> None:
        self.data: str | None = None
        self.ready = asyncio.Event()
        self.taken_at = asyncio.get_running_loop().time()

    def put(self, data: str) -> None:
        self.data = data
        self.ready.set()

    async def take(self, timeout: float) -> str | None:
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
        except TimeoutError:
            return None
        finally:
            self.taken_at = asyncio.get_running_loop().time()
        self.ready.clear()
        return self.data


class PatrolHub:
    """Builds snapshots for every open wall of one app."""

    def __init__(self, store: ReviewStore, cfg: PatrolConfig, source: PoolStatusSource | None) -> None:
        self.store, self.cfg, self.source = store, cfg, source
        self.loop = asyncio.get_running_loop()
        self._slots: set[_Slot] = set()
        self._task: asyncio.Task[None] | None = None
        self._last: str | None = None
        self._pool = PoolView(configured=source is not None)

    @property
    def clients(self) -> int:
        return len(self._slots)

    async def pool_view(self) -> PoolView:
        """Ask the pool now (or say there is none)."""
        if self.source is None:
            return PoolView()
        try:
            return PoolView(True, tuple(await self.source.fetch()))
        except PoolUnavailable as exc:
            return PoolView(True, (), str(exc))
        except Exception as exc:  # anything else must not stop the walls' updates either
            log.warning("patrol: reading the pool failed: %r", exc)
            return PoolView(True, (), f"pool status failed: {type(exc).__name__}")

    async def snapshot(self, pool: PoolView | None = None) -> dict[str, Any]:
        """One snapshot (the store read runs in a worker thread, off the event loop)."""
        pool = pool if pool is not None else await self.pool_view()
        return await asyncio.to_thread(build_snapshot, self.store, self.cfg, pool)

    def subscribe(self) -> _Slot:
        if len(self._slots) >= self.cfg.max_clients:
            raise HubFull(f"{self.cfg.max_clients} patrol walls are open already (patrol.max_clients)")
        slot = _Slot()
        if self._last is not None:
            slot.put(self._last)
        self._slots.add(slot)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())
        return slot

    def unsubscribe(self, slot: _Slot) -> None:
        self._slots.discard(slot)
        if not self._slots and self._task is not None:
            self._task.cancel()
            self._task, self._last = None, None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_pool = next_push = 0.0
        while self._slots:
            t = loop.time()
            for slot in [s for s in self._slots if t - s.taken_at > STREAM_MAX_S + 4 * self.cfg.refresh_s]:
                self._slots.discard(slot)  # its stream never ran or was never finalised: not ours to keep
            if t >= next_pool:
                self._pool = await self.pool_view()
                next_pool = t + self.cfg.refresh_s
            try:
                snap = await self.snapshot(self._pool)
            except Exception as exc:  # the store is down: say so on the wall, keep trying
                log.warning("patrol snapshot failed: %s", exc)
                snap = {"pool": {}, "streams": [], "hidden": 0, "error": f"review store: {str(exc).splitlines()[0]}"}
            data = json.dumps(snap, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
            if data != self._last or t >= next_push:
                self._last, next_push = data, t + self.cfg.refresh_s
                for slot in list(self._slots):
                    slot.put(data)
            await asyncio.sleep(self.cfg.check_s)

    async def events(self, slot: _Slot, max_s: float = STREAM_MAX_S) -> AsyncIterator[bytes]:
        """The ``text/event-stream`` body of one wall; unsubscribes however it ends."""
        deadline = self.loop.time() + max_s
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            while (left := deadline - self.loop.time()) > 0:
                data = await slot.take(min(left, self.cfg.refresh_s * 2))
                if data is None:
                    yield b": keep-alive\n\n"
                    continue
                yield f"event: snapshot\ndata: {data}\n\n".encode()
        finally:
            self.unsubscribe(slot)

    async def close(self) -> None:
        for slot in list(self._slots):
            self.unsubscribe(slot)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.source is not None:
            await self.source.aclose()
