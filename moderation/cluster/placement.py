"""Stream placement and the manager's checkpoint: plain Python, no actors.

:func:`choose_node` picks the node a stream worker goes to: the node with the most free stream
slots (``stream_slots`` resource, or CPUs × ``streams_per_cpu`` where a node does not advertise
it), then the most GPUs, never the head while a worker node can take it; ``needs_gpu`` streams
only go to GPU nodes. Deterministic for the same inputs (ties by node id).

:class:`Checkpoint` keeps the manager's assignments in SQLite on storage every node can reach
(``/mnt/moderation/manager.sqlite`` on the cluster in ``ray_cluster.yaml``), written on every
change, so a restarted manager (Ray restarts it; or a new one with the same name) knows every
stream, the node it was on and how often it was restarted. ``":memory:"`` keeps the same table in
the manager's memory (``moderation serve`` without ``--checkpoint``): same code, nothing survives.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from moderation.cluster import resources
from moderation.pipeline.status import Steering, StreamSpec

AssignmentState = Literal["pending", "running", "ended", "failed", "stopped"]
ACTIVE: tuple[AssignmentState, ...] = ("pending", "running")


@dataclass(frozen=True)
class StreamRequest:
    """A stream the pool must watch (what ``moderation serve``'s control API receives)."""

    stream_id: str
    url: str
    pipeline: str | None = None  # preset name or YAML path, resolved on the worker's node
    queue_url: str | None = None  # review queue the verdicts are upserted into (idempotent)
    clips_dir: str | None = None  # shared storage for evidence clips
    report: str | None = None  # optional JSONL of the worker's verdicts
    needs_gpu: bool = False
    timeline_origin: float | None = None  # unix time of media t=0; fixed on add, kept across moves/restarts
    chat: str | None = None  # the stream's own chat feed (else live.chat_source)
    gifts: str | None = None  # the stream's own gift feed (else live.gift_source)
    app: str | None = None  # where it is published at the origin (a cut drops app/name)
    name: str | None = None
    steering: Steering | None = None  # profile, sampling and tier; updated when the standing changes
    meta: str | None = None  # room metadata (JSON object text); the latest PUT, so a restart checks that
    records: str | None = None  # the stream's records folder (else records.dir with records.enabled)

    def spec(self) -> StreamSpec:
        """What its worker follows (origin app/name from the request, else from an rtmp URL)."""
        base = StreamSpec.from_url(self.url, self.stream_id)
        return replace(
            base,
            app=self.app or base.app,
            name=self.name or base.name,
            timeline_origin=self.timeline_origin,
            chat=self.chat,
            gifts=self.gifts,
            steering=self.steering,
            meta=self.meta,
            records=self.records,
        )


@dataclass(frozen=True)
class Assignment:
    request: StreamRequest
    state: AssignmentState = "pending"
    node_id: str | None = None
    restarts: int = 0  # failures (crash, error, node loss) in a row; reset after a healthy run
    generation: int = 0  # worker starts so far; names each worker uniquely
    started_at: float = 0.0  # wall time the current worker was started
    not_before: float = 0.0  # monotonic-free: wall time before which a restart is not tried
    last_error: str | None = None
    moves: int = 0  # times the stream changed node

    @property
    def stream_id(self) -> str:
        return self.request.stream_id


@dataclass(frozen=True)
class NodeView:
    node_id: str
    cpus: float
    gpus: float
    slots: float
    is_head: bool


def node_views(nodes: Iterable[Mapping[str, Any]], streams_per_cpu: float) -> list[NodeView]:
    """Alive nodes from ``ray.nodes()`` as :class:`NodeView`."""
    out = []
    for n in nodes:
        if not n.get("Alive"):
            continue
        res = n.get("Resources", {})
        cpus = float(res.get("CPU", 0.0))
        slots = float(res[resources.STREAM_SLOTS]) if resources.STREAM_SLOTS in res else cpus * streams_per_cpu
        head = "node:__internal_head__" in res or resources.HEAD in res
        out.append(NodeView(n["NodeID"], cpus, float(res.get("GPU", 0.0)), slots, head))
    return out


def choose_node(
    nodes: Sequence[NodeView], load: Mapping[str, int], needs_gpu: bool = False, avoid: str | None = None
) -> str | None:
    """The node for one more stream, or None when no node has a free slot."""
    workers = [n for n in nodes if not n.is_head]
    cands = workers or list(nodes)
    if needs_gpu:
        cands = [n for n in cands if n.gpus > 0]

    def free(n: NodeView) -> float:
        return n.slots - load.get(n.node_id, 0)

    cands = [n for n in cands if free(n) >= 1]
    if avoid is not None and any(n.node_id != avoid for n in cands):
        cands = [n for n in cands if n.node_id != avoid]
    if not cands:
        return None
    return max(cands, key=lambda n: (free(n), n.gpus, n.node_id)).node_id


def backoff_s(restarts: int, initial: float, cap: float) -> float:
    return 0.0 if restarts <= 0 else min(cap, initial * 2 ** (restarts - 1))


#: The checkpoint path that keeps assignments in memory only.
MEMORY = ":memory:"


class Checkpoint:
    """SQLite table of assignments; every write is one committed transaction."""

    def __init__(self, path: str | Path) -> None:
        self.in_memory = str(path) == MEMORY
        self.path = Path(path)
        if not self.in_memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False)
        if not self.in_memory:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS assignments (stream_id TEXT PRIMARY KEY, data TEXT NOT NULL,"
            " updated REAL NOT NULL)"
        )
        self._db.commit()

    def save(self, a: Assignment) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO assignments VALUES (?, ?, ?)", (a.stream_id, json.dumps(asdict(a)), time.time())
            )
            self._db.commit()

    def load(self) -> dict[str, Assignment]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM assignments").fetchall()
        out = {}
        for (data,) in rows:
            d = json.loads(data)
            req = d["request"]
            steer = req.get("steering")
            req = {**req, "steering": Steering(**steer) if isinstance(steer, dict) else None}
            a = Assignment(**{**d, "request": StreamRequest(**req)})
            out[a.stream_id] = a
        return out

    def close(self) -> None:
        self._db.close()


__all__ = [
    "ACTIVE",
    "MEMORY",
    "Assignment",
    "Checkpoint",
    "NodeView",
    "StreamRequest",
    "backoff_s",
    "choose_node",
    "node_views",
]
