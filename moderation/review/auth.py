"""Users, API tokens, browser sessions and CSRF for the review service.

* Tokens and session ids are random 256-bit strings; only their SHA-256 is stored, so a leaked
  database does not leak working credentials (high-entropy secrets need no slow hash).
* Passwords (optional; tokens are the primary credential) use scrypt from the standard library.
  Rejecting an unknown, disabled or password-less user costs the same scrypt as a wrong password
  (a dummy hash), so response time does not reveal which accounts exist. Failed attempts are
  throttled per account and per client address by ``throttle.LoginThrottle`` (wired in ``deps``).
* Roles: ``reviewer`` (queue work) and ``admin`` (also users, tokens, bulk import, retention,
  escalated items).
* Browser sessions carry a per-session CSRF token that every form post and cookie-authenticated
  API write must echo; bearer-token API calls carry no ambient credential and need none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from moderation.review import schema

ROLES = ("reviewer", "admin")
TOKEN_PREFIX = "mrt_"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class AuthError(ValueError):
    """Bad user input to an auth operation (unknown role, duplicate user, ...)."""


@dataclass(frozen=True)
class Principal:
    """Who is making a request."""

    user_id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _scrypt(password: str, salt: bytes) -> bytes:
    """The one slow hash; every password check, real or dummy, goes through it."""
    return hashlib.scrypt(password.encode(errors="surrogatepass"), salt=salt, **_SCRYPT)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${salt.hex()}${_scrypt(password, salt).hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, want = stored.split("$", 2)
    return hmac.compare_digest(_scrypt(password, bytes.fromhex(salt)).hex(), want)


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash no password matches, made once, so rejecting an unknown user costs one scrypt too."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(32)))
    return _DUMMY_HASH[0]


class Auth:
    """Credential operations over the store's engine (injectable clock for expiry tests)."""

    def __init__(self, engine: sa.Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    # -- users and tokens --------------------------------------------------------------------

    def create_user(self, name: str, role: str = "reviewer", password: str | None = None) -> int:
        if role not in ROLES:
            raise AuthError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        if not name or len(name) > 100 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise AuthError("user name must be 1-100 letters, digits, '-', '_' or '.'")
        if password is not None and len(password) < 10:
            raise AuthError("password must be at least 10 characters")
        u = schema.users
        with self.engine.begin() as conn:
            if conn.execute(sa.select(u.c.id).where(u.c.name == name)).first() is not None:
                raise AuthError(f"user {name!r} already exists")
            return int(
                conn.execute(
                    sa.insert(u)
                    .values(
                        name=name,
                        role=role,
                        password_hash=hash_password(password) if password else None,
                        disabled=False,
                        created_at=self.clock(),
                    )
                    .returning(u.c.id)
                ).scalar_one()
            )

    def user_id(self, name: str) -> int:
        if "\0" in name or len(name) > 100:
            raise AuthError(f"no user {name[:100]!r}")
        with self.engine.connect() as conn:
            uid = conn.execute(sa.select(schema.users.c.id).where(schema.users.c.name == name)).scalar()
        if uid is None:
            raise AuthError(f"no user {name!r}")
        return int(uid)

    def create_token(self, user: str, label: str = "") -> str:
        """A new API/login token for ``user``; the plaintext is returned once and never stored."""
        if "\0" in label or len(label) > 200:
            raise AuthError("token label must be at most 200 characters, without NUL")
        uid = self.user_id(user)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(schema.tokens).values(
                    user_id=uid, token_hash=sha256(token), label=label or "token", created_at=self.clock()
                )
            )
        return token

    def revoke_tokens(self, user: str) -> int:
        uid = self.user_id(user)
        t = schema.tokens
        with self.engine.begin() as conn:
            res = conn.execute(
                sa.update(t).where(t.c.user_id == uid, t.c.revoked_at.is_(None)).values(revoked_at=self.clock())
            )
            conn.execute(sa.delete(schema.sessions).where(schema.sessions.c.user_id == uid))
        return int(res.rowcount)

    def has_admin(self) -> bool:
        u = schema.users
        with self.engine.connect() as conn:
            q = sa.select(u.c.id).where(u.c.role == "admin", u.c.disabled.is_(False))
            return conn.execute(q).first() is not None

    def ensure_admin(self, name: str = "admin") -> str | None:
        """First run: create an admin and return its one-time token; ``None`` if one exists."""
        if self.has_admin():
            return None
        try:
            self.create_user(name, "admin")
        except AuthError:
            pass  # user exists but is not an admin (or was disabled): leave that to a human
            return None
        return self.create_token(name, "first-run admin token")

    def list_users(self) -> list[dict[str, object]]:
        u = schema.users
        with self.engine.connect() as conn:
            return [
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(u.c.id, u.c.name, u.c.role, u.c.disabled, u.c.created_at).order_by(u.c.name)
                )
            ]

    # -- verification ------------------------------------------------------------------------

    def _principal(self, conn: sa.Connection, user_id: int) -> Principal | None:
        u = schema.users
        row = conn.execute(sa.select(u).where(u.c.id == user_id, u.c.disabled.is_(False))).first()
        return Principal(row.id, row.name, row.role) if row else None

    def by_token(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        t = schema.tokens
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(t.c.id, t.c.user_id).where(t.c.token_hash == sha256(token), t.c.revoked_at.is_(None))
            ).first()
            if row is None:
                return None
            conn.execute(sa.update(t).where(t.c.id == row.id).values(last_used_at=self.clock()))
            return self._principal(conn, row.user_id)

    def by_password(self, name: str, password: str) -> Principal | None:
        """Check a password; unknown, disabled and password-less users cost the same scrypt.

        Without the dummy hash an unknown name is rejected several times faster than a wrong
        password, which tells an attacker which accounts exist.
        """
        u = schema.users
        row = None
        if "\0" not in name and len(name) <= 100:
            with self.engine.connect() as conn:
                row = conn.execute(sa.select(u).where(u.c.name == name, u.c.disabled.is_(False))).first()
        real = row is not None and bool(row.password_hash)
        ok = verify_password(password[:1000], row.password_hash if real and row is not None else _dummy_hash())
        if row is None or not real or not ok:
            return None
        return Principal(row.id, row.name, row.role)

    # -- browser sessions --------------------------------------------------------------------

    def create_session(self, principal: Principal, ttl_s: float) -> tuple[str, str]:
        """Return ``(session id, csrf token)``; only the id's hash is stored."""
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        now = self.clock()
        s = schema.sessions
        with self.engine.begin() as conn:
            conn.execute(sa.delete(s).where(s.c.expires_at < now))
            conn.execute(
                sa.insert(s).values(
                    id_hash=sha256(sid), user_id=principal.user_id, csrf=csrf, created_at=now, expires_at=now + ttl_s
                )
            )
        return sid, csrf

    def by_session(self, sid: str) -> tuple[Principal, str] | None:
        if not sid or len(sid) > 100:
            return None
        s = schema.sessions
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(s).where(s.c.id_hash == sha256(sid), s.c.expires_at > self.clock())).first()
            if row is None:
                return None
            p = self._principal(conn, row.user_id)
        return (p, row.csrf) if p else None

    def end_session(self, sid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(schema.sessions).where(schema.sessions.c.id_hash == sha256(sid)))


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of a submitted CSRF token with the session's."""
    return bool(expected and given and hmac.compare_digest(expected, given))
