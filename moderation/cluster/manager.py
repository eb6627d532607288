"""The stream manager: a detached, named Ray actor that places streams on nodes and keeps them running.

    mgr = get_or_create_manager(ManagerSettings(checkpoint="/mnt/moderation/manager.sqlite",
                                                queue_url="postgresql://…"))
    ray.get(mgr.add_stream.remote(StreamRequest("s1", "rtmp://origin/live/s1")))
    ray.get(mgr.assignments.remote())     # {stream_id: Assignment}
    ray.get(mgr.remove_stream.remote("s1"))

What it does (DESIGN.md §2, §8; issue 8 items 1-2):

* **placement** — a new stream goes to the alive node with the most free stream slots (then most
  GPUs; never the head while a worker node has room), :func:`moderation.cluster.placement.choose_node`.
* **co-location** — on that node it makes sure one :class:`~moderation.cluster.actors.BatcherActor`
  per enabled model family runs (named ``batcher-<family>-<node>``, pinned with
  ``NodeAffinitySchedulingStrategy``, asking for the node's ``vision_batcher``/``asr_batcher``
  resource where the node offers it), and starts the stream's
  :class:`~moderation.cluster.actors.StreamWorker` pinned to the same node with those handles, so
  frames and audio never cross the network for inference.
* **restarts** — a worker that dies (process crash) or ends in ``error`` is restarted with
  exponential backoff (``backoff_initial_s`` doubling to ``backoff_max_s``), up to ``max_restarts``
  in a row, then marked ``failed``. Batchers are restarted by Ray itself (``max_restarts=-1``) and
  their callers' calls are retried (``max_task_retries=-1``).
* **node loss** — every ``poll_s`` the manager compares its assignments with ``ray.nodes()``; a
  stream whose node is gone (or whose worker died with it) is started at once on another node.
  A restarted worker opens the stream again: a live stream continues from the live edge (the
  outage is the gap), a file-backed stream starts again from its beginning.
* **delivery** — workers write verdicts through ``ReviewSink`` → ``ReviewStore.upsert_verdict``,
  keyed by (stream, category, window start): at least once, never duplicated. A worker killed
  mid-window never wrote that verdict; its replacement writes it; a verdict written twice
  (replayed media) is the same item.
* **its own restarts** — state lives in a SQLite :class:`~moderation.cluster.placement.Checkpoint`
  on storage every node reaches, written *before* a worker is created (write-ahead), so a
  restarted manager (Ray restarts it: ``max_restarts=-1``; or a new one made with the same name)
  re-attaches to the workers still running (they are detached, named ``stream-<id>-g<gen>``) and
  restarts the rest.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import replace
from typing import Any

import ray
from pydantic import BaseModel, ConfigDict, Field
from ray.actor import ActorHandle
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from moderation.cluster import resources
from moderation.cluster.actors import BatcherActor, StreamWorker
from moderation.cluster.placement import (
    ACTIVE,
    Assignment,
    Checkpoint,
    NodeView,
    StreamRequest,
    backoff_s,
    choose_node,
    node_views,
)
from moderation.config import PipelineConfig, load_pipeline
from moderation.pipeline.metrics import StreamMetrics
from moderation.pipeline.status import StreamSpec, StreamStatus

log = logging.getLogger(__name__)

MANAGER_NAME = "stream-manager"
NAMESPACE = "moderation"
_RESOURCE = {"vision": resources.VISION_BATCHER, "asr": resources.ASR_BATCHER}


class ManagerSettings(BaseModel):
    """How the manager runs (one pydantic tree, ``extra="forbid"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoint: str = Field(description="SQLite file on storage every node can reach (assignments).")
    name: str = Field(MANAGER_NAME, description="Actor name (one manager per name; workers are prefixed by it).")
    pipeline: str | None = Field(None, description="Pipeline preset/YAML for batchers and streams without one.")
    queue_url: str | None = Field(None, description="Review queue verdicts are upserted into (default per stream).")
    poll_s: float = Field(0.5, gt=0, description="Seconds between health checks of nodes and workers.")
    backoff_initial_s: float = Field(0.5, gt=0, description="First restart delay after a worker failure.")
    backoff_max_s: float = Field(10.0, gt=0, description="Restart delay cap.")
    max_restarts: int = Field(10, ge=0, description="Failures in a row before a stream is marked failed (0 = never).")
    healthy_s: float = Field(60.0, gt=0, description="A worker up this long resets the failures-in-a-row count.")
    streams_per_cpu: float = Field(4.0, gt=0, description="Stream slots per CPU on nodes without `stream_slots`.")
    worker_stop_s: float = Field(10.0, gt=0, description="Seconds a removed stream may take to finish.")


def worker_name(manager: str, a: Assignment) -> str:
    """Unique per start of a stream, so a replacement never waits for a dead worker's name."""
    return f"{manager}/stream-{a.stream_id}-g{a.generation}"


def batcher_name(family: str, node_id: str) -> str:
    return f"batcher-{family}-{node_id[:16]}"


class StreamManager:
    """The actor body; create it with :func:`get_or_create_manager`."""

    def __init__(self, settings: ManagerSettings) -> None:
        self.s = settings
        self.cfg: PipelineConfig = load_pipeline(settings.pipeline)
        self._cfgs: dict[str | None, PipelineConfig] = {None: self.cfg, settings.pipeline: self.cfg}
        self.ckpt = Checkpoint(settings.checkpoint)
        self._lock = threading.RLock()
        self._state: dict[str, Assignment] = self.ckpt.load()
        self._waits: dict[str, Any] = {}  # stream_id → ObjectRef of worker.wait()
        self._handles: dict[str, Any] = {}
        self._batchers: dict[str, dict[str, ActorHandle]] = {}
        self._nodes: list[NodeView] = []
        self.recovered = self._reattach()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stream-manager", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ API (actor methods)
    def ping(self) -> dict[str, Any]:
        return {"node_id": ray.get_runtime_context().get_node_id(), "pid": os.getpid(),
                "recovered": self.recovered, "streams": len(self._state)}

    def add_stream(self, request: StreamRequest) -> Assignment:
        with self._lock:
            old = self._state.get(request.stream_id)
            if old is not None and old.state in ACTIVE:
                return old
            if request.timeline_origin is None:
                request = replace(request, timeline_origin=time.time())
            a = Assignment(request)
            self._put(a)
            self._tick_locked()
            return self._state[request.stream_id]

    def remove_stream(self, stream_id: str) -> Assignment | None:
        with self._lock:
            a = self._state.get(stream_id)
            if a is None:
                return None
            handle = self._handles.pop(stream_id, None)
            self._waits.pop(stream_id, None)
            self._put(replace(a, state="stopped"))
        if handle is not None:
            with contextlib.suppress(Exception):
                ray.get(handle.stop.remote(), timeout=self.s.worker_stop_s)
            ray.kill(handle, no_restart=True)
        return self._state[stream_id]

    def assignments(self) -> dict[str, Assignment]:
        with self._lock:
            return dict(self._state)

    def status(self, stream_id: str) -> StreamStatus | None:
        """The worker's status; None while the stream has no running worker (pending, ended)."""
        handle = self._handles.get(stream_id)
        if handle is None:
            return None
        try:
            st: StreamStatus = ray.get(handle.status.remote(), timeout=10)
        except Exception:
            return None
        return st

    def snapshots(self) -> list[StreamMetrics]:
        """Metrics of every running worker (for ``GET /metrics``)."""
        refs: list[Any] = [h.metrics.remote() for h in list(self._handles.values())]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=10) if refs else ([], [])
        out: list[StreamMetrics] = []
        for ref in ready:
            with contextlib.suppress(Exception):
                out.append(ray.get(ref))
        return out

    def close(self) -> None:
        """Stop the health loop (workers keep running; a new manager re-attaches)."""
        self._closing.set()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------------ internals
    def _put(self, a: Assignment) -> None:
        self._state[a.stream_id] = a
        self.ckpt.save(a)

    def _reattach(self) -> int:
        """After a restart: find the workers the checkpoint says are running (all probed at once)."""
        probes: dict[str, tuple[Any, Any]] = {}
        for a in list(self._state.values()):
            if a.state != "running":
                continue
            try:
                handle = ray.get_actor(worker_name(self.s.name, a), namespace=NAMESPACE)
                probes[a.stream_id] = (handle, handle.status.remote())
            except ValueError:  # no such actor: it never started, or died with its node
                self._put(replace(a, state="pending", last_error="lost while the manager was down"))
        refs = [ref for _, ref in probes.values()]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=10) if refs else ([], [])
        alive = set(ready)
        n = 0
        for sid, (handle, ref) in probes.items():
            try:
                ok = ref in alive and ray.get(ref) is not None
            except Exception:
                ok = False
            if not ok:
                self._put(replace(self._state[sid], state="pending", last_error="lost while the manager was down"))
                continue
            self._handles[sid] = handle
            self._waits[sid] = handle.wait.remote()
            n += 1
        return n

    def _loop(self) -> None:
        while not self._closing.wait(self.s.poll_s):
            try:
                with self._lock:
                    self._tick_locked()
            except Exception:
                log.exception("stream manager tick failed")

    def _tick_locked(self) -> None:
        self._nodes = node_views(ray.nodes(), self.s.streams_per_cpu)
        alive = {n.node_id for n in self._nodes}
        for node in list(self._batchers):
            if node not in alive:
                del self._batchers[node]
        for a in list(self._state.values()):
            if a.state == "running" and a.node_id not in alive:
                self._failed(a, f"node {str(a.node_id)[:12]} left", node_lost=True)
        if self._waits:
            refs = list(self._waits.values())
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
            done = set(ready)
            for sid, ref in list(self._waits.items()):
                if ref in done:
                    self._finished(self._state[sid], ref)
        now = time.time()
        for a in sorted(self._state.values(), key=lambda x: x.stream_id):
            if a.state == "pending" and a.not_before <= now:
                self._start(a)

    def _finished(self, a: Assignment, ref: Any) -> None:
        self._waits.pop(a.stream_id, None)
        try:
            status = ray.get(ref)
        except Exception as exc:  # the worker process died (crash, OOM, its node left)
            self._failed(a, f"worker died: {type(exc).__name__}", node_lost=a.node_id not in {
                n.node_id for n in self._nodes})
            return
        handle = self._handles.pop(a.stream_id, None)
        if status.state == "error":
            self._failed(a, status.error or "stream error", node_lost=False)
            return
        self._put(replace(a, state="ended", restarts=0, last_error=None))
        if handle is not None:
            ray.kill(handle, no_restart=True)

    def _failed(self, a: Assignment, why: str, node_lost: bool) -> None:
        log.warning("stream %s: %s", a.stream_id, why)
        self._waits.pop(a.stream_id, None)
        handle = self._handles.pop(a.stream_id, None)
        if handle is not None:
            with contextlib.suppress(Exception):
                ray.kill(handle, no_restart=True)
        healthy = a.started_at > 0 and time.time() - a.started_at >= self.s.healthy_s
        restarts = 1 if healthy else a.restarts + 1
        if not node_lost and self.s.max_restarts and restarts > self.s.max_restarts:
            self._put(replace(a, state="failed", last_error=why, restarts=restarts))
            return
        delay = 0.0 if node_lost else backoff_s(restarts, self.s.backoff_initial_s, self.s.backoff_max_s)
        self._put(replace(a, state="pending", restarts=restarts, last_error=why, not_before=time.time() + delay))

    def _start(self, a: Assignment) -> None:
        load: dict[str, int] = {}
        for x in self._state.values():
            if x.state == "running" and x.node_id:
                load[x.node_id] = load.get(x.node_id, 0) + 1
        node = choose_node(self._nodes, load, a.request.needs_gpu)
        if node is None:
            self._put(replace(a, last_error="no node with a free stream slot"))
            return
        moves = a.moves + (a.node_id is not None and a.node_id != node)
        a = replace(a, state="running", node_id=node, moves=moves, generation=a.generation + 1, started_at=time.time())
        self._put(a)  # write-ahead: a restarted manager looks for this worker by name
        cfg = self._pipeline(a.request.pipeline)
        try:
            batchers = self._node_batchers(node)
            opts: dict[str, Any] = {
                "name": worker_name(self.s.name, a), "namespace": NAMESPACE, "lifetime": "detached", "num_cpus": 0,
                "max_restarts": 0, "max_concurrency": 64,
                "scheduling_strategy": NodeAffinitySchedulingStrategy(node, soft=False),
            }
            if self._offers(node, resources.STREAM_SLOTS):
                opts["resources"] = {resources.STREAM_SLOTS: 1}
            r = a.request
            spec = replace(StreamSpec.from_url(r.url, r.stream_id), timeline_origin=r.timeline_origin, chat=r.chat)
            cls: Any = ray.remote(StreamWorker)
            handle = cls.options(**opts).remote(
                spec, cfg, batchers, clips_dir=r.clips_dir, report=r.report,
                queue_url=r.queue_url or self.s.queue_url)
            handle.start.remote()
        except Exception as exc:
            self._failed(a, f"start failed: {exc}", node_lost=False)
            return
        self._handles[a.stream_id] = handle
        self._waits[a.stream_id] = handle.wait.remote()

    def _pipeline(self, name: str | None) -> PipelineConfig:
        if name not in self._cfgs:
            self._cfgs[name] = load_pipeline(name)
        return self._cfgs[name]

    def _offers(self, node_id: str, resource: str) -> bool:
        for n in ray.nodes():
            if n["NodeID"] == node_id:
                return resource in n.get("Resources", {})
        return False

    def _node_batchers(self, node_id: str) -> dict[str, ActorHandle]:
        """One batcher per enabled model family on ``node_id`` (created once, restarted by Ray)."""
        if node_id in self._batchers:
            return self._batchers[node_id]
        view = next(n for n in self._nodes if n.node_id == node_id)
        enabled = {"vision": self.cfg.vision.enabled, "ocr": self.cfg.ocr.enabled, "asr": self.cfg.asr.enabled}
        handles: dict[str, ActorHandle] = {}
        for family, on in enabled.items():
            if not on:
                continue
            res = _RESOURCE.get(family)
            gpus = getattr(self.cfg.batching, family).gpu_share if view.gpus > 0 else 0.0
            cls: Any = ray.remote(BatcherActor)
            handles[family] = cls.options(
                name=batcher_name(family, node_id), namespace=NAMESPACE, get_if_exists=True, lifetime="detached",
                num_cpus=0, num_gpus=gpus, max_restarts=-1, max_task_retries=-1, max_concurrency=1000,
                resources={res: 1} if res and self._offers(node_id, res) else {},
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
            ).remote(family, self.cfg, 256, "cuda" if gpus else "cpu")
        self._batchers[node_id] = handles
        return handles


def get_or_create_manager(settings: ManagerSettings) -> ActorHandle:
    """The detached manager actor (created on the head node when it offers ``moderation_head``)."""
    head = any(resources.HEAD in n.get("Resources", {}) for n in ray.nodes() if n.get("Alive"))
    cls: Any = ray.remote(StreamManager)
    handle: ActorHandle = cls.options(
        name=settings.name, namespace=NAMESPACE, get_if_exists=True, lifetime="detached", num_cpus=0,
        max_restarts=-1, max_task_retries=-1, max_concurrency=16,
        resources={resources.HEAD: 0.01} if head else {},
    ).remote(settings)
    return handle


__all__ = ["MANAGER_NAME", "NAMESPACE", "ManagerSettings", "StreamManager", "StreamRequest", "get_or_create_manager"]
