"""The worker pool on Ray: batcher actors per model family plus one StreamWorker actor per stream.

    pool = WorkerPool(cfg, queue_url="sqlite:///q.db", clips_dir=Path("clips"))
    pool.start()                                  # ray.init (local by default, or address=...)
    await pool.add(StreamSpec.from_url(url))      # -> StreamStatus
    await pool.list_streams(); await pool.status(id); await pool.remove(id); await pool.metrics()
    pool.shutdown()

The async interface matches :class:`moderation.pipeline.pool.LocalPool`, so the control API
(:mod:`moderation.service.api`) runs on either. Caps: ``live.max_streams`` in total and
``live.max_streams_per_node`` times the alive Ray nodes.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray.actor import ActorHandle

from moderation.cluster.actors import batcher_actor, stream_worker
from moderation.config import PipelineConfig
from moderation.pipeline.clients import FAMILIES
from moderation.pipeline.metrics import StreamMetrics, render_snapshots
from moderation.pipeline.pool import DuplicateStream, PoolFull
from moderation.pipeline.status import StreamSpec, StreamStatus

log = logging.getLogger(__name__)

__all__ = ["DuplicateStream", "PoolFull", "WorkerPool"]


@dataclass
class _Worker:
    spec: StreamSpec
    actor: ActorHandle
    last: StreamStatus


class WorkerPool:
    """Streams as Ray actors; batchers shared by all of them."""

    def __init__(
        self, cfg: PipelineConfig, *, address: str | None = None, num_cpus: int | None = None,
        clips_dir: Path | None = None, report: Path | None = None, queue_url: str | None = None,
        batcher_cpus: float = 0, batcher_gpus: float = 0,
    ) -> None:  # fmt: skip
        self.cfg = cfg
        self.address = address
        self.num_cpus = num_cpus
        self.clips_dir = clips_dir
        self.report = report
        self.queue_url = queue_url
        self.batcher_cpus, self.batcher_gpus = batcher_cpus, batcher_gpus
        self.batchers: dict[str, ActorHandle] = {}
        self._workers: dict[str, _Worker] = {}
        self._lock = asyncio.Lock()

    def start(self, warm_up: bool = True) -> None:
        """Connect to (or start) Ray and start the batcher actors of the enabled model families."""
        if not ray.is_initialized():
            # The project root travels with the workers so they import the same code and manifests.
            env = {"env_vars": {k: v for k, v in os.environ.items() if k.startswith(("MODERATION_", "HF_HUB"))}}
            # address=None means a fresh local Ray ("local"), never whatever cluster happens to run here.
            ray.init(address=self.address or "local", num_cpus=self.num_cpus if self.address is None else None,
                     include_dashboard=False, ignore_reinit_error=True, runtime_env=env,
                     log_to_driver=True, configure_logging=False)  # fmt: skip
        enabled = {"vision": self.cfg.vision.enabled, "ocr": self.cfg.ocr.enabled, "asr": self.cfg.asr.enabled}
        for family in FAMILIES:
            if enabled[family]:
                self.batchers[family] = batcher_actor(family, self.cfg, num_cpus=self.batcher_cpus,
                                                      num_gpus=self.batcher_gpus)  # fmt: skip
        if warm_up:
            took: list[float] = ray.get([h.warm_up.remote() for h in self.batchers.values()])
            log.info("batchers warm: %s", dict(zip(self.batchers, took, strict=True)))

    def capacity(self) -> int:
        nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        return min(self.cfg.live.max_streams, self.cfg.live.max_streams_per_node * max(1, nodes))

    async def add(self, spec: StreamSpec) -> StreamStatus:
        async with self._lock:
            old = self._workers.get(spec.stream_id)
            if old is not None:
                st = await self._poll(old)
                if st.state not in ("ended", "error"):
                    raise DuplicateStream(f"stream {spec.stream_id!r} is already watched")
                await self._kill(spec.stream_id)
            active = [w for w in self._workers.values() if w.last.state not in ("ended", "error")]
            if len(active) >= self.capacity():
                raise PoolFull(f"already watching {len(active)} streams (capacity {self.capacity()})")
            clips = str(self.clips_dir) if self.clips_dir else None
            report = str(self.report) if self.report else None
            actor = stream_worker(spec, self.cfg, self.batchers, clips_dir=clips, report=report,
                                  queue_url=self.queue_url)  # fmt: skip
            status: StreamStatus = await actor.start.remote()
            self._workers[spec.stream_id] = _Worker(spec, actor, status)
            return status

    async def _poll(self, w: _Worker) -> StreamStatus:
        try:
            w.last = await asyncio.wait_for(w.actor.status.remote(), 10)
        except Exception as exc:  # actor dead or restarting: report the last known state
            log.warning("status of %s failed: %s", w.spec.stream_id, exc)
        return w.last

    async def _kill(self, stream_id: str) -> None:
        w = self._workers.pop(stream_id, None)
        if w is not None:
            ray.kill(w.actor, no_restart=True)

    async def remove(self, stream_id: str, timeout: float = 15.0) -> StreamStatus | None:
        w = self._workers.get(stream_id)
        if w is None:
            return None
        try:
            w.last = await asyncio.wait_for(w.actor.stop.remote(timeout), timeout + 5)
        except Exception as exc:
            log.warning("stop of %s failed: %s", stream_id, exc)
        await self._kill(stream_id)
        return w.last

    async def list_streams(self) -> list[StreamStatus]:
        return list(await asyncio.gather(*(self._poll(w) for w in list(self._workers.values()))))

    async def status(self, stream_id: str) -> StreamStatus | None:
        w = self._workers.get(stream_id)
        return await self._poll(w) if w is not None else None

    def worker(self, stream_id: str) -> ActorHandle | None:
        """The StreamWorker actor of a stream (for a manager that supervises actors itself)."""
        w = self._workers.get(stream_id)
        return w.actor if w is not None else None

    async def verdicts(self, stream_id: str) -> list[dict[str, Any]]:
        w = self._workers.get(stream_id)
        return list(await w.actor.verdicts.remote()) if w is not None else []

    async def snapshots(self) -> list[StreamMetrics]:
        async def one(w: _Worker) -> StreamMetrics | None:
            try:
                m: StreamMetrics = await asyncio.wait_for(w.actor.metrics.remote(), 10)
                return m
            except Exception:
                return None

        got = await asyncio.gather(*(one(w) for w in list(self._workers.values())))
        return [m for m in got if m is not None]

    async def metrics(self) -> bytes:
        return render_snapshots(await self.snapshots())

    async def close(self) -> None:
        for sid in list(self._workers):
            await self.remove(sid)

    def shutdown(self) -> None:
        """Kill every actor and disconnect from Ray."""
        for sid in list(self._workers):
            ray.kill(self._workers.pop(sid).actor, no_restart=True)
        for h in self.batchers.values():
            ray.kill(h, no_restart=True)
        self.batchers.clear()
        ray.shutdown()
