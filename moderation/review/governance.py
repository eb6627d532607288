"""The review store as the pool's :class:`~moderation.policy.governance.GovernanceSource`.

Everything is read from (and acknowledged into) the store's database, so a pool with several
origins, or a pool restarted, sees the same bans, tiers and pending actions. Synchronous, like the
protocol: the pool calls it from a worker thread.

``changed_since`` reads one index (``streamer_risk.changed_at``), which every tier change, tier
override, ban and lifted ban stamps. Its cursor is a time on the store's clock, and a transaction
stamped at ``t`` may commit a little later, after a poll has already read past ``t``; so the next
cursor never passes ``now - overlap_s``, and a change is re-delivered by the polls within
``overlap_s`` of it. Standings are whole states, so seeing one twice is harmless, while missing one
would not be. Decay (a tier falling with time) is written back on each poll first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from moderation.config.policy import PolicyConfig
from moderation.policy.governance import Ban, PendingAction, Standing
from moderation.policy.risk import RiskModel, StreamerRisk
from moderation.review import risk, schema
from moderation.review.db import insert_for, make_engine
from moderation.review.migrations import migrate
from moderation.review.queue_types import NotFound
from moderation.review.sanctions import active_bans

A = schema.actions
R = schema.streamer_risk
#: Who the audit log names for the pool's acknowledgements.
POOL_ACTOR = "pool"


class StoreGovernance:
    """:class:`~moderation.policy.governance.GovernanceSource` over a review store's engine."""

    def __init__(
        self,
        engine: sa.Engine,
        policy: PolicyConfig | None = None,
        *,
        clock: Callable[[], float] = time.time,
        overlap_s: float = 5.0,
        batch: int = 1000,
        action_lease_s: float = 30.0,
    ) -> None:
        self.engine = engine
        self.policy = policy or PolicyConfig()
        self.model = RiskModel(self.policy.risk)
        self.clock = clock
        self.overlap_s = overlap_s
        self.batch = batch
        self.action_lease_s = action_lease_s
        self._insert = insert_for(engine)

    @classmethod
    def open(cls, queue_url: str, policy: PolicyConfig | None = None) -> StoreGovernance:
        """Connect to the review store at ``queue_url`` (the ``--queue`` URL of ``moderation
        review``), migrating it to the latest schema first, as the pool's CLI wires it."""
        engine = make_engine(queue_url)
        migrate(engine)
        return cls(engine, policy)

    def _standing(self, r: StreamerRisk, ban: Ban | None, now: float) -> Standing:
        computed = self.model.current(r, now).tier
        tier = computed if r.override_tier is None else r.override_tier
        return Standing(
            streamer=r.streamer,
            tier=tier,
            profile=self.model.profile_for(tier),
            sampling=self.model.sampling_multiplier(tier),
            ban=ban,
            changed_at=r.changed_at,
        )

    def standing(self, streamer: str, now: float) -> Standing:
        """``streamer``'s standing at ``now``: tier (an admin's override, else the decayed computed
        tier), the profile and sampling that tier buys, and the active ban if any."""
        with self.engine.connect() as conn:
            r = risk.get_risk(conn, streamer)
            ban = active_bans(conn, [streamer], now).get(streamer)
        return self._standing(r, ban, now)

    def changed_since(self, cursor: float) -> tuple[float, list[Standing]]:
        """Standings whose tier, override or ban changed after ``cursor``, and the next cursor: the
        newest change returned (or, with a full batch, the last one), but never past
        ``now - overlap_s`` and never below ``cursor`` (see the module docstring)."""
        now = self.clock()
        with self.engine.begin() as conn:
            risk.refresh_decay(conn, self.model, now)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(R).where(R.c.changed_at > cursor).order_by(R.c.changed_at).limit(self.batch)
            ).all()
            risks = [risk.row_risk(r) for r in rows]
            bans = active_bans(conn, [r.streamer for r in risks], now)
        out = [self._standing(r, bans.get(r.streamer), now) for r in risks]
        newest = risks[-1].changed_at if len(risks) == self.batch else now
        return max(cursor, min(newest, now - self.overlap_s)), out

    def pending_actions(self, limit: int = 50) -> list[PendingAction]:
        """Queued warn/cut actions, oldest first, each claimed for ``action_lease_s``: several pools
        polling one store (several origins) never carry out the same action twice, and one a pool
        took but never finished (it crashed) is offered again once the claim lapses."""
        now = self.clock()
        free = sa.or_(A.c.claimed_until.is_(None), A.c.claimed_until < now)
        rows = (
            sa.select(A)
            .where(A.c.status == "queued", free)
            .order_by(A.c.id)
            .limit(max(1, min(limit, 1000)))
            .with_for_update(skip_locked=True)
        )
        with self.engine.begin() as conn:
            taken = list(conn.execute(rows))
            if taken:
                ids = [r.id for r in taken]
                conn.execute(sa.update(A).where(A.c.id.in_(ids)).values(claimed_until=now + self.action_lease_s))
        return [PendingAction(r.id, r.action, r.streamer, r.stream, r.item_id, r.reason, r.attempts) for r in taken]

    def finish_action(self, action_id: int, ok: bool, detail: str, now: float) -> None:
        """One attempt's outcome: success → ``done``; failure → one more attempt counted with its
        error, and ``failed`` once ``policy.penalties.max_attempts`` is reached. An action already
        finished (another pool got there first, or the penalty was reverted) is left as it is.
        Each outcome is an audit line on the action's item."""
        detail = str(detail)[:2000]
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(A).where(A.c.id == action_id).with_for_update()).first()
            if row is None:
                raise NotFound(f"action {action_id} does not exist")
            if row.status != "queued":
                return
            values: dict[str, Any]
            if ok:
                values = {"status": "done", "done_at": now}
                what = "action.done"
            else:
                attempts = row.attempts + 1
                failed = attempts >= self.policy.penalties.max_attempts
                values = {
                    "attempts": attempts,
                    "last_error": detail,
                    "status": "failed" if failed else "queued",
                    "claimed_until": None,  # free to be tried again (by any pool)
                }
                if failed:
                    values["done_at"] = now
                what = "action.failed" if failed else "action.retry"
            res = conn.execute(sa.update(A).where(A.c.id == action_id, A.c.status == "queued").values(**values))
            if res.rowcount != 1:
                return
            audit = {"action_id": action_id, "action": row.action, "stream": row.stream, "detail": detail}
            audit["attempts"] = values.get("attempts", row.attempts)
            conn.execute(
                sa.insert(schema.audit).values(at=now, actor=POOL_ACTOR, action=what, item_id=row.item_id, detail=audit)
            )
