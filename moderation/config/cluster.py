"""How the stream manager runs on Ray (``moderation serve`` without ``--local``).

One control plane: every Ray-hosted stream is placed and supervised by the manager
(``moderation/cluster/manager.py``). Its assignments go to a SQLite checkpoint; with a
``checkpoint`` on storage every node reaches, a restarted manager (or API process) finds every
stream again; without one the checkpoint lives in the manager's memory and nothing outlives it.
"""

from __future__ import annotations

from pydantic import Field

from moderation.config._base import _Strict

#: Name of the manager actor when none is given (one manager per name).
MANAGER_NAME = "stream-manager"


class ClusterConfig(_Strict):
    """The stream manager's settings (placement, restarts, checkpoint)."""

    checkpoint: str | None = Field(
        None, description="SQLite file on storage every node can reach; None = in memory (lost with the manager)."
    )
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

    @property
    def in_memory(self) -> bool:
        """Whether the assignments die with the manager (no checkpoint file)."""
        return self.checkpoint is None or self.checkpoint == ":memory:"
