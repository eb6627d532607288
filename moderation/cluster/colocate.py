"""Co-location: one batcher actor per enabled model family on each node that runs streams.

Why a node's streams share its own batchers: frames and audio windows then never cross the
network for inference, and every stream on the node is batched together (the performance core).
Each batcher is named after its family and node (``batcher-<family>-<node>``), pinned to the node
with ``NodeAffinitySchedulingStrategy``, asks for the node's ``vision_batcher``/``asr_batcher``
resource where the node offers one and for ``batching.<family>.gpu_share`` of a GPU on GPU nodes,
and is restarted by Ray (``max_restarts=-1``) with its callers' calls retried. A stream's worker
(:func:`start_worker`) is pinned to the same node and handed those batchers, and, with
``replay_index.enabled``, the node's replay index (:mod:`moderation.cluster.node_replay`).
"""

from __future__ import annotations

from typing import Any

import ray
from ray.actor import ActorHandle
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from moderation.cluster import resources
from moderation.cluster.actors import BatcherActor, StreamWorker
from moderation.cluster.node_replay import node_replay
from moderation.cluster.placement import Assignment, NodeView
from moderation.config import PipelineConfig

__all__ = ["batcher_name", "node_batchers", "offers"]

_RESOURCE = {"vision": resources.VISION_BATCHER, "asr": resources.ASR_BATCHER}


def batcher_name(family: str, node_id: str, scope: str = "") -> str:
    """Shared by every persistent manager on the node; ``scope`` (an in-memory manager's name) keeps
    a manager's own batchers apart, so ending it never ends another's."""
    return f"batcher-{family}-{node_id[:16]}" + (f"-{scope}" if scope else "")


def offers(node_id: str, resource: str) -> bool:
    """Whether the node advertises ``resource``."""
    for n in ray.nodes():
        if n["NodeID"] == node_id:
            return resource in n.get("Resources", {})
    return False


def node_batchers(
    cfg: PipelineConfig, node: NodeView, namespace: str, scope: str = "", lifetime: str | None = "detached"
) -> dict[str, ActorHandle]:
    """The batchers of ``node`` for the families ``cfg`` enables (an existing one of the same name is reused)."""
    enabled = {"vision": cfg.vision.enabled, "ocr": cfg.ocr.enabled, "asr": cfg.asr.enabled}
    handles: dict[str, ActorHandle] = {}
    for family in (f for f, on in enabled.items() if on):
        res = _RESOURCE.get(family)
        gpus = getattr(cfg.batching, family).gpu_share if node.gpus > 0 else 0.0
        cls: Any = ray.remote(BatcherActor)
        handles[family] = cls.options(
            name=batcher_name(family, node.node_id, scope),
            namespace=namespace,
            get_if_exists=True,
            lifetime=lifetime,
            num_cpus=0,
            num_gpus=gpus,
            max_restarts=-1,
            max_task_retries=-1,
            max_concurrency=1000,
            resources={res: 1} if res and offers(node.node_id, res) else {},
            scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id, soft=False),
        ).remote(family, cfg, None, "cuda" if gpus else "cpu")  # its queue bound: cfg.batching
    return handles


def worker_name(manager: str, a: Assignment) -> str:
    """Unique per start of a stream, so a replacement never waits for a dead worker's name."""
    return f"{manager}/stream-{a.stream_id}-g{a.generation}"


def start_worker(
    manager: str,
    a: Assignment,
    cfg: PipelineConfig,
    batchers: dict[str, ActorHandle],
    namespace: str,
    lifetime: str | None,
    queue_url: str | None,
) -> ActorHandle:
    """Start ``a``'s :class:`StreamWorker` on its node (``a.node_id``) with that node's batchers;
    it takes a stream slot where the node offers them, and is never restarted by Ray (the manager
    decides restarts, with backoff)."""
    assert a.node_id is not None
    opts: dict[str, Any] = {
        "name": worker_name(manager, a),
        "namespace": namespace,
        "lifetime": lifetime,
        "num_cpus": 0,
        "max_restarts": 0,
        "max_concurrency": 64,
        "scheduling_strategy": NodeAffinitySchedulingStrategy(a.node_id, soft=False),
    }
    if offers(a.node_id, resources.STREAM_SLOTS):
        opts["resources"] = {resources.STREAM_SLOTS: 1}
    replay = None
    if cfg.replay_index.enabled:  # scoped like an in-memory manager's batchers (its lifetime is None)
        replay = node_replay(cfg.replay_index, a.node_id, namespace, manager if lifetime is None else "", lifetime)
    cls: Any = ray.remote(StreamWorker)
    r = a.request
    handle: ActorHandle = cls.options(**opts).remote(
        r.spec(), cfg, batchers, clips_dir=r.clips_dir, report=r.report, queue_url=queue_url, replay=replay
    )
    handle.start.remote()
    return handle
