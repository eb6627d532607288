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
A task on the worker's event loop sends the queue in batches every ``replay_index.node_flush_s``.
A full queue (``replay_index.node_queue``: the node actor is slow or restarting) drops the
keyframe and counts it (:meth:`RemoteReplay.stats`); a failed call drops its batch and counts it.
So a replay signal reaches the fuser one flush after its keyframe (its ``t`` is the run's start,
earlier still, as in-process). The tail of a run after its last periodic signal is not reported
when the stream ends (the end of the stream cannot wait on the node actor).

The node actor is restarted by Ray (``max_restarts=-1``) with an empty index: fingerprints of the
last ``horizon_h`` hours on that node are lost with its process.
"""

from __future__ import annotations

import asyncio
import contextlib
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

#: One keyframe for the node's index: (stream, media time, 64-bit hash or None for a flat frame, pool clock).
Key = tuple[str, float, int | None, float]


class NodeReplayActor:
    """The node's replay index; its calls run one at a time (the index needs no lock)."""

    def __init__(self, cfg: ReplayIndexConfig) -> None:
        self.index = ReplayIndex(cfg)
        self.keys = 0

    def observe(self, keys: Sequence[Key]) -> list[Signal]:
        """Look up and index a batch of keyframes in order; the replay signals they confirm."""
        out: list[Signal] = []
        for stream, t, h, now in keys:
            self.keys += 1
            out += self.index.observe_keyframe(stream, t, h, now)
        return out

    def end_stream(self, stream: str) -> list[Signal]:
        """The stream ended: its runs end (its fingerprints stay indexed)."""
        return self.index.end_stream(stream)

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
    """The node's replay index actor (made on first use; an existing one of the name is reused)."""
    cls: Any = ray.remote(NodeReplayActor)
    handle: ActorHandle = cls.options(
        name=replay_name(node_id, scope),
        namespace=namespace,
        get_if_exists=True,
        lifetime=lifetime,
        num_cpus=0,
        max_restarts=-1,
        max_task_retries=0,  # a lost batch is dropped and counted, not sent twice into the index
        max_concurrency=1,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
    ).remote(cfg)
    _held[replay_name(node_id, scope)] = handle  # a non-detached actor lives while its creator holds it
    return handle


class RemoteReplay(ReplayIndex):
    """A stream worker's side of the node's index, where the pipeline expects its process's
    :class:`ReplayIndex` (same ``observe``/``end_stream``/``lock``/``cfg``; it indexes nothing
    itself: its own tables stay empty). Call :meth:`run` as a task on the worker's event loop."""

    def __init__(self, cfg: ReplayIndexConfig, node: ActorHandle) -> None:
        super().__init__(cfg)
        self.node = node
        self._queue: deque[Key] = deque()
        self._back: list[Signal] = []
        self._qlock = threading.Lock()  # observe runs in the analyser's threads, run() on the loop
        self._ended: str | None = None  # the stream that ended: its runs end on the node after its last keys
        self._closed = False
        self.sent = 0
        self.dropped = 0
        self.failed = 0

    def observe(self, stream: str, t: float, image: np.ndarray, now: float | None = None) -> list[Signal]:
        """Queue a due keyframe for the node's index; the signals it sent back since the last call."""
        if self.due(stream, t):
            key = (stream, t, keyframe_hash(image), t if now is None else now)
            with self._qlock:
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
        """What came back so far; the node ends the stream's runs after its last keyframes (sent by :meth:`run`)."""
        self._last_key.pop(stream, None)
        with self._qlock:
            self._ended = stream
        return self._take()

    async def flush(self) -> None:
        """Send what is queued (one call) and keep the signals that come back."""
        with self._qlock:
            batch = list(self._queue)
            self._queue.clear()
            ended = self._ended
        if batch:
            try:
                got: list[Signal] = await self.node.observe.remote(batch)
            except Exception as exc:  # node actor gone or restarting: this batch is lost, counted
                self.failed += len(batch)
                log.warning("replay index on this node failed a batch of %d: %s", len(batch), exc)
            else:
                self.sent += len(batch)
                with self._qlock:
                    self._back.extend(got)
        if ended is not None and not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                await self.node.end_stream.remote(ended)

    async def run(self) -> None:
        """Flush every ``node_flush_s`` until cancelled (then once more)."""
        try:
            while not self._closed:
                await asyncio.sleep(self.cfg.node_flush_s)
                await self.flush()
        finally:
            if not self._closed:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.flush())

    def stats(self) -> dict[str, int]:
        """Keyframes sent to the node's index, dropped on a full queue, lost in a failed call, waiting."""
        with self._qlock:
            waiting = len(self._queue)
        return {"sent": self.sent, "dropped": self.dropped, "failed": self.failed, "waiting": waiting}
