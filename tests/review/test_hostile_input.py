"""Hostile reviewer/API input answers 4xx with a reason, never 500, on SQLite and PostgreSQL.

Integers beyond 32/64 bits in ids, offsets and bulk forms; NUL characters in filters, notes,
labels, user names and records; a signal whose ``t`` is not a number; free-text categories.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from review_factories import Clock, verdict

from moderation.review import schema
from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.records import RecordError
from moderation.review.settings import ReviewSettings
from moderation.review.store import Filters, Invalid, NotFound, ReviewStore

HUGE = [2**31, 2**63, 10**30]


@dataclass
class Env:
    client: TestClient
    store: ReviewStore
    admin: dict[str, str]
    reviewer: dict[str, str]
    item: int


@pytest.fixture
def env(queue_url: str, tmp_path: Path) -> Iterator[Env]:
    settings = ReviewSettings(
        queue_url=queue_url, media_dir=tmp_path / "media", categories=("drugs",), default_lang="en"
    )
    store = ReviewStore.open(settings, clock=Clock())
    auth = Auth(store.engine)
    auth.create_user("boss", "admin")
    auth.create_user("ann", "reviewer", password="correct horse battery")
    item = store.upsert_verdict(verdict()).item_id
    with TestClient(create_app(settings, store=store), follow_redirects=False) as client:
        yield Env(
            client,
            store,
            {"Authorization": f"Bearer {auth.create_token('boss')}"},
            {"Authorization": f"Bearer {auth.create_token('ann')}"},
            item,
        )
    store.engine.dispose()


def _login(env: Env) -> str:
    page = env.client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    r = env.client.post("/login", data={"csrf_token": found.group(1), "token": env.reviewer["Authorization"][7:]})
    assert r.status_code == 303
    found = re.search(r'name="csrf_token" value="([^"]+)"', env.client.get("/").text)
    assert found
    return found.group(1)


def _four(r: object, *, path: str) -> None:
    status = r.status_code
    assert 400 <= status < 500, (path, status, r.text[:300])


def test_huge_integers_answer_4xx(env: Env) -> None:
    h = env.reviewer
    for n in [*HUGE, -(2**63) - 1]:
        for method, path in (
            ("get", f"/api/items/{n}"),
            ("post", f"/api/items/{n}/claim"),
            ("post", f"/api/items/{n}/release"),
            ("get", f"/api/items/{n}/clip"),
            ("get", f"/api/items/{n}/thumbnails/0"),
            ("get", f"/api/items?offset={n}"),
            ("get", f"/api/audit?item_id={n}"),
        ):
            _four(getattr(env.client, method)(path, headers=h), path=path)
        r = env.client.post(f"/api/items/{n}/decision", json={"action": "dismiss"}, headers=h)
        _four(r, path="decision")
        r = env.client.post("/api/decisions/bulk", json={"ids": [env.item, n], "action": "escalate"}, headers=h)
        _four(r, path="bulk")
    assert env.store.get(env.item).status == "open"  # the refused bulk request decided nothing
    csrf = _login(env)
    for n in HUGE:
        for path in (f"/items/{n}", f"/?offset={n}", f"/audit?item_id={n}"):
            _four(env.client.get(path), path=path)
    r = env.client.post(
        "/bulk",
        data={
            "csrf_token": csrf,
            "action": "dismiss",
            "note": "not gambling",
            "ids": [str(2**63), "9" * 5000, "²", str(env.item)],
        },
    )
    assert r.status_code == 303
    assert env.store.get(env.item).status == "dismissed"
    with pytest.raises(NotFound):
        env.store.get(2**63)


def test_nul_characters_answer_4xx(env: Env) -> None:
    h = env.reviewer
    for q in ("category", "stream", "streamer", "status"):
        _four(env.client.get(f"/api/items?{q}=a%00b", headers=h), path=q)
    _four(env.client.get("/api/streams/timeline?stream=s%001", headers=h), path="timeline")
    _four(env.client.get("/api/audit?actor=a%00", headers=h), path="audit")
    _four(env.client.post("/api/items/claim-next", json={"stream": "s\x001"}, headers=h), path="claim-next")
    r = env.client.post(f"/api/items/{env.item}/decision", json={"action": "confirm", "note": "a\x00b"}, headers=h)
    assert r.status_code == 422 and "NUL" in r.json()["detail"]
    r = env.client.post("/api/admin/tokens", json={"user": "ann", "label": "x\x00"}, headers=env.admin)
    assert r.status_code == 422
    r = env.client.post("/api/admin/tokens", json={"user": "a\x00nn"}, headers=env.admin)
    _four(r, path="token user")
    r = env.client.post("/api/admin/users", json={"name": "e\x00ve"}, headers=env.admin)
    _four(r, path="user name")
    for rec in (
        verdict(stream="s\x001"),
        verdict(streamer="x\x00"),
        verdict(category="gam\x00bling"),
        verdict(signals=[{"kind": "asr.keyword", "t": 1.0, "text": "a\x00"}]),
        verdict(model_versions={"a\x00": "1"}),
    ):
        r = env.client.post("/api/verdicts", json=rec, headers=env.admin)
        assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
    for rec in (verdict(model_versions={"asr": "\ud800"}), verdict(extra_note=["\udcff"])):
        with pytest.raises(RecordError, match="unpaired surrogate"):
            env.store.upsert_verdict(rec)
    csrf = _login(env)
    for path in ("/?category=%00", "/?stream=a%00", "/stream?name=s%001", "/audit?actor=%00", "/next?streamer=%00"):
        _four(env.client.get(path), path=path)
    r = env.client.post(f"/items/{env.item}/decide", data={"csrf_token": csrf, "action": "confirm", "note": "\x00"})
    _four(r, path="decide note")
    r = env.client.post(
        f"/items/{env.item}/decide", data={"csrf_token": csrf, "action": "confirm", "category": "gam\x00"}
    )
    _four(r, path="decide category")
    env.client.cookies.clear()
    page = env.client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    r = env.client.post("/login", data={"csrf_token": found.group(1), "username": "a\x00nn", "password": "x\x00"})
    assert r.status_code == 303 and "Wrong" in r.headers["location"]
    assert env.store.get(env.item).status == "open"


def test_records_are_typed_and_bounded(env: Env) -> None:
    bad = {
        "signals.0.t": verdict(signals=[{"kind": "asr.keyword", "t": "soon", "score": 1.0}]),
        "signals.0.box": verdict(signals=[{"kind": "ocr.keyword", "t": 1.0, "box": [1, 2, "x", 4]}]),
        "signals.0.kind": verdict(signals=[{"t": 1.0}]),
        "signals.0": verdict(signals=["not an object"]),
        "start": verdict(start=1e300, end=1e300),
        "end": verdict(start=1.0, end=10**30),
        "category": verdict(category="<b>made-up</b>"),
        "clip_gaps": verdict(clip_gaps=5),
        "clip_start": verdict(clip_start="x"),
        "clip_end": verdict(clip_end="soon"),
    }
    for field, rec in bad.items():
        r = env.client.post("/api/verdicts", json=rec, headers=env.admin)
        assert r.status_code == 422 and r.json()["detail"].startswith(field), (field, r.text)
        with pytest.raises(RecordError, match=re.escape(field)):
            env.store.upsert_verdict(rec)
    r = env.client.post("/api/verdicts", json=[1, 2], headers=env.admin)
    assert r.status_code == 422
    assert env.store.count(Filters(status=None)) == 1
    # a valid record keeps its signals exactly as given (no fields added), unknown fields included
    sig = {"kind": "chat.keyword", "t": 3, "user": "v1", "extra": {"k": [1, 2]}}
    r = env.client.post("/api/verdicts", json=verdict(start=40.0, signals=[sig]), headers=env.admin)
    assert r.status_code == 200, r.text
    item = env.store.get(r.json()["id"])
    assert item.record["signals"] == [{**sig, "t": 3.0}]
    # a record stored before signals were typed still renders (shown, not a 500)
    legacy = {
        **item.record,
        "signals": [
            {"kind": "x", "t": "soon", "score": None, "text": 5, "box": 7},
            {"kind": "y", "t": 2.0, "text": "ok", "term": ["list"]},
            "junk",
        ],
    }
    with env.store.engine.begin() as conn:
        conn.execute(sa.update(schema.items).where(schema.items.c.id == item.id).values(record=legacy))
    _login(env)
    page = env.client.get(f"/items/{item.id}")
    assert page.status_code == 200 and "soon" in page.text
    assert env.store.get(item.id).claimed_by is None  # shown; a GET claims nothing


def test_confirm_only_as_a_policy_category(env: Env) -> None:
    h = env.reviewer
    for cat in ("<b>made-up</b>", "made_up", "Gambling"):
        r = env.client.post(f"/api/items/{env.item}/decision", json={"action": "confirm", "category": cat}, headers=h)
        assert r.status_code == 422, (cat, r.text)
    with pytest.raises(Invalid, match="unknown category 'made_up'"):
        env.store.decide(env.item, "ann", "confirm", category="made_up")
    r = env.client.post(
        "/api/decisions/bulk", json={"ids": [env.item], "action": "confirm", "category": "made_up"}, headers=h
    )
    assert r.json()["done"] == [] and "unknown category" in r.json()["skipped"][str(env.item)]
    csrf = _login(env)
    page = env.client.get(f"/items/{env.item}").text
    options = re.findall(r'<option value="([^"]+)"', page)
    assert {"vulgar", "gambling", "minors", "tipping_abnormal", "drugs"} <= set(options)
    r = env.client.post(
        f"/items/{env.item}/decide", data={"csrf_token": csrf, "action": "confirm", "category": "made_up"}
    )
    assert r.status_code == 422 and "unknown category" in r.text
    assert env.store.get(env.item).status == "open"
    assert env.store.streamer_risk("s1").tier == 0
    # the policy's extra category (from the settings) and the item's own are accepted
    r = env.client.post(
        f"/items/{env.item}/decide", data={"csrf_token": csrf, "action": "confirm", "category": "drugs"}
    )
    assert r.status_code == 303
    assert env.store.get(env.item).decision_category == "drugs"
