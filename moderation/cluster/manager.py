"""The stream manager: a named Ray actor that places streams on nodes and keeps them running.

    mgr = get_or_create_manager(ClusterConfig(checkpoint="/mnt/moderation/manager.sqlite",
                                              queue_url="postgresql://…"), cfg)
    ray.get(mgr.add_stream.remote(StreamRequest("s1", "rtmp://origin/live/s1")))
    ray.get(mgr.assignments.remote())     # {stream_id: Assignment}
    ray.get(mgr.remove_stream.remote("s1"))

It is the one control plane on Ray: ``moderation serve`` (through
:class:`~moderation.cluster.managed_pool.ManagedPool`) always runs its streams here. Settings are
:class:`moderation.config.ClusterConfig`; ``cfg`` (the pipeline, command-line overrides
included) is what its batchers and streams run, ``cluster.pipeline`` loaded when none is given.

What it does (DESIGN.md §2, §8):

* **placement** — a new stream goes to the alive node with the most free stream slots (then most
  GPUs; never the head while a worker node has room), :func:`moderation.cluster.placement.choose_node`.
* **co-location** — on that node it makes sure one :class:`~moderation.cluster.actors.BatcherActor`
  per enabled model family runs (:mod:`moderation.cluster.colocate`), and starts the stream's
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
* **changes** — ``reconfigure`` (steering) and ``set_meta`` (room metadata) are kept in the
  stream's request, so a restarted or moved worker starts with them, and applied live
  (:mod:`moderation.cluster.manager_control`). Workers on one node share its replay index
  (:mod:`moderation.cluster.node_replay`).
* **metrics** — ``pool_snapshot`` (:mod:`moderation.cluster.manager_metrics`) answers ``GET /metrics``,
  streams it let go included (in memory: a manager restart starts the totals again at zero).
* **its own restarts** — state lives in a SQLite :class:`~moderation.cluster.placement.Checkpoint`
  on storage every node reaches, written *before* a worker is created (write-ahead), so a
  restarted manager (Ray restarts it: ``max_restarts=-1``; or a new one made with the same name)
  re-attaches to the workers still running (they are detached, named ``stream-<id>-g<gen>``) and
  restarts the rest. Without a checkpoint file (``cluster.checkpoint`` None) the checkpoint is in
  memory and the manager, its batchers and workers are ordinary (non-detached) actors: they end
  with the process that made the manager, as nothing could re-attach to them.
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
from ray.actor import ActorHandle

from moderation.cluster import manager_control, resources
from moderation.cluster.colocate import batcher_name, node_batchers, start_worker, worker_name
from moderation.cluster.placement import (
    ACTIVE,
    MEMORY,
    Assignment,
    Checkpoint,
    NodeView,
    StreamRequest,
    backoff_s,
    choose_node,
    node_views,
)
from moderation.config import ClusterConfig, PipelineConfig, load_pipeline
from moderation.config.cluster import MANAGER_NAME
from moderation.pipeline.metrics import StreamMetrics
from moderation.pipeline.pool_metrics import PoolMetrics, PoolSnapshot
from moderation.pipeline.status import Steering, StreamStatus
from moderation.pipeline.steering import stream_config

log = logging.getLogger(__name__)

NAMESPACE = "moderation"
#: Seconds a status request waits for a worker before answering with its last known status.
STATUS_WAIT_S = 2.0


class StreamManager:
    """The actor body; create it with :func:`get_or_create_manager`."""

    STATUS_WAIT_S = STATUS_WAIT_S

    def __init__(self, settings: ClusterConfig, cfg: PipelineConfig | None = None) -> None:
        self.s = settings
        self.cfg: PipelineConfig = cfg if cfg is not None else load_pipeline(settings.pipeline)
        self._cfgs: dict[str | None, PipelineConfig] = {None: self.cfg, settings.pipeline: self.cfg}
        self.ckpt = Checkpoint(settings.checkpoint or MEMORY)
        self._lifetime = None if settings.in_memory else "detached"  # in memory: ends with its owner
        self._lock = threading.RLock()
        self._state: dict[str, Assignment] = self.ckpt.load()
        self._waits: dict[str, Any] = {}  # stream_id → ObjectRef of worker.wait()
        self._handles: dict[str, Any] = {}
        self._last: dict[str, tuple[Any, StreamStatus]] = {}  # stream → (worker, its last status)
        self._batchers: dict[str, dict[str, ActorHandle]] = {}
        self._nodes: list[NodeView] = []
        self._metrics = PoolMetrics()  # counts of the streams let go; guarded by _lock
        self.recovered = self._reattach()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stream-manager", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ API (actor methods)
    def ping(self) -> dict[str, Any]:
        return {
            "node_id": ray.get_runtime_context().get_node_id(),
            "pid": os.getpid(),
            "recovered": self.recovered,
            "streams": len(self._state),
        }

    def add_stream(self, request: StreamRequest) -> Assignment:
        with self._lock:
            old = self._state.get(request.stream_id)
            if old is not None and old.state in ACTIVE:
                return old
            if request.timeline_origin is None:
                request = replace(request, timeline_origin=time.time())
            a = Assignment(request, generation=old.generation if old is not None else 0)  # names stay unique
            self._put(a)
            self._tick_locked()
            return self._state[request.stream_id]

    def remove_stream(self, stream_id: str) -> Assignment | None:
        with self._lock:
            a = self._state.get(stream_id)
            if a is None:
                return None
            handle = self._handles.pop(stream_id, None)
            before = self._metrics.let_go(stream_id, handle)
            self._waits.pop(stream_id, None)
            self._put(replace(a, state="stopped"))
        if handle is not None:
            with contextlib.suppress(Exception):
                ray.get(handle.stop.remote(), timeout=self.s.worker_stop_s)
            self._final_metrics(handle, before)
            ray.kill(handle, no_restart=True)
        return self._state[stream_id]

    def reconfigure(self, stream_id: str, steering: Steering) -> StreamStatus | None:
        """Re-steer a stream: kept in its request (a restarted or moved worker starts with it) and
        applied live to its worker (:mod:`moderation.pipeline.steering`); None when not active."""
        return manager_control.reconfigure(self, stream_id, steering)

    def set_meta(self, stream_id: str, meta_json: str) -> bool:
        """New room metadata: kept in its request and applied live; False when not active."""
        return manager_control.set_meta(self, stream_id, meta_json)

    def assignments(self) -> dict[str, Assignment]:
        with self._lock:
            return dict(self._state)

    def status(self, stream_id: str) -> StreamStatus | None:
        """The worker's status; None while the stream has no running worker (pending, ended).

        A worker still starting (or too busy to answer within ``STATUS_WAIT_S``) gives its last
        known status, so the control API answers at once instead of waiting on one stream.
        """
        handle = self._handles.get(stream_id)
        if handle is None:
            return None
        try:
            st: StreamStatus = ray.get(handle.status.remote(), timeout=STATUS_WAIT_S)
        except Exception:
            last = self._last.get(stream_id)
            return last[1] if last is not None and last[0] is handle else None
        self._last[stream_id] = (handle, st)
        return st

    def pool_snapshot(self) -> PoolSnapshot:
        """Everything ``GET /metrics`` shows (see :mod:`moderation.cluster.manager_metrics`)."""
        from moderation.cluster.manager_metrics import pool_snapshot  # reads this object: no cycle at import

        return pool_snapshot(self)

    def _final_metrics(self, handle: Any, before: StreamMetrics | None) -> None:
        from moderation.cluster.manager_metrics import final_metrics

        final_metrics(self, handle, before)

    def close(self) -> None:
        """Stop the health loop (workers keep running; a new manager re-attaches)."""
        self._closing.set()
        self._thread.join(timeout=5)

    def warm_up(self) -> dict[str, dict[str, float]]:
        """Start the batchers on every alive node and load their models (seconds per family and node)."""
        with self._lock:
            self._nodes = node_views(ray.nodes(), self.s.streams_per_cpu)
            handles = {n.node_id: self._node_batchers(n.node_id) for n in self._nodes}
        out: dict[str, dict[str, float]] = {}
        for node, fams in handles.items():
            took: list[float] = ray.get([h.warm_up.remote() for h in fams.values()])
            out[node] = dict(zip(fams, took, strict=True))
        return out

    def batchers(self) -> dict[str, dict[str, ActorHandle]]:
        """The batcher actors by node and family."""
        with self._lock:
            return {node: dict(fams) for node, fams in self._batchers.items()}

    def worker(self, stream_id: str) -> ActorHandle | None:
        """The running worker of a stream (None while it has none)."""
        return self._handles.get(stream_id)

    def shutdown(self) -> None:
        """Stop every stream and batcher (an in-memory manager's end; nothing would re-attach)."""
        self.close()
        for sid in list(self._state):
            if self._state[sid].state in ACTIVE:
                self.remove_stream(sid)
        with self._lock:
            for fams in self._batchers.values():
                for h in fams.values():
                    with contextlib.suppress(Exception):
                        ray.kill(h, no_restart=True)
            self._batchers.clear()

    # ------------------------------------------------------------------ internals
    def _put(self, a: Assignment) -> None:
        self._state[a.stream_id] = a
        self.ckpt.save(a)

    def _reattach(self) -> int:
        """After a restart: find the workers the checkpoint says are running (all probed at once).

        Only a worker that is gone (no such actor, or its probe failed) is started again. One that
        is merely slow to answer (a loaded node, a busy event loop) is re-attached all the same:
        starting a second worker beside it would analyse the stream twice, and if it is in fact
        dead, its ``wait()`` fails and the health loop restarts it like any crashed worker.
        """
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
        answered = set(ready)
        n = 0
        for sid, (handle, ref) in probes.items():
            if ref in answered:
                try:
                    ray.get(ref)
                except Exception as exc:  # the actor exists by name but its process is dead
                    log.warning("stream %s: worker lost while the manager was down (%s)", sid, type(exc).__name__)
                    self._put(replace(self._state[sid], state="pending", last_error="lost while the manager was down"))
                    continue
            else:
                log.info("stream %s: worker slow to answer after the manager restart; re-attached", sid)
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
            self._failed(
                a, f"worker died: {type(exc).__name__}", node_lost=a.node_id not in {n.node_id for n in self._nodes}
            )
            return
        handle = self._handles.pop(a.stream_id, None)
        if handle is not None:  # it answered wait(): its final counts are there to fetch
            self._final_metrics(handle, self._metrics.let_go(a.stream_id, handle))
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
        if handle is not None:  # dead or lost: what it last reported stays counted
            self._metrics.let_go(a.stream_id, handle)
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
        r = a.request
        try:
            cfg = stream_config(self._pipeline(r.pipeline), r.steering)  # the standing's profile and sampling
            queue = r.queue_url or self.s.queue_url
            handle = start_worker(self.s.name, a, cfg, self._node_batchers(node), NAMESPACE, self._lifetime, queue)
        except Exception as exc:
            self._failed(a, f"start failed: {exc}", node_lost=False)
            return
        self._handles[a.stream_id] = handle
        self._waits[a.stream_id] = handle.wait.remote()

    def _node_batchers(self, node_id: str) -> dict[str, ActorHandle]:
        """One batcher per enabled model family on ``node_id`` (created once, restarted by Ray)."""
        if node_id not in self._batchers:
            view = next(n for n in self._nodes if n.node_id == node_id)
            scope = self.s.name if self.s.in_memory else ""
            self._batchers[node_id] = node_batchers(self.cfg, view, NAMESPACE, scope, self._lifetime)
        return self._batchers[node_id]

    def _pipeline(self, name: str | None) -> PipelineConfig:
        if name not in self._cfgs:
            self._cfgs[name] = load_pipeline(name)
        return self._cfgs[name]


def get_or_create_manager(settings: ClusterConfig, cfg: PipelineConfig | None = None) -> ActorHandle:
    """The manager actor named ``settings.name`` (created on the head node when it offers
    ``moderation_head``; detached unless its checkpoint is in memory). An existing manager of that
    name is returned as it is: ``settings`` and ``cfg`` apply only when it is created."""
    head = any(resources.HEAD in n.get("Resources", {}) for n in ray.nodes() if n.get("Alive"))
    cls: Any = ray.remote(StreamManager)
    handle: ActorHandle = cls.options(
        name=settings.name,
        namespace=NAMESPACE,
        get_if_exists=True,
        lifetime=None if settings.in_memory else "detached",
        num_cpus=0,
        max_restarts=-1,
        max_task_retries=-1,
        max_concurrency=16,
        resources={resources.HEAD: 0.01} if head else {},
    ).remote(settings, cfg)
    return handle


__all__ = [
    "MANAGER_NAME",
    "NAMESPACE",
    "ClusterConfig",
    "StreamManager",
    "StreamRequest",
    "batcher_name",
    "get_or_create_manager",
    "worker_name",
]
