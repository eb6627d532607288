"""The control API's pool on Ray: every stream goes through the stream manager (one control plane).

:class:`ManagedPool` has the async ``add/remove/reconfigure/set_meta/list_streams/status/metrics`` interface of
:class:`moderation.pipeline.pool.LocalPool`, so :func:`moderation.service.api.create_app` serves
either unchanged; but streams are owned by the :class:`~moderation.cluster.manager.StreamManager`
(placement, co-located batchers, restarts with backoff, node moves), not by the service process.

* With a checkpoint file (``cluster.checkpoint``, ``moderation serve --checkpoint``) the manager
  is detached: the service can be restarted (or run twice behind a load balancer) without
  stopping a stream, and :meth:`shutdown` stops nothing.
* Without one the manager keeps its assignments in memory under a name of its own, and it, its
  batchers and its workers end with this process; :meth:`shutdown` stops them at once.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, replace
from typing import Any

import ray
from ray.actor import ActorHandle

from moderation.cluster.manager import get_or_create_manager
from moderation.cluster.placement import ACTIVE, Assignment, StreamRequest
from moderation.config import ClusterConfig, PipelineConfig, load_pipeline
from moderation.pipeline.pool import DuplicateStream, PoolFull
from moderation.pipeline.pool_metrics import render_pool
from moderation.pipeline.status import Steering, StreamSpec, StreamStatus
from moderation.signals.room import RoomMeta

__all__ = ["DuplicateStream", "ManagedPool", "PoolFull"]

_NO_SLOT = "no node with a free stream slot"


class ManagedPool:
    """``ManagedPool(cluster, cfg)``, then :meth:`start` (connects to Ray and finds or makes the manager)."""

    def __init__(
        self,
        settings: ClusterConfig,
        cfg: PipelineConfig | None = None,
        *,
        clips_dir: str | None = None,
        report: str | None = None,
    ) -> None:
        if settings.in_memory:  # nobody re-attaches to it: a name of its own, never another's manager
            settings = settings.model_copy(update={"name": f"{settings.name}-{socket.gethostname()}-{os.getpid()}"})
        self.settings = settings
        self.cfg = cfg if cfg is not None else load_pipeline(settings.pipeline)
        self.clips_dir, self.report = clips_dir, report
        self._mgr: ActorHandle | None = None
        self._started_ray = False

    def start(self, address: str | None = None, *, num_cpus: int | None = None, warm_up: bool = True) -> None:
        """Connect to Ray at ``address`` (None: start a fresh local Ray, never whatever runs here),
        find or create the manager and, with ``warm_up``, load the batchers' models on every node."""
        if not ray.is_initialized():
            # The project's settings travel with the workers so they find the same models.
            env = {"env_vars": {k: v for k, v in os.environ.items() if k.startswith(("MODERATION_", "HF_HUB"))}}
            ray.init(
                address=address or "local",
                num_cpus=num_cpus if address is None else None,
                include_dashboard=False,
                ignore_reinit_error=True,
                runtime_env=env,
                log_to_driver=True,
                configure_logging=False,
            )
            self._started_ray = True
        self._mgr = get_or_create_manager(self.settings, self.cfg)
        if warm_up:
            ray.get(self._mgr.warm_up.remote())

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
        return replace(StreamStatus.starting(a.stream_id, a.request.url), state=state, error=a.last_error)

    async def add(self, spec: StreamSpec) -> StreamStatus:
        known = await self._assignments()
        old = known.get(spec.stream_id)
        if old is not None and old.state in ACTIVE:
            raise DuplicateStream(f"stream {spec.stream_id!r} is already watched")
        active = sum(1 for a in known.values() if a.state in ACTIVE)
        if active >= self.cfg.live.max_streams:
            raise PoolFull(f"already watching {active} streams (live.max_streams)")
        req = StreamRequest(
            spec.stream_id,
            spec.url,
            queue_url=self.settings.queue_url,
            clips_dir=self.clips_dir,
            report=self.report,
            chat=spec.chat,
            gifts=spec.gifts,
            app=spec.app,
            name=spec.name,
            steering=spec.steering,
            meta=spec.meta,
            records=spec.records,
        )
        a: Assignment = await self.mgr.add_stream.remote(req)
        if a.state == "pending" and a.last_error == _NO_SLOT:
            await self.mgr.remove_stream.remote(spec.stream_id)
            raise PoolFull(f"no node has a free stream slot for {spec.stream_id!r}")
        return self._placeholder(a)  # at once: a publish hook waits on this, and its worker is only starting

    async def reconfigure(self, stream_id: str, steering: Steering) -> StreamStatus | None:
        """Re-steer a stream through the manager (kept across restarts, applied live to its worker)."""
        st: StreamStatus | None = await self.mgr.reconfigure.remote(stream_id, steering)
        return st if st is not None else await self.status(stream_id)

    async def set_meta(self, stream_id: str, meta: RoomMeta) -> bool:
        """New room metadata through the manager: kept in the stream's request (a restarted or
        moved worker checks it at start) and checked by its running worker at its next tick;
        False: no such active stream."""
        fields = {k: v for k, v in asdict(meta).items() if k != "stream" and v}
        ok: bool = await self.mgr.set_meta.remote(stream_id, json.dumps(fields, ensure_ascii=False))
        return ok

    async def remove(self, stream_id: str, timeout: float = 15.0) -> StreamStatus | None:
        last = await self.status(stream_id)
        if last is None:
            return None
        await self.mgr.remove_stream.remote(stream_id)
        return last

    async def status(self, stream_id: str) -> StreamStatus | None:
        """The stream's status; None for a stream never added or already removed."""
        st: StreamStatus | None = await self.mgr.status.remote(stream_id)
        if st is not None:
            return st
        a = (await self._assignments()).get(stream_id)
        return None if a is None or a.state == "stopped" else self._placeholder(a)

    async def list_streams(self) -> list[StreamStatus]:
        out = []
        for sid in sorted(await self._assignments()):
            st = await self.status(sid)
            if st is not None:
                out.append(st)
        return out

    async def metrics(self) -> bytes:
        return render_pool(await self.mgr.pool_snapshot.remote())

    def worker(self, stream_id: str) -> ActorHandle | None:
        """The stream's running worker actor (None while it has none)."""
        handle: Any = ray.get(self.mgr.worker.remote(stream_id))
        return handle if isinstance(handle, ActorHandle) else None

    def batchers(self) -> dict[str, dict[str, ActorHandle]]:
        """The batcher actors, by node and model family."""
        got: Any = ray.get(self.mgr.batchers.remote())
        return dict(got)

    def shutdown(self) -> None:
        """In memory: stop every stream, batcher and the manager, and the Ray this pool started.
        With a checkpoint file: nothing stops (the manager owns the streams); only disconnect."""
        if self._mgr is not None and self.settings.in_memory:
            try:
                ray.get(self._mgr.shutdown.remote(), timeout=60)
            finally:
                ray.kill(self._mgr, no_restart=True)
        self._mgr = None
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    async def close(self) -> None:
        """What the control API calls when it stops (see :meth:`shutdown`)."""
        self.shutdown()
