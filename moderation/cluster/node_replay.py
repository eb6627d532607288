"""The replay index on Ray: one :class:`~moderation.signals.replay_index.ReplayIndex` per node.

In-process (a :class:`~moderation.pipeline.pool.LocalPool`, a scan) every stream shares the
process's one index. On Ray each stream runs in an actor of its own, so the node keeps the index
in one named actor (:class:`NodeReplayActor`, ``replay-<node>``, pinned to the node like the
batchers of :mod:`moderation.cluster.colocate`) and every stream worker on the node talks to it
through a :class:`RemoteReplay`.

**Per node, not per cluster.** Streams on different nodes are not compared. One index per
cluster would put every keyframe of every stream on the network to one actor, and that actor
(one process, one core) would be a single point of failure and a bottleneck for the whole
cluster; per node, the traffic stays on the node like frames to the batchers, and a node with
``live.max_streams`` streams makes about one lookup per stream every ``replay_index.every_s``.
A replay from a stream on another node is caught only when both land on the same node.

**Off the frame path.** :meth:`RemoteReplay.observe` fingerprints a due keyframe where the frame
is (the analyser's worker thread, as in-process), puts ``(stream, t, hash, now)`` on a bounded
queue and returns at once with whatever signals the node's index sent back since the last call.
A thread of the worker sends the queue in batches every ``replay_index.node_flush_s``.
A full queue (``replay_index.node_queue``: the node actor is slow or restarting) drops the
keyframe and counts it (:meth:`RemoteReplay.stats`); a failed call drops its batch and counts it.
So a replay signal reaches the fuser one flush after its keyframe (its ``t`` is the run's start,
earlier still, as in-process). When the stream ends, its last keyframes and the end go in one
call and the pipeline's last step waits up to ``replay_index.node_end_wait_s`` for the tail of its
runs (a run shorter than ``signal_every_s`` has only its first signal and this tail, and
``synthetic_unlabeled`` needs two). A worker's counts: ``StreamWorker.replay_stats()``.

The node actor is restarted by Ray (``max_restarts=-1``) with an empty index: fingerprints of the
last ``horizon_h`` hours on that node are lost with its process.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
import ray
from ray.actor import ActorHandle
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from moderation.config import ReplayIndexConfig
from moderation.messages import Signal
from moderation.signals.replay_index import ReplayIndex, keyframe_hash

__all__ = ["NodeReplayActor", "RemoteReplay", "node_replay", "replay_name"]

log = logging.getLogger(__name__)

#: Seconds a call to the node's index may take before its batch counts as lost.
_CALL_S = 30.0

#: One keyframe for the node's index: (stream, media time, 64-bit hash or None for a flat frame, pool clock).
Key = tuple[str, float, int | None, float]


class NodeReplayActor:
    """The node's replay index; its calls run one at a time (the index needs no lock)."""

    def __init__(self, cfg: ReplayIndexConfig) -> None:
        self.index = ReplayIndex(cfg)
        self.keys = 0

    def observe(self, keys: Sequence[Key], ended: str | None = None) -> list[Signal]:
        """Look up and index a batch of keyframes in order; the replay signals they confirm. With
        ``ended`` that stream has ended after them: the tail of its runs too (its fingerprints stay)."""
        out: list[Signal] = []
        for stream, t, h, now in keys:
            self.keys += 1
            out += self.index.observe_keyframe(stream, t, h, now)
        if ended is not None:
            out += self.index.end_stream(ended)
        return out

    def stats(self) -> dict[str, float]:
        ix = self.index
        return {
            "keys": self.keys,
            "fingerprints": len(ix),
            "lookups": ix.lookups,
            "memory_bytes": ix.memory_bytes(),
        }


#: The node indexes this process (the stream manager) made, by name.
_held: dict[str, ActorHandle] = {}


def replay_name(node_id: str, scope: str = "") -> str:
    """Like :func:`moderation.cluster.colocate.batcher_name`: shared per node, ``scope`` (an
    in-memory manager's name) keeps that manager's index apart."""
    return f"replay-{node_id[:16]}" + (f"-{scope}" if scope else "")


def node_replay(
    cfg: ReplayIndexConfig, node_id: str, namespace: str, scope: str = "", lifetime: str | None = "detached"
) -> ActorHandle:
    """The node's replay index actor (made on first use; an existing one of the name is reused).

    The first handle is kept for this process's life: a non-detached actor ends when its
    creator's handle goes, and a handle got again by name is not the creator's."""
    name = replay_name(node_id, scope)
    if name in _held:
        return _held[name]
    cls: Any = ray.remote(NodeReplayActor)
    handle: ActorHandle = cls.options(
        name=name,
        namespace=namespace,
        get_if_exists=True,
        lifetime=lifetime,
        num_cpus=0,
        max_restarts=-1,
        max_task_retries=0,  # a lost batch is dropped and counted, not sent twice into the index
        max_concurrency=1,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
    ).remote(cfg)
    _held[name] = handle
    return handle


class RemoteReplay(ReplayIndex):
    """A stream worker's side of the node's index, where the pipeline expects its process's
    :class:`ReplayIndex` (same ``observe``/``end_stream``/``lock``/``cfg``; it indexes nothing
    itself: its own tables stay empty). A thread of its own sends the queue to the node."""

    def __init__(self, cfg: ReplayIndexConfig, node: ActorHandle) -> None:
        super().__init__(cfg)
        self.node = node
        self._queue: deque[Key] = deque()
        self._back: list[Signal] = []
        self._qlock = threading.Lock()  # observe runs in the analyser's threads, the sender in its own
        self._wake = threading.Event()
        self._done = threading.Event()
        self._ended: str | None = None  # the stream that ended: its runs end on the node after its last keys
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.dropped = 0
        self.failed = 0

    def observe(self, stream: str, t: float, image: np.ndarray, now: float | None = None) -> list[Signal]:
        """Queue a due keyframe for the node's index; the signals it sent back since the last call."""
        if self.due(stream, t):
            key = (stream, t, keyframe_hash(image), t if now is None else now)
            with self._qlock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=f"replay-{stream}", daemon=True)
                    self._thread.start()
                if len(self._queue) >= self.cfg.node_queue:
                    self.dropped += 1
                    if self.dropped == 1 or self.dropped % 100 == 0:
                        log.warning("%s: replay index queue full, %d keyframes dropped", stream, self.dropped)
                else:
                    self._queue.append(key)
        return self._take()

    def _take(self) -> list[Signal]:
        with self._qlock:
            out, self._back = self._back, []
        return out

    def end_stream(self, stream: str) -> list[Signal]:
        """The stream ended: its last keyframes go to the node, which ends its runs; waits up to
        ``node_end_wait_s`` for the tail signals (the pipeline's last step, not on the frame path)."""
        self._last_key.pop(stream, None)
        with self._qlock:
            self._ended = stream
            running = self._thread is not None
        if running:
            self._wake.set()
            if not self._done.wait(self.cfg.node_end_wait_s):
                log.warning("%s: node replay index did not answer at the end; its last signals are lost", stream)
        return self._take()

    def _send(self) -> bool:
        """One call with what is queued (and the end of the stream); False once the end was sent."""
        with self._qlock:
            batch = list(self._queue)
            self._queue.clear()
            ended = self._ended
        if batch or ended is not None:
            try:
                got: list[Signal] = ray.get(self.node.observe.remote(batch, ended), timeout=_CALL_S)
            except Exception as exc:  # node actor gone or restarting: this batch is lost, counted
                self.failed += len(batch)
                log.warning("replay index on this node failed a batch of %d: %s", len(batch), exc)
            else:
                self.sent += len(batch)
                with self._qlock:
                    self._back.extend(got)
        return ended is None

    def _run(self) -> None:
        try:
            while self._send():
                self._wake.wait(self.cfg.node_flush_s)
                self._wake.clear()
        finally:
            self._done.set()

    def stats(self) -> dict[str, int]:
        """Keyframes sent to the node's index, dropped on a full queue, lost in a failed call, waiting."""
        with self._qlock:
            waiting = len(self._queue)
        return {"sent": self.sent, "dropped": self.dropped, "failed": self.failed, "waiting": waiting}
