"""HTML pages of the reviewer UI: login, queue, item, stream timeline, audit log, risk.

Pages are server-rendered (Jinja2, autoescaped) and every state change is a plain form post
with the session's CSRF token, so the UI works with the keyboard script disabled and the tests
can drive it like a browser would. ``ui/static/app.js`` only adds keyboard shortcuts and draws
detector boxes over thumbnails.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from moderation.review.auth import Auth, Principal, csrf_ok
from moderation.review.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    address_key,
    check_form_csrf,
    page_user,
    record_failure,
    throttled,
)
from moderation.review.records import Item
from moderation.review.schema import STATUSES
from moderation.review.store import MAX_ID, Conflict, Filters, ReviewStore

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "ui" / "templates"))
PageUser = Annotated[Principal, Depends(page_user)]
CsrfChecked = Depends(check_form_csrf)


def _ts(value: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value)) if value else "—"


def _ago(value: float | None, now: float | None = None) -> str:
    if not value:
        return "—"
    s = max(0, int((now or time.time()) - value))
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= n:
            return f"{s // n}{unit} ago"
    return f"{s}s ago"


def highlight(text: str | None, term: str | None) -> Markup:
    """Escape ``text`` and wrap every occurrence of ``term`` (case-insensitive) in ``<mark>``."""
    if not text:
        return Markup("")
    if not term:
        return escape(text)
    out, low, t, i = [], text.lower(), term.lower(), 0
    while (j := low.find(t, i)) >= 0:
        out += [escape(text[i:j]), Markup("<mark>"), escape(text[j : j + len(term)]), Markup("</mark>")]
        i = j + len(term)
    out.append(escape(text[i:]))
    return Markup("").join(out)


def _num(value: Any, fmt: str = "%.1f") -> str:
    """Format a number from a stored record; anything else (records stored before signals were
    typed may hold strings) is shown as text instead of failing the whole page."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return fmt % value
    return "—" if value is None else str(value)


templates.env.filters.update(ts=_ts, ago=_ago, num=_num)
templates.env.globals.update(highlight=highlight, STATUSES=STATUSES)


def _store(request: Request) -> ReviewStore:
    s: ReviewStore = request.app.state.store
    return s


def page(request: Request, name: str, user: Principal | None, status: int = 200, **ctx: Any) -> HTMLResponse:
    store = _store(request)
    csrf = getattr(request.state, "csrf", "")
    ctx.update(user=user, csrf=csrf, now=store.clock(), msg=request.query_params.get("msg"))
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def render_error(request: Request, status: int, message: str) -> Response:
    """HTML error page (used by the app's exception handlers for non-API paths)."""
    titles = {
        401: "Not logged in",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict",
        413: "Too large",
        422: "Invalid request",
        429: "Too many attempts",
    }
    return page(
        request, "error.html", None, status=status, title=titles.get(status, "Error"), message=message, code=status
    )


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login form is no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "/", error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    resp = page(request, "login.html", None, login_csrf=token, next=_safe_next(next), error=error)
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        max_age=3600,
    )
    return resp


@router.post("/login")
def login(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    token: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _redirect("/login?" + urlencode({"next": _safe_next(next), "error": "Login form expired; try again."}))
    auth: Auth = request.app.state.auth
    keys = [address_key(request)] + ([f"user:{username[:100]}"] if username and not token.strip() else [])
    blocked = throttled(request, keys)
    if blocked is not None:
        raise blocked
    who = auth.by_token(token.strip()) if token.strip() else auth.by_password(username, password) if username else None
    if who is None:
        record_failure(request, keys)
        return _redirect("/login?" + urlencode({"next": _safe_next(next), "error": "Wrong token or password."}))
    request.app.state.login_throttle.success(keys[1:])
    settings = request.app.state.settings
    sid, _ = auth.create_session(who, settings.session_ttl_s)
    _store(request).audit(who.name, "login", detail={"via": "token" if token.strip() else "password"})
    resp = _redirect(_safe_next(next))
    resp.set_cookie(
        SESSION_COOKIE,
        sid,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        max_age=int(settings.session_ttl_s),
    )
    resp.delete_cookie(LOGIN_CSRF_COOKIE)
    return resp


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, user: PageUser) -> Response:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        request.app.state.auth.end_session(sid)
    resp = _redirect("/login")
    resp.delete_cookie(SESSION_COOKIE)
    return resp


def _filters(request: Request) -> Filters:
    q = request.query_params
    status = q.get("status", "open")
    return Filters(
        None if status == "all" else status or None,
        q.get("category") or None,
        q.get("stream") or None,
        q.get("streamer") or None,
    )


@router.get("/")
def queue(request: Request, user: PageUser, offset: int = 0) -> Response:
    store = _store(request)
    f = _filters(request)
    size = request.app.state.settings.page_size
    items = store.list_items(f, size, max(0, offset))
    return page(
        request,
        "queue.html",
        user,
        items=items,
        total=store.count(f),
        filters=f,
        facets=store.facets(),
        offset=max(0, offset),
        page_size=size,
        query=urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "offset"]),
    )


@router.get("/next")
def next_item(request: Request, user: PageUser) -> Response:
    """Claim the next free item (with the current filters) and open it."""
    item = _store(request).claim_next(user.name, _filters(request))
    if item is None:
        return _redirect("/?" + urlencode({"msg": "Nothing left to review with these filters."}))
    return _redirect(f"/items/{item.id}")


@router.get("/items/{item_id}")
def item_page(request: Request, item_id: int, user: PageUser) -> Response:
    store = _store(request)
    item = store.get(item_id)
    notice = None
    if item.status == "open":
        try:
            item = store.claim(item_id, user.name)
        except Conflict as exc:
            notice = f"Read-only: {exc}."
    prev_id, next_id = store.neighbours(item_id)
    return page(
        request,
        "item.html",
        user,
        item=item,
        notice=notice,
        prev_id=prev_id,
        next_id=next_id,
        risk=store.streamer_risk(item.streamer),
        audit=store.audit_log(item_id=item_id, limit=50),
        can_decide=_can_decide(item, user, store.clock()),
        texts=_texts(item),
        categories=sorted(store.categories | {item.category}),
    )


def _can_decide(item: Item, user: Principal, now: float) -> bool:
    allowed = ("open", "escalated") if user.is_admin else ("open",)
    return item.status in allowed and not item.claimed_by_other(user.name, now)


def _texts(item: Item) -> list[dict[str, Any]]:
    """Signals that carry text (ASR transcript, OCR, chat), for the highlighted evidence panel."""
    signals = item.record.get("signals")
    return (
        [
            s
            for s in signals
            if isinstance(s, dict)
            and s.get("text")
            and isinstance(s["text"], str)
            and isinstance(s.get("term") or "", str)
        ]
        if isinstance(signals, list)
        else []
    )


@router.post("/items/{item_id}/decide", dependencies=[CsrfChecked])
def decide(
    request: Request,
    item_id: int,
    user: PageUser,
    action: Annotated[str, Form()],
    category: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    store = _store(request)
    store.decide(item_id, user.name, action, category=category or None, note=note.strip() or None, admin=user.is_admin)
    nxt = store.claim_next(user.name)
    msg = f"Item #{item_id}: {action} recorded."
    return _redirect(f"/items/{nxt.id}?" + urlencode({"msg": msg}) if nxt else "/?" + urlencode({"msg": msg}))


@router.post("/items/{item_id}/release", dependencies=[CsrfChecked])
def release(request: Request, item_id: int, user: PageUser) -> Response:
    _store(request).release(item_id, user.name)
    return _redirect("/?" + urlencode({"msg": f"Item #{item_id} returned to the queue."}))


@router.post("/bulk", dependencies=[CsrfChecked])
async def bulk(request: Request, user: PageUser) -> Response:
    form = await request.form()
    action = str(form.get("action", ""))
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) < 12]
    ids = ids[:500]
    if not ids:
        return _redirect("/?" + urlencode({"msg": "Select items first (x toggles the highlighted row)."}))
    res = _store(request).decide_many(ids, user.name, action, admin=user.is_admin)
    msg = f"{action}: {len(res.done)} done" + (
        f", {len(res.skipped)} skipped ({next(iter(res.skipped.values()))})" if res.skipped else ""
    )
    return _redirect("/?" + urlencode({"msg": msg}))


@router.get("/stream")
def stream_page(request: Request, name: str, user: PageUser) -> Response:
    store = _store(request)
    items = store.timeline(name)
    span = max([i.t_end for i in items] + [1.0])
    return page(
        request, "stream.html", user, stream=name, items=items, span=span, streamer=items[0].streamer if items else None
    )


@router.get("/audit")
def audit_page(
    request: Request,
    user: PageUser,
    item_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    actor: str | None = None,
) -> Response:
    entries = _store(request).audit_log(item_id=item_id, limit=500, actor=actor or None)
    return page(request, "audit.html", user, entries=entries, item_id=item_id, actor=actor)


@router.get("/risk")
def risk_page(request: Request, user: PageUser) -> Response:
    return page(request, "risk.html", user, risks=_store(request).streamer_risks())
