"""The governance loop's store side over SQLite and PostgreSQL: a confirmation's penalty with its
ban, actions and audit in one transaction; the store as GovernanceSource (standing, changes,
pending actions and their outcomes); admin bans, lifts, tier overrides and penalty reverts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from review_factories import Clock, verdict

from moderation.config import PolicyConfig
from moderation.policy.governance import GovernanceSource
from moderation.review import schema
from moderation.review.governance import StoreGovernance
from moderation.review.store import Conflict, Invalid, NotFound, ReviewStore

DAY = 86400.0


def _count(store: ReviewStore, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _gov(store: ReviewStore, clock: Clock) -> StoreGovernance:
    return StoreGovernance(store.engine, store.policy, clock=clock)


def test_confirm_with_a_ban_writes_decision_ban_action_and_audit_together(store: ReviewStore, clock: Clock) -> None:
    item = store.upsert_verdict(verdict(streamer="alice")).item_id  # gambling, high
    done = store.decide(item, "ann", "confirm", penalty="ban", ban_days=3, note="casino ads")
    assert (done.status, done.penalty, done.ban_id) == ("confirmed", "ban", done.ban_id) and done.ban_id
    ban = store.active_ban("alice")
    assert ban is not None and ban.until == pytest.approx(clock() + 3 * DAY) and ban.by == "ann"
    assert "casino ads" in ban.reason
    gov = _gov(store, clock)
    [act] = gov.pending_actions()
    assert (act.action, act.stream, act.streamer, act.item_id, act.attempts) == ("cut", "s1", "alice", item, 0)
    entry = store.audit_log(item_id=item)[0]
    assert entry.action == "confirm" and entry.actor == "ann"
    assert entry.detail["penalty"] == "ban" and entry.detail["ban_id"] == done.ban_id
    assert entry.detail["action_id"] == act.id and entry.detail["note"] == "casino ads"
    steps = store.penalty_steps(done)
    assert [(s["action"], s["result"]) for s in steps] == [("ban", "active"), ("cut", "queued")]


def test_a_refused_penalty_leaves_nothing_behind(store: ReviewStore) -> None:
    item = store.upsert_verdict(verdict(streamer="alice")).item_id
    with pytest.raises(Invalid, match=r"penalty 'warn' is not allowed for a high gambling item; allowed: cut, ban"):
        store.decide(item, "ann", "confirm", penalty="warn")
    with pytest.raises(Invalid, match="ban_days goes with the penalty 'ban' only"):
        store.decide(item, "ann", "confirm", penalty="cut", ban_days=2)
    with pytest.raises(Invalid, match="at most 365"):
        store.decide(item, "ann", "confirm", penalty="ban", ban_days=400)
    with pytest.raises(Invalid, match="a penalty goes with confirm only"):
        store.decide(item, "ann", "dismiss", penalty="cut", note="fine")
    assert store.get(item).status == "open" and store.get(item).penalty is None
    assert _count(store, schema.bans) == _count(store, schema.actions) == 0
    assert store.streamer_risk("alice").confirmed == 0


def test_default_penalty_and_viewer_items_only_none_or_warn(store: ReviewStore, clock: Clock) -> None:
    low = store.upsert_verdict(verdict(streamer="bob", category="vulgar", severity="low", start=1.0)).item_id
    assert store.decide(low, "ann", "confirm").penalty == "warn"  # the policy's default for vulgar/low
    chat = verdict(streamer="bob", severity="high", start=50.0, subject={"kind": "viewer", "id": "v9"})
    viewer = store.upsert_verdict(chat).item_id
    with pytest.raises(Invalid, match="about a viewer; allowed: none, warn"):
        store.decide(viewer, "ann", "confirm", penalty="ban")
    assert store.decide(viewer, "ann", "confirm").penalty == "none"
    assert [a.action for a in _gov(store, clock).pending_actions()] == ["warn"]
    assert store.active_ban("bob") is None


def test_governance_source_standing_and_changes(store: ReviewStore, queue_url: str, clock: Clock) -> None:
    gov: GovernanceSource = _gov(store, clock)  # mypy checks the store implements the protocol
    fresh = gov.standing("nobody", clock())
    assert (fresh.tier, fresh.profile, fresh.sampling, fresh.ban) == (0, "default", 1.0, None)
    cursor, changed = gov.changed_since(0.0)
    assert changed == [] and cursor == clock() - 5.0  # never past now - overlap_s
    clock.advance(10)
    item = store.upsert_verdict(verdict(streamer="alice")).item_id
    store.decide(item, "ann", "confirm", penalty="ban", ban_days=7)
    changed_at = clock()
    st = gov.standing("alice", clock())
    assert (st.tier, st.profile, st.sampling) == (2, "strict", 2.0)  # high: +2 → "elevated"
    assert st.ban is not None and st.ban.active(clock()) and not st.ban.active(clock() + 8 * DAY)
    cursor, changed = gov.changed_since(cursor)
    assert [(s.streamer, s.changed_at) for s in changed] == [("alice", changed_at)] and changed[0].ban is not None
    assert cursor == clock() - 5.0
    clock.advance(60)  # a poll within the overlap of the change sees it again, the next one does not
    cursor, changed = gov.changed_since(cursor)
    assert [s.streamer for s in changed] == ["alice"] and cursor == clock() - 5.0
    assert gov.changed_since(cursor) == (clock() - 5.0, [])
    # A second pool (another engine on the same database) sees the same state.
    other = StoreGovernance.open(queue_url, PolicyConfig())
    assert other.standing("alice", clock()) == gov.standing("alice", clock())
    assert [a.id for a in other.pending_actions()] == [a.id for a in gov.pending_actions()] != []
    other.engine.dispose()


def test_finish_action_retries_until_max_attempts_then_fails(store: ReviewStore, clock: Clock) -> None:
    policy = PolicyConfig.model_validate({"penalties": {"max_attempts": 2}})
    gov = StoreGovernance(store.engine, policy, clock=clock)
    a = store.upsert_verdict(verdict(streamer="alice", start=1.0)).item_id
    b = store.upsert_verdict(verdict(streamer="bob", start=30.0, stream="s2")).item_id
    store.decide(a, "ann", "confirm", penalty="cut")
    store.decide(b, "ann", "confirm", penalty="cut")
    first, second = gov.pending_actions()
    gov.finish_action(first.id, False, "origin unreachable", clock())
    [again] = gov.pending_actions()  # a failure frees its claim at once; the other is still held
    assert (again.id, again.attempts) == (first.id, 1)
    gov.finish_action(first.id, False, "origin 502", clock())
    assert gov.pending_actions() == []
    clock.advance(gov.action_lease_s + 1)  # the pool that took `second` never answered: offered again
    assert [p.id for p in gov.pending_actions()] == [second.id]
    gov.finish_action(second.id, True, "dropped publisher", clock() + 5)
    gov.finish_action(second.id, False, "late duplicate", clock() + 6)  # already done: ignored
    assert gov.pending_actions() == []
    failed = store.penalty_steps(store.get(a))
    assert [(s["result"], s["attempts"], s["error"]) for s in failed] == [("failed", 2, "origin 502")]
    [done] = store.penalty_steps(store.get(b))
    assert (done["result"], done["at"], done["by"]) == ("done", clock() + 5, "ann")
    log = [(e.actor, e.action, e.detail["attempts"]) for e in store.audit_log(item_id=a)[:2]]
    assert log == [("pool", "action.failed", 2), ("pool", "action.retry", 1)]
    with pytest.raises(NotFound):
        gov.finish_action(999_999, True, "", clock())


def test_admin_ban_lift_override_and_revert(store: ReviewStore, clock: Clock) -> None:
    gov = _gov(store, clock)
    with pytest.raises(NotFound, match="never been seen by this store; pass force"):
        store.ban_streamer("ghost", "boss", "spam ring")
    store.ban_streamer("ghost", "boss", "spam ring", force=True)
    assert gov.standing("ghost", clock()).ban is not None
    with pytest.raises(Invalid, match="a reason is required"):
        store.ban_streamer("ghost", "boss", "  ")
    with pytest.raises(Invalid, match="days must be more than 0"):
        store.ban_streamer("ghost", "boss", "x", days=-1)
    clock.advance(10)
    assert store.lift_ban("ghost", "boss", "appeal upheld: wrong account", appeal=True) == 1
    assert gov.standing("ghost", clock()).ban is None
    with pytest.raises(Conflict, match="has no active ban"):
        store.lift_ban("ghost", "boss", "again")
    assert [e.action for e in store.audit_log(actor="boss")[:2]] == ["appeal.upheld", "ban"]

    item = store.upsert_verdict(verdict(streamer="alice")).item_id
    store.decide(item, "ann", "confirm", penalty="ban", ban_days=7)
    cursor, _ = gov.changed_since(0.0)
    clock.advance(60)
    r = store.override_tier("alice", 0, "boss", "reviewed the account: a one-off")
    assert (r.override_tier, r.override_reason, r.tier) == (0, "reviewed the account: a one-off", 2)
    st = gov.standing("alice", clock())
    assert (st.tier, st.profile, st.sampling) == (0, "default", 1.0)  # the override wins
    assert {s.streamer: s.tier for s in gov.changed_since(cursor)[1]}["alice"] == 0
    with pytest.raises(Invalid, match="tier must be from 0 to 3"):
        store.override_tier("alice", 9, "boss", "x")
    with pytest.raises(NotFound):
        store.override_tier("nobody-at-all", 1, "boss", "x")
    view = {v["streamer"]: v for v in store.risk_view()}["alice"]
    assert (view["tier"], view["computed_tier"], view["override_by"], view["ban"]["by"]) == (0, 2, "boss", "ann")

    reverted = store.revert_penalty(item, "boss", "evidence was a replay")
    assert reverted.penalty_reverted_at == clock() and reverted.status == "confirmed"
    assert store.active_ban("alice") is None and gov.pending_actions() == []
    assert [s["result"] for s in store.penalty_steps(reverted)] == ["lifted", "cancelled"]
    with pytest.raises(Conflict, match="already reverted"):
        store.revert_penalty(item, "boss", "again")
    other = store.upsert_verdict(verdict(streamer="alice", start=99.0)).item_id
    with pytest.raises(Conflict, match="has no penalty to revert"):
        store.revert_penalty(other, "boss", "nothing")


def test_decay_brings_a_tier_back_down_and_the_pool_hears_of_it(store: ReviewStore, clock: Clock) -> None:
    gov = _gov(store, clock)
    item = store.upsert_verdict(verdict(streamer="alice", category="vulgar", severity="medium")).item_id
    store.decide(item, "ann", "confirm", penalty="warn")
    later = store.upsert_verdict(verdict(streamer="alice", start=400.0)).item_id  # open: carries the tier
    assert gov.standing("alice", clock()).tier == 1 and store.get(later).tier == 1
    clock.advance(10)
    cursor, _ = gov.changed_since(0.0)  # past the overlap: the next poll does not repeat alice
    clock.advance(29 * DAY)
    cursor, changed = gov.changed_since(cursor)
    assert gov.standing("alice", clock()).tier == 1 and changed == []
    clock.advance(2 * DAY)  # past the 30-day half-life
    assert gov.standing("alice", clock()).tier == 0
    cursor, changed = gov.changed_since(cursor)
    assert [(s.streamer, s.tier) for s in changed] == [("alice", 0)] and cursor == clock() - 5.0
    assert store.streamer_risk("alice").tier == 0 and store.get(later).tier == 0


def test_verdict_action_and_pool_enforcement_are_kept_and_shown(store: ReviewStore) -> None:
    rec = verdict(streamer="alice", action="cut", enforcement={"action": "cut", "at": 14.5, "ok": True})
    item = store.upsert_verdict(rec).item_id
    got = store.get(item)
    assert got.record["action"] == "cut" and got.record["enforcement"]["at"] == 14.5
    [pub] = store.public_items([got])
    assert pub["action"] == "cut" and pub["penalty"] is None
    assert pub["enforcement"] == [{"action": "cut", "at": 14.5, "by": "pool", "result": "done", "error": None}]
    grown = {**rec, "end": 30.0, "enforcement": [rec["enforcement"], {"action": "warn", "at": 20.0, "ok": False}]}
    assert store.upsert_verdict(grown).changed
    [pub] = store.public_items([store.get(item)])
    assert pub["action"] == "cut" and [e["result"] for e in pub["enforcement"]] == ["done", "failed"]
    worded = store.upsert_verdict(verdict(stream="s3", action="warn", enforcement="warn")).item_id
    [pub] = store.public_items([store.get(worded)])
    assert pub["enforcement"] == [{"action": "warn", "at": None, "by": "pool", "result": "reported", "error": None}]


def test_two_pools_polling_one_store_never_take_the_same_action(store: ReviewStore, clock: Clock) -> None:
    a = store.upsert_verdict(verdict(streamer="alice", start=1.0)).item_id
    store.decide(a, "ann", "confirm", penalty="cut")
    east, west = _gov(store, clock), _gov(store, clock)
    taken = east.pending_actions()
    assert [p.streamer for p in taken] == ["alice"] and west.pending_actions() == []
    east.finish_action(taken[0].id, True, "dropped publisher", clock())
    clock.advance(east.action_lease_s + 1)
    assert west.pending_actions() == [] and east.pending_actions() == []  # done: never offered again
