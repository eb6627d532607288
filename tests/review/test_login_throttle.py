"""Failed logins back off per account and per client address (429 + Retry-After); unknown users
cost the same password hash as known ones."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_factories import Clock

from moderation.review import auth as auth_mod
from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore
from moderation.review.throttle import LoginThrottle

PASSWORD = "correct horse battery"


@dataclass
class Env:
    client: TestClient
    throttle_clock: Clock
    token: str


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    settings = ReviewSettings(
        queue_url=f"sqlite:///{tmp_path / 'q.db'}",
        login_free_failures=3,
        login_free_failures_address=8,
        login_backoff_s=10.0,
        login_backoff_max_s=300.0,
        default_lang="en",
    )
    store = ReviewStore.open(settings, clock=Clock())
    auth = Auth(store.engine)
    auth.create_user("ann", "reviewer", password=PASSWORD)
    auth.create_user("bob", "reviewer", password=PASSWORD)
    token = auth.create_token("ann")
    app = create_app(settings, store=store)
    clock = Clock(1000.0)
    app.state.login_throttle.clock = clock
    with TestClient(app, follow_redirects=False) as client:
        yield Env(client, clock, token)


def _post(env: Env, **form: str) -> object:
    page = env.client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return env.client.post("/login", data={"csrf_token": found.group(1), "next": "/", **form})


def _status(r: object) -> int:
    return int(r.status_code)


def test_password_guessing_backs_off_per_account(env: Env) -> None:
    for _ in range(3):  # the free failures: answered normally
        r = _post(env, username="ann", password="guess guess")
        assert _status(r) == 303 and "Wrong" in r.headers["location"]
    r = _post(env, username="ann", password="guess guess")  # the 4th failure starts the backoff
    assert _status(r) == 303
    r = _post(env, username="ann", password=PASSWORD)  # even the right password waits now
    assert _status(r) == 429
    assert r.headers["retry-after"] == "10" and "try again in 10 s" in r.text
    assert _status(_post(env, username="bob", password=PASSWORD)) == 303  # other accounts unaffected
    env.throttle_clock.advance(10.5)
    r = _post(env, username="ann", password="guess again")
    assert _status(r) == 303
    r = _post(env, username="ann", password=PASSWORD)  # backoff doubled by the last failure
    assert _status(r) == 429 and r.headers["retry-after"] == "20"
    env.throttle_clock.advance(20.5)
    r = _post(env, username="ann", password=PASSWORD)
    assert _status(r) == 303 and r.headers["location"] == "/"
    for _ in range(3):  # success cleared the account's failures
        assert "Wrong" in _post(env, username="ann", password="nope nope").headers["location"]


def test_spraying_accounts_or_tokens_backs_off_per_address(env: Env) -> None:
    for i in range(8):  # distinct unknown accounts: only the address counter grows
        assert _status(_post(env, username=f"user{i}", password="guess guess")) == 303
    assert _status(_post(env, username="user9", password="guess guess")) == 303  # 9th: backoff starts
    assert _status(_post(env, token=env.token)) == 429
    r = env.client.get("/api/me", headers={"Authorization": f"Bearer {env.token}"})
    assert r.status_code == 429 and r.headers["retry-after"] == "10"
    env.throttle_clock.advance(11)
    assert env.client.get("/api/me", headers={"Authorization": f"Bearer {env.token}"}).status_code == 200
    for _ in range(2):
        assert env.client.get("/api/me", headers={"Authorization": "Bearer mrt_guess"}).status_code in (401, 429)
    assert env.client.get("/api/me", headers={"Authorization": f"Bearer {env.token}"}).status_code == 429


def test_throttle_memory_is_bounded_and_forgets() -> None:
    clock = Clock(0.0)
    t = LoginThrottle(free=1, backoff_s=1.0, max_s=60.0, max_keys=100, clock=clock)
    for i in range(10_000):
        t.failure([f"user:u{i}"])
    assert len(t) == 100
    t.failure(["user:x"])
    t.failure(["user:x"])
    assert t.retry_after(["user:x"]) == 1
    for _ in range(20):
        t.failure(["user:x"])
    assert t.retry_after(["user:x"]) == 60  # capped
    clock.advance(200)  # quiet for longer than the longest backoff: forgotten
    t.failure(["user:x"])
    assert t.retry_after(["user:x"]) == 0


def test_unknown_users_cost_one_password_hash(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = auth_mod._scrypt

    def counting(password: str, salt: bytes) -> bytes:
        calls.append(password)
        return real(password, salt)

    monkeypatch.setattr(auth_mod, "_scrypt", counting)
    auth: Auth = env.client.app.state.auth
    auth_mod._dummy_hash()  # made once, before counting matters
    calls.clear()
    assert auth.by_password("nobody", "pw-unknown") is None
    assert auth.by_password("n\x00body", "pw-nul") is None
    assert auth.by_password("ann", "pw-wrong") is None
    auth.create_user("tok", "reviewer")  # a user without a password
    assert auth.by_password("tok", "pw-nopass") is None
    assert calls == ["pw-unknown", "pw-nul", "pw-wrong", "pw-nopass"]
    assert auth.by_password("ann", PASSWORD) is not None
