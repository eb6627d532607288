"""Request authentication shared by the API and the web pages.

A request is authenticated by ``Authorization: Bearer <token>`` or by the browser session
cookie. Session-authenticated writes must carry the session's CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``); bearer requests carry no ambient credential a
foreign page could ride on, so they need none.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from moderation.review.auth import Auth, Principal, csrf_ok
from moderation.review.throttle import LoginThrottle

SESSION_COOKIE = "mod_session"
LOGIN_CSRF_COOKIE = "mod_login_csrf"
_SAFE = ("GET", "HEAD", "OPTIONS")


class LoginRequired(Exception):
    """An HTML page was requested without a session: redirect to /login."""


def _auth(request: Request) -> Auth:
    auth: Auth = request.app.state.auth
    return auth


def _throttle(request: Request) -> LoginThrottle:
    t: LoginThrottle = request.app.state.login_throttle
    return t


def address_key(request: Request) -> str:
    """Throttle key of the client address (the proxy's, unless uvicorn trusts its headers)."""
    return f"addr:{request.client.host if request.client else 'unknown'}"


def throttled(request: Request, keys: list[str]) -> HTTPException | None:
    """A 429 to raise when any of ``keys`` is backing off, else ``None``."""
    wait = _throttle(request).retry_after(keys)
    if wait <= 0:
        return None
    return HTTPException(429, f"too many failed logins; try again in {wait} s", headers={"Retry-After": str(wait)})


def record_failure(request: Request, keys: list[str]) -> None:
    settings = request.app.state.settings
    _throttle(request).failure(keys, {"addr": settings.login_free_failures_address})


def authenticate(request: Request) -> tuple[Principal, str | None] | None:
    """``(principal, csrf)``; csrf is ``None`` for bearer auth. ``None`` when unauthenticated."""
    header = request.headers.get("authorization", "")
    if header:
        keys = [address_key(request)]
        blocked = throttled(request, keys)
        if blocked is not None:
            raise blocked
        scheme, _, token = header.partition(" ")
        p = _auth(request).by_token(token.strip()) if scheme.lower() == "bearer" and token else None
        if p is None:
            record_failure(request, keys)
        return (p, None) if p else None
    sid = request.cookies.get(SESSION_COOKIE)
    return _auth(request).by_session(sid) if sid else None


def api_user(request: Request) -> Principal:
    """Dependency for JSON routes: 401 without credentials, 403 on a missing CSRF token."""
    got = authenticate(request)
    if got is None:
        raise HTTPException(
            401, "authentication required: send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"}
        )
    principal, csrf = got
    if csrf is not None and request.method not in _SAFE and not csrf_ok(csrf, request.headers.get("x-csrf-token")):
        raise HTTPException(403, "missing or wrong X-CSRF-Token header for a session-authenticated write")
    request.state.csrf = csrf
    return principal


def api_admin(request: Request) -> Principal:
    p = api_user(request)
    if not p.is_admin:
        raise HTTPException(403, f"user {p.name!r} is a {p.role}; this needs the admin role")
    return p


def page_user(request: Request) -> Principal:
    """Dependency for HTML pages: redirect to the login page when there is no session."""
    got = authenticate(request)
    if got is None:
        raise LoginRequired
    principal, csrf = got
    request.state.csrf = csrf or ""
    return principal


async def check_form_csrf(request: Request, _: Annotated[Principal, Depends(page_user)]) -> None:
    """Form posts from the UI must echo the session's CSRF token (runs after ``page_user``)."""
    form = await request.form()
    given = form.get("csrf_token")
    if not csrf_ok(getattr(request.state, "csrf", None), given if isinstance(given, str) else None):
        raise HTTPException(403, "form expired or forged (CSRF token mismatch) — reload the page and try again")
