"""What the governance loop passes between the review store and the worker pool (POLICY.md:
分类分级管理, the ability to warn, cut and ban).

The review store decides (a reviewer confirms with a penalty, an admin bans or lifts a ban, a
tier moves); the pool acts (refuses a banned publish at ``on_publish``, cuts or warns through the
origin, re-samples a running stream at its new tier's profile). The two may run in different
processes and on different machines, so the store is the one place the state lives and the pool
reads it through :class:`GovernanceSource` — polling, so that a pool restart or a second origin
sees the same bans and tiers. Plain Python: the pool never imports the review package, the review
package implements this protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["ActionKind", "Ban", "GovernanceSource", "PendingAction", "Standing"]

#: What a pending action asks the pool to do at the origin.
ActionKind = Literal["warn", "cut"]


@dataclass(frozen=True)
class Ban:
    """A streamer barred from publishing until ``until`` (Unix time; None = permanently)."""

    streamer: str
    until: float | None
    reason: str
    by: str
    created_at: float

    def active(self, now: float) -> bool:
        return self.until is None or now < self.until


@dataclass(frozen=True)
class Standing:
    """A streamer's standing as the pool needs it: tier, the profile that tier (or an explicit
    override) maps to, the sampling multiplier, and an active ban if there is one."""

    streamer: str
    tier: int = 0
    profile: str = "default"
    sampling: float = 1.0
    ban: Ban | None = None
    changed_at: float = 0.0


@dataclass(frozen=True)
class PendingAction:
    """An action a decision asked for that the pool has not yet carried out successfully.

    ``stream`` is the pool's stream id of the decided item (the pool looks up where it is
    published); ``attempts`` counts failed tries so far (the store keeps retrying until
    ``max_attempts``, and the item shows each failure).
    """

    id: int
    action: ActionKind
    streamer: str
    stream: str
    item_id: int | None
    reason: str
    attempts: int = 0


class GovernanceSource(Protocol):
    """The pool's read/ack view of the review store's governance state (synchronous: the pool
    calls it from a worker thread)."""

    def standing(self, streamer: str, now: float) -> Standing:
        """``streamer``'s standing now (defaults for a streamer never decided on)."""
        ...

    def changed_since(self, cursor: float) -> tuple[float, list[Standing]]:
        """Standings whose tier, profile or ban changed after ``cursor``, and the next cursor."""
        ...

    def pending_actions(self, limit: int = 50) -> list[PendingAction]:
        """Actions not yet carried out (oldest first)."""
        ...

    def finish_action(self, action_id: int, ok: bool, detail: str, now: float) -> None:
        """Record one attempt's outcome (on the action, its item and the audit log)."""
        ...
