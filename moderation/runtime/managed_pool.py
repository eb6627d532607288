"""The control API's pool interface over the stream manager (``moderation serve`` on a cluster).

:class:`ManagedPool` has the async ``add/remove/list_streams/status/metrics`` interface of
:class:`moderation.runtime.pool.WorkerPool` and :class:`moderation.live.runner.LocalPool`, so
:func:`moderation.runtime.service.create_app` serves it unchanged; but streams are owned by the
detached :class:`~moderation.runtime.manager.StreamManager`, not by the service process. The
service can be restarted (or run twice behind a load balancer) without stopping a stream, and a
stream keeps its placement, restarts and node moves. Stopping the service stops nothing.
"""

from __future__ import annotations

from typing import Any

import ray
from ray.actor import ActorHandle

from moderation.live.metrics import render_snapshots
from moderation.live.runner import DuplicateStream, PoolFull
from moderation.live.status import StreamSpec, StreamStatus
from moderation.runtime.manager import ManagerSettings, get_or_create_manager
from moderation.runtime.placement import ACTIVE, Assignment, StreamRequest

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


def main(argv: list[str] | None = None) -> None:
    """``python -m moderation.runtime.managed_pool``: the control API over the stream manager."""
    import argparse

    import uvicorn

    from moderation.config import load_pipeline
    from moderation.runtime.service import create_app

    p = argparse.ArgumentParser(prog="python -m moderation.runtime.managed_pool", description=main.__doc__)
    p.add_argument("--checkpoint", required=True, help="Manager checkpoint (SQLite on storage all nodes see).")
    p.add_argument("--address", default="auto", help="Ray cluster address (default: auto).")
    p.add_argument("--pipeline", default=None, help="Pipeline preset name or YAML path.")
    p.add_argument("--queue", default=None, help="Review queue URL verdicts are upserted into.")
    p.add_argument("--clips", default=None, help="Evidence clips folder (shared storage).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    a = p.parse_args(argv)
    settings = ManagerSettings(checkpoint=a.checkpoint, pipeline=a.pipeline, queue_url=a.queue)
    pool = ManagedPool(settings, clips_dir=a.clips)
    pool.start(a.address)
    uvicorn.run(create_app(pool, load_pipeline(a.pipeline)), host=a.host, port=a.port)


if __name__ == "__main__":
    main()
