"""The control API's pool interface over the stream manager (``moderation serve`` on a cluster).

:class:`ManagedPool` has the async ``add/remove/list_streams/status/metrics`` interface of
:class:`moderation.cluster.pool.WorkerPool` and :class:`moderation.pipeline.pool.LocalPool`, so
:func:`moderation.service.api.create_app` serves it unchanged; but streams are owned by the
detached :class:`~moderation.cluster.manager.StreamManager`, not by the service process. The
service can be restarted (or run twice behind a load balancer) without stopping a stream, and a
stream keeps its placement, restarts and node moves. Stopping the service stops nothing.
"""

from __future__ import annotations

from typing import Any

import ray
from ray.actor import ActorHandle

from moderation.cluster.manager import ManagerSettings, get_or_create_manager
from moderation.cluster.placement import ACTIVE, Assignment, StreamRequest
from moderation.pipeline.metrics import render_snapshots
from moderation.pipeline.pool import DuplicateStream, PoolFull
from moderation.pipeline.status import StreamSpec, StreamStatus

_NO_SLOT = "no node with a free stream slot"


class ManagedPool:
    """``ManagedPool(settings)`` after ``ray.init`` (``start(address)`` does both)."""

    def __init__(self, settings: ManagerSettings, *, clips_dir: str | None = None, report: str | None = None) -> None:
        self.settings = settings
        self.clips_dir, self.report = clips_dir, report
        self._mgr: ActorHandle | None = None

    def start(self, address: str | None = None) -> None:
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, configure_logging=False)
        self._mgr = get_or_create_manager(self.settings)

    @property
    def mgr(self) -> ActorHandle:
        if self._mgr is None:
            self.start()
        assert self._mgr is not None
        return self._mgr

    async def _assignments(self) -> dict[str, Assignment]:
        got: dict[str, Assignment] = await self.mgr.assignments.remote()
        return got

    @staticmethod
    def _placeholder(a: Assignment) -> StreamStatus:
        state: Any = {"pending": "starting", "running": "starting", "ended": "ended"}.get(a.state, "error")
        return StreamStatus(stream=a.stream_id, url=a.request.url, state=state, error=a.last_error)

    async def add(self, spec: StreamSpec) -> StreamStatus:
        old = (await self._assignments()).get(spec.stream_id)
        if old is not None and old.state in ACTIVE:
            raise DuplicateStream(f"stream {spec.stream_id!r} is already watched")
        req = StreamRequest(spec.stream_id, spec.url, queue_url=self.settings.queue_url, clips_dir=self.clips_dir,
                            report=self.report, chat=spec.chat)
        a: Assignment = await self.mgr.add_stream.remote(req)
        if a.state == "pending" and a.last_error == _NO_SLOT:
            await self.mgr.remove_stream.remote(spec.stream_id)
            raise PoolFull(f"no node has a free stream slot for {spec.stream_id!r}")
        return await self.status(spec.stream_id) or self._placeholder(a)

    async def remove(self, stream_id: str, timeout: float = 15.0) -> StreamStatus | None:
        last = await self.status(stream_id)
        a: Assignment | None = await self.mgr.remove_stream.remote(stream_id)
        return None if a is None else last or self._placeholder(a)

    async def status(self, stream_id: str) -> StreamStatus | None:
        st: StreamStatus | None = await self.mgr.status.remote(stream_id)
        if st is not None:
            return st
        a = (await self._assignments()).get(stream_id)
        return None if a is None else self._placeholder(a)

    async def list_streams(self) -> list[StreamStatus]:
        out = []
        for sid in sorted(await self._assignments()):
            st = await self.status(sid)
            if st is not None:
                out.append(st)
        return out

    async def metrics(self) -> bytes:
        return render_snapshots(await self.mgr.snapshots.remote())
