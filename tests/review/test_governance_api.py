"""Governance over HTTP: confirming with a penalty, the 4xx of each bad request (naming what was
wrong), the admin actions, and the item and risk pages showing what is true."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_factories import Clock, verdict
from test_api import Env, login

from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.governance import StoreGovernance
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    settings = ReviewSettings(queue_url=f"sqlite:///{tmp_path / 'q.db'}", default_lang="en", lease_s=60)
    store = ReviewStore.open(settings, clock=Clock())
    auth = Auth(store.engine)
    auth.create_user("boss", "admin")
    auth.create_user("ann", "reviewer", password="correct horse battery")
    item = store.upsert_verdict(verdict(streamer="alice")).item_id  # gambling, high
    with TestClient(create_app(settings, store=store), follow_redirects=False) as client:
        yield Env(client, store, auth.create_token("boss"), auth.create_token("ann"), item)


def _decide(env: Env, body: dict[str, object], token: str | None = None) -> tuple[int, dict[str, object]]:
    r = env.client.post(f"/api/items/{env.item}/decision", json=body, headers=env.h(token or env.reviewer))
    return r.status_code, r.json()


def test_confirm_with_a_penalty_and_each_refusal(env: Env) -> None:
    r = env.client.get(f"/api/items/{env.item}/penalties", headers=env.h(env.reviewer)).json()
    assert r == {"allowed": ["cut", "ban", "permanent_ban"], "default": "ban", "ban_days": 7.0, "max_ban_days": 365.0}
    code, body = _decide(env, {"action": "confirm", "penalty": "warn"})
    assert code == 422 and body["detail"] == (
        "penalty 'warn' is not allowed for a high gambling item; allowed: cut, ban, permanent_ban"
    )
    code, body = _decide(env, {"action": "confirm", "penalty": "cut", "ban_days": 3})
    assert code == 422 and "ban_days goes with the penalty 'ban' only" in str(body["detail"])
    code, body = _decide(env, {"action": "confirm", "penalty": "flog"})
    assert code == 422 and str(body["detail"]).startswith("penalty:")
    code, body = _decide(env, {"action": "confirm", "penalty": "ban", "ban_days": -2})
    assert code == 422 and str(body["detail"]).startswith("ban_days:")
    code, body = _decide(env, {"action": "dismiss", "penalty": "cut", "note": "fine"})
    assert code == 422 and body["detail"] == "a penalty goes with confirm only, not dismiss"
    assert env.store.get(env.item).status == "open"
    code, body = _decide(env, {"action": "confirm", "penalty": "ban", "ban_days": 2})
    assert code == 200 and body["penalty"] == "ban" and body["action"] is None
    steps = [(e["action"], e["result"], e["by"]) for e in body["enforcement"]]  # type: ignore[union-attr]
    assert steps == [("ban", "active", "ann"), ("cut", "queued", "ann")]


def test_deciding_after_the_lease_passed_to_another_is_a_409(env: Env) -> None:
    assert env.client.post(f"/api/items/{env.item}/claim", headers=env.h(env.reviewer)).status_code == 200
    clock = env.store.clock
    assert isinstance(clock, Clock)
    clock.advance(61)  # ann's lease ran out; boss takes the item
    assert env.client.post(f"/api/items/{env.item}/claim", headers=env.h(env.admin)).status_code == 200
    code, body = _decide(env, {"action": "confirm", "penalty": "cut"})
    assert code == 409 and body["detail"] == f"item {env.item} is being reviewed by boss"
    assert env.store.get(env.item).penalty is None


def test_admin_actions_and_their_4xx(env: Env) -> None:
    h, ann = env.h(env.admin), env.h(env.reviewer)
    ban = {"streamer": "ghost", "reason": "spam ring", "days": 3}
    assert env.client.post("/api/admin/bans", json=ban, headers=ann).status_code == 403
    r = env.client.post("/api/admin/bans", json=ban, headers=h)
    assert r.status_code == 404 and "never been seen by this store; pass force" in r.json()["detail"]
    assert env.client.post("/api/admin/bans", json={**ban, "force": True}, headers=h).status_code == 201
    r = env.client.post("/api/admin/bans", json={"streamer": "alice", "reason": ""}, headers=h)
    assert r.status_code == 422 and r.json()["detail"].startswith("reason:")
    r = env.client.post("/api/admin/bans", json={"streamer": "alice", "reason": "x", "days": 0}, headers=h)
    assert r.status_code == 422 and r.json()["detail"].startswith("days:")
    r = env.client.post("/api/admin/bans", json={"streamer": "alice", "reason": "repeat offender"}, headers=h)
    assert r.status_code == 201 and r.json()["until"] is None  # permanent
    lift = {"streamer": "alice", "reason": "appeal: account was hijacked", "appeal": True}
    assert env.client.post("/api/admin/bans/lift", json=lift, headers=h).json() == {"streamer": "alice", "lifted": 1}
    r = env.client.post("/api/admin/bans/lift", json=lift, headers=h)
    assert r.status_code == 409 and r.json()["detail"] == "streamer 'alice' has no active ban"

    r = env.client.post("/api/admin/tiers", json={"streamer": "alice", "tier": 9, "reason": "x"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"] == "tier must be from 0 to 3 (or omitted to clear the override)"
    r = env.client.post("/api/admin/tiers", json={"streamer": "nobody", "tier": 1, "reason": "x"}, headers=h)
    assert r.status_code == 404
    r = env.client.post("/api/admin/tiers", json={"streamer": "alice", "tier": 3, "reason": "watch list"}, headers=h)
    assert r.json() == {"streamer": "alice", "override_tier": 3, "reason": "watch list"}
    [row] = [x for x in env.client.get("/api/risk", headers=ann).json() if x["streamer"] == "alice"]
    assert (row["tier"], row["profile"], row["sampling"], row["override_reason"], row["ban"]) == (
        3,
        "strict",
        3.0,
        "watch list",
        None,
    )

    url = f"/api/items/{env.item}/penalty/revert"
    r = env.client.post(url, json={"reason": "no"}, headers=h)
    assert r.status_code == 409 and r.json()["detail"] == f"item {env.item} has no penalty to revert"
    assert _decide(env, {"action": "confirm", "penalty": "cut"})[0] == 200
    assert env.client.post(url, json={"reason": "wrong stream"}, headers=ann).status_code == 403
    r = env.client.post(url, json={"reason": "wrong stream"}, headers=h)
    assert r.status_code == 200 and [e["result"] for e in r.json()["enforcement"]] == ["cancelled"]
    assert env.client.post(url, json={"reason": "again"}, headers=h).status_code == 409
    assert env.client.post("/api/items/999/penalty/revert", json={"reason": "x"}, headers=h).status_code == 404
    actions = [e["action"] for e in env.client.get("/api/audit", headers=h).json()]
    assert {"ban", "appeal.upheld", "tier.override", "penalty.revert"} <= set(actions)


def test_item_page_confirms_with_a_penalty_and_shows_its_execution(env: Env) -> None:
    csrf = login(env, env.reviewer)
    page = env.client.get(f"/items/{env.item}").text
    assert re.search(r'value="ban" id="penalty-ban"[^>]*\s+checked', page)  # the policy's default
    assert 'id="penalty-warn"' not in page and 'id="ban-days"' in page
    form = {"csrf_token": csrf, "action": "confirm", "category": "gambling", "penalty": "warn", "ban_days": "7"}
    r = env.client.post(f"/items/{env.item}/decide", data=form)
    assert r.status_code == 422 and "allowed: cut, ban, permanent_ban" in r.text
    r = env.client.post(f"/items/{env.item}/decide", data={**form, "penalty": "cut"})  # ban_days ignored for cut
    assert r.status_code == 303
    gov = StoreGovernance(env.store.engine, env.store.policy, clock=env.store.clock)
    [act] = gov.pending_actions()
    gov.finish_action(act.id, False, "origin timed out", env.store.clock())
    page = env.client.get(f"/items/{env.item}").text
    assert 'id="penalty-name">cut<' in page and "1 failed attempts, last: origin timed out" in page
    gov.finish_action(act.id, True, "", env.store.clock())
    assert "cut:\n      done at" in env.client.get(f"/items/{env.item}").text
    env.client.cookies.set("mod_lang", "zh")
    assert "已于" in env.client.get(f"/items/{env.item}").text and "断流" in env.client.get(f"/items/{env.item}").text


def test_risk_page_shows_standing_and_admin_forms_refuse_bad_input(env: Env) -> None:
    env.store.decide(env.item, "ann", "confirm", penalty="ban", ban_days=7)
    csrf = login(env, env.admin)
    page = env.client.get("/risk").text
    assert "Flag weight" not in page and "denser sampling in the pipeline" not in page
    row = re.search(r'<tr class="row tier-2" data-streamer="alice">(.*?)</tr>', page, re.S)
    assert row and "strict" in row.group(1) and "2×" in row.group(1) and "banned until" in row.group(1)
    r = env.client.post("/risk/ban", data={"csrf_token": csrf, "streamer": "ghost", "reason": "x"})
    assert r.status_code == 404 and "pass force" in r.text
    r = env.client.post("/risk/tier", data={"csrf_token": csrf, "streamer": "alice", "tier": "1.5", "reason": "x"})
    assert r.status_code == 422 and "tier must be a whole number" in r.text
    r = env.client.post("/risk/tier", data={"csrf_token": csrf, "streamer": "alice", "tier": "0", "reason": "ok now"})
    assert r.status_code == 303
    r = env.client.post("/risk/lift", data={"csrf_token": csrf, "streamer": "alice", "reason": "served"})
    assert r.status_code == 303
    row = re.search(r'data-streamer="alice">(.*?)</tr>', env.client.get("/risk").text, re.S)
    assert row and "tier 0 by boss: ok now" in row.group(1) and "banned" not in row.group(1)
