"""Admin governance actions of the review store: ban, lift a ban, override a tier, revert a
penalty — each with a reason, audited, in one transaction — and the enforcement view of items.

A mixin of ``ReviewStore`` (like ``StoreReads``) so ``store.py`` keeps the queue's transitions.
Bad input is an ``Invalid``/``NotFound``/``Conflict`` (a 4xx in the API) naming what was wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from moderation.config.penalties import PenaltyChoice
from moderation.config.policy import PolicyConfig
from moderation.policy.governance import Ban
from moderation.policy.risk import RiskModel, StreamerRisk
from moderation.review import penalties, risk, schema
from moderation.review.queue_types import MAX_ID, Conflict, Invalid, NotFound, no_nul
from moderation.review.records import Item

I = schema.items  # noqa: E741 - same alias as in store.py
B = schema.bans
A = schema.actions
R = schema.streamer_risk
#: Longest timed ban an admin may give (days); longer is a permanent ban.
MAX_BAN_DAYS = 3650.0


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise Invalid("a reason is required")
    if len(text) > 2000:
        raise Invalid("reason is longer than 2000 characters")
    no_nul(reason=text)
    return text


def _streamer(streamer: str) -> str:
    if not streamer or len(streamer) > 200:
        raise Invalid("streamer must be 1 to 200 characters")
    no_nul(streamer=streamer)
    return streamer


def ban_of(row: Any) -> Ban:
    return Ban(row.streamer, row.until, row.reason, row.banned_by, row.created_at)


def active_bans(conn: sa.Connection, streamers: Iterable[str], now: float) -> dict[str, Ban]:
    """The active ban of each streamer that has one (a permanent one first, else the longest)."""
    names = list(streamers)
    if not names:
        return {}
    rows = conn.execute(
        sa.select(B)
        .where(B.c.streamer.in_(names), B.c.lifted_at.is_(None), sa.or_(B.c.until.is_(None), B.c.until > now))
        .order_by(B.c.streamer, sa.case((B.c.until.is_(None), 0), else_=1), B.c.until.desc())
    )
    out: dict[str, Ban] = {}
    for r in rows:
        out.setdefault(r.streamer, ban_of(r))
    return out


def _auto_entries(item: Item) -> list[dict[str, Any]]:
    """Enforcement the pool took on its own, as the record carries it (``enforcement``)."""
    raw = item.record.get("enforcement")
    entries = raw if isinstance(raw, list) else [raw] if raw else []
    out: list[dict[str, Any]] = []
    for e in entries[:20]:
        if isinstance(e, str):
            out.append({"action": e, "at": None, "by": "pool", "result": "reported", "error": None})
        elif isinstance(e, dict):
            ok = e.get("ok")
            result = e.get("result") or ("done" if ok is True else "failed" if ok is False else "reported")
            out.append(
                {
                    "action": str(e.get("action", "?")),
                    "at": e.get("at", e.get("t")),
                    "by": str(e.get("by") or "pool"),
                    "result": str(result),
                    "error": e.get("detail") if ok is False else None,
                }
            )
    return out


class GovernanceAdmin:
    """Needs ``engine``, ``clock``, ``_insert``, ``_audit``, ``policy``, ``risk_model`` and ``get``."""

    engine: sa.Engine
    clock: Callable[[], float]
    _insert: Any
    _audit: Callable[..., None]
    policy: PolicyConfig
    risk_model: RiskModel
    get: Callable[[int], Item]

    # -- reads -----------------------------------------------------------------------------------

    def active_ban(self, streamer: str) -> Ban | None:
        with self.engine.connect() as conn:
            return active_bans(conn, [streamer], self.clock()).get(streamer)

    def active_bans_of(self, streamers: Iterable[str]) -> dict[str, Ban]:
        with self.engine.connect() as conn:
            return active_bans(conn, streamers, self.clock())

    def enforcement(self, items: Iterable[Item]) -> dict[int, list[dict[str, Any]]]:
        """Per item: what was done about it — the pool's own enforcement (from the record), the
        review penalty's ban and the warn/cut actions with their status (queued / done / failed /
        cancelled, attempts, last error)."""
        items = list(items)
        review = self._review_entries(items)
        return {i.id: _auto_entries(i) + review.get(i.id, []) for i in items}

    def penalty_steps(self, item: Item) -> list[dict[str, Any]]:
        """What the review penalty of ``item`` led to: its ban and actions, with their status."""
        return self._review_entries([item]).get(item.id, [])

    def _review_entries(self, items: list[Item]) -> dict[int, list[dict[str, Any]]]:
        by_id = {i.id: i for i in items}
        out: dict[int, list[dict[str, Any]]] = {i: [] for i in by_id}
        ids = [i for i, it in by_id.items() if it.penalty]
        if not ids:
            return out
        with self.engine.connect() as conn:
            bans = {r.id: r for r in conn.execute(sa.select(B).where(B.c.item_id.in_(ids)))}
            acts = conn.execute(sa.select(A).where(A.c.item_id.in_(ids)).order_by(A.c.id)).all()
        now = self.clock()
        for b in bans.values():
            it = by_id[b.item_id]
            state = "lifted" if b.lifted_at is not None else "active" if b.until is None or b.until > now else "expired"
            out[it.id].append(
                {"action": it.penalty, "at": b.created_at, "by": b.banned_by, "result": state, "until": b.until}
            )
        for a in acts:
            out[a.item_id].append(
                {
                    "action": a.action,
                    "at": a.done_at if a.done_at is not None else a.created_at,
                    "by": by_id[a.item_id].decided_by,
                    "result": a.status,
                    "attempts": a.attempts,
                    "error": a.last_error,
                    "action_id": a.id,
                }
            )
        return out

    def public_items(self, items: list[Item]) -> list[dict[str, Any]]:
        """``Item.public`` with each item's ``enforcement`` (see :meth:`enforcement`)."""
        now = self.clock()
        enf = self.enforcement(items)
        return [{**i.public(now), "enforcement": enf.get(i.id, [])} for i in items]

    def penalty_choice(self, item: Item, category: str | None = None) -> PenaltyChoice:
        """The penalties a confirmation of ``item`` (as ``category``, default its own) may carry."""
        return self.policy.penalties.choice(category or item.category, item.severity, item.subject)

    def risk_view(self, limit: int = 500) -> list[dict[str, Any]]:
        """Each streamer's standing as the pool applies it: the tier (an admin's override, else the
        computed tier decayed to now), its name, profile and sampling multiplier, the override with
        its reason, the counts, and the active ban."""
        now = self.clock()
        with self.engine.connect() as conn:
            rows = risk.list_risk(conn, limit)
            bans = active_bans(conn, [r.streamer for r in rows], now)
        m = self.risk_model
        out = []
        for r in rows:
            computed = m.current(r, now).tier
            tier = computed if r.override_tier is None else r.override_tier
            ban = bans.get(r.streamer)
            out.append(
                {
                    "streamer": r.streamer,
                    "tier": tier,
                    "tier_name": m.tier(tier).name,
                    "computed_tier": computed,
                    "profile": m.profile_for(tier),
                    "sampling": m.sampling_multiplier(tier),
                    "override_tier": r.override_tier,
                    "override_reason": r.override_reason if r.override_tier is not None else None,
                    "override_by": r.override_by if r.override_tier is not None else None,
                    "confirmed": r.confirmed,
                    "dismissed": r.dismissed,
                    "escalated": r.escalated,
                    "changed_at": r.changed_at,
                    "ban": None if ban is None else {**ban.__dict__},
                }
            )
        return out

    # -- admin actions ------------------------------------------------------------------------

    def _known(self, conn: sa.Connection, streamer: str) -> bool:
        seen = conn.execute(sa.select(R.c.streamer).where(R.c.streamer == streamer)).first()
        return (
            seen is not None
            or conn.execute(sa.select(I.c.id).where(I.c.streamer == streamer).limit(1)).first() is not None
        )

    def ban_streamer(
        self, streamer: str, by: str, reason: str, *, days: float | None = None, force: bool = False
    ) -> Ban:
        """Bar ``streamer`` from publishing for ``days`` (None: permanently). A streamer the store
        has never seen is refused unless ``force`` (a typo would otherwise ban nobody silently)."""
        streamer, text = _streamer(streamer), _reason(reason)
        if days is not None and not 0 < days <= MAX_BAN_DAYS:
            raise Invalid(f"days must be more than 0 and at most {MAX_BAN_DAYS:g} (omit it for a permanent ban)")
        now = self.clock()
        until = None if days is None else now + days * penalties.DAY
        with self.engine.begin() as conn:
            if not force and not self._known(conn, streamer):
                raise NotFound(
                    f"streamer {streamer[:200]!r} has never been seen by this store; pass force to ban anyway"
                )
            ban_id = penalties.add_ban(conn, self._insert, streamer=streamer, until=until, reason=text, by=by, now=now)
            self._audit(
                conn, by, "ban", None, {"streamer": streamer, "until": until, "reason": text, "ban_id": ban_id}, now
            )
        return Ban(streamer, until, text, by, now)

    def lift_ban(self, streamer: str, by: str, reason: str, *, appeal: bool = False) -> int:
        """Lift every active ban of ``streamer`` (an unban, or an upheld appeal); return how many."""
        streamer, text = _streamer(streamer), _reason(reason)
        now = self.clock()
        with self.engine.begin() as conn:
            n = self._lift(conn, sa.and_(B.c.streamer == streamer), by, text, now)
            if not n:
                raise Conflict(f"streamer {streamer[:200]!r} has no active ban")
            penalties.touch(conn, self._insert, streamer, now)
            action = "appeal.upheld" if appeal else "ban.lift"
            self._audit(conn, by, action, None, {"streamer": streamer, "reason": text, "bans": n}, now)
        return n

    @staticmethod
    def _lift(conn: sa.Connection, which: sa.ColumnElement[bool], by: str, reason: str, now: float) -> int:
        live = sa.and_(which, B.c.lifted_at.is_(None), sa.or_(B.c.until.is_(None), B.c.until > now))
        res = conn.execute(sa.update(B).where(live).values(lifted_at=now, lifted_by=by, lift_reason=reason))
        return int(res.rowcount)

    def override_tier(self, streamer: str, tier: int | None, by: str, reason: str) -> StreamerRisk:
        """Set (or with ``tier=None`` clear) an admin's tier for ``streamer``; it wins over the
        computed tier, and the pool re-samples the streamer's running streams at it."""
        streamer, text = _streamer(streamer), _reason(reason)
        top = self.risk_model.max_tier
        if tier is not None and not 0 <= tier <= top:
            raise Invalid(f"tier must be from 0 to {top} (or omitted to clear the override)")
        now = self.clock()
        with self.engine.begin() as conn:
            if not self._known(conn, streamer):
                raise NotFound(f"streamer {streamer[:200]!r} has never been seen by this store")
            cur = risk.ensure_row(conn, self._insert, streamer, now)
            conn.execute(
                sa.update(R)
                .where(R.c.streamer == streamer)
                .values(override_tier=tier, override_reason=text, override_by=by, changed_at=now)
            )
            computed = self.risk_model.current(cur, now).tier
            risk.copy_tier_to_open_items(conn, streamer, computed if tier is None else tier)
            detail = {
                "streamer": streamer,
                "tier": tier,
                "was": cur.override_tier,
                "computed": computed,
                "reason": text,
            }
            self._audit(conn, by, "tier.override", None, detail, now)
            return risk.get_risk(conn, streamer)

    def revert_penalty(self, item_id: int, by: str, reason: str) -> Item:
        """Undo a confirmation's penalty: lift the ban it created, cancel its actions not yet
        carried out (a stream already cut stays cut). The decision itself stands."""
        text = _reason(reason)
        if not 1 <= item_id <= MAX_ID:
            raise NotFound(f"item {item_id} does not exist")
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(I).where(I.c.id == item_id).with_for_update()).first()
            if row is None:
                raise NotFound(f"item {item_id} does not exist")
            item = Item(**row._mapping)
            if item.penalty is None or item.penalty == "none":
                raise Conflict(f"item {item_id} has no penalty to revert")
            if item.penalty_reverted_at is not None:
                raise Conflict(f"item {item_id}'s penalty was already reverted")
            lifted = self._lift(conn, B.c.item_id == item_id, by, text, now)
            if item.ban_id is not None:
                penalties.touch(conn, self._insert, item.streamer, now)
            cancelled = conn.execute(
                sa.update(A)
                .where(A.c.item_id == item_id, A.c.status == "queued")
                .values(status="cancelled", last_error=f"penalty reverted by {by}: {text}"[:2000], done_at=now)
            ).rowcount
            conn.execute(sa.update(I).where(I.c.id == item_id).values(penalty_reverted_at=now, updated_at=now))
            detail = {"penalty": item.penalty, "reason": text, "bans_lifted": lifted, "actions_cancelled": cancelled}
            self._audit(conn, by, "penalty.revert", item_id, detail, now)
        return self.get(item_id)
