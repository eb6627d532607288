"""An in-memory :class:`~moderation.policy.governance.GovernanceSource` for tests: what the review
store decides (bans, tiers, pending actions), held in dicts and read by the pool the same way."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from moderation.policy.governance import ActionKind, Ban, PendingAction, Standing


@dataclass
class Outcome:
    action_id: int
    ok: bool
    detail: str
    at: float


class MemoryGovernance:
    """Standings by streamer; pending actions retried until ``max_attempts`` failed tries."""

    def __init__(self, max_attempts: int = 3) -> None:
        self._lock = threading.Lock()
        self._standings: dict[str, Standing] = {}
        self._actions: dict[int, PendingAction] = {}
        self._next_id = 1
        self.max_attempts = max_attempts
        self.outcomes: list[Outcome] = []
        self.fail_reads = False  # the store is down: every read raises

    def _check(self) -> None:
        if self.fail_reads:
            raise ConnectionError("review store unreachable")

    def set_standing(self, streamer: str, **changes: object) -> Standing:
        """Change ``streamer``'s standing (tier, profile, sampling, ban); stamped now."""
        with self._lock:
            old = self._standings.get(streamer, Standing(streamer))
            new = replace(old, **changes, changed_at=time.time())  # type: ignore[arg-type]
            self._standings[streamer] = new
            return new

    def ban(self, streamer: str, until: float | None, reason: str = "repeated gambling") -> Standing:
        return self.set_standing(streamer, ban=Ban(streamer, until, reason, "admin", time.time()))

    def add_action(self, action: ActionKind, stream: str, reason: str = "confirmed", item_id: int | None = 7) -> int:
        with self._lock:
            aid = self._next_id
            self._next_id += 1
            self._actions[aid] = PendingAction(aid, action, stream, stream, item_id, reason)
            return aid

    # ------------------------------------------------------------------ the protocol
    def standing(self, streamer: str, now: float) -> Standing:
        self._check()
        with self._lock:
            st = self._standings.get(streamer, Standing(streamer))
        if st.ban is not None and not st.ban.active(now):
            st = replace(st, ban=None)
        return st

    def changed_since(self, cursor: float) -> tuple[float, list[Standing]]:
        self._check()
        with self._lock:
            changed = [s for s in self._standings.values() if s.changed_at > cursor]
        return max([cursor, *(s.changed_at for s in changed)]), changed

    def pending_actions(self, limit: int = 50) -> list[PendingAction]:
        self._check()
        with self._lock:
            return sorted(self._actions.values(), key=lambda a: a.id)[:limit]

    def finish_action(self, action_id: int, ok: bool, detail: str, now: float) -> None:
        with self._lock:
            self.outcomes.append(Outcome(action_id, ok, detail, now))
            a = self._actions.get(action_id)
            if a is None:
                return
            if ok or a.attempts + 1 >= self.max_attempts:
                del self._actions[action_id]
            else:
                self._actions[action_id] = replace(a, attempts=a.attempts + 1)

    def pending_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._actions)
