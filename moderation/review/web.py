"""HTML pages of the reviewer UI: login, queue, item, stream timeline, audit log, risk.

Pages are server-rendered (Jinja2, autoescaped) and every state change is a plain form post
with the session's CSRF token, so the UI works with the keyboard script disabled and the tests
can drive it like a browser would. ``ui/static/app.js`` only adds keyboard shortcuts and draws
detector boxes over thumbnails.
"""

from __future__ import annotations

import math
import secrets
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from moderation.review import i18n
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
from moderation.review.i18n import _
from moderation.review.queue_query import DEFAULT_SORT, QUEUE_PARAMS, SORTS, check_sort, cursor_of, queue_filters
from moderation.review.queue_types import AGES, SUBJECTS, Invalid
from moderation.review.records import Item
from moderation.review.schema import SEVERITY_RANK, STATUSES
from moderation.review.store import MAX_ID, ReviewStore

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
    if s >= 86400:
        return _("%(n)sd ago", n=s // 86400)
    if s >= 3600:
        return _("%(n)sh ago", n=s // 3600)
    if s >= 60:
        return _("%(n)sm ago", n=s // 60)
    return _("%(n)ss ago", n=s)


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


templates.env.filters.update(ts=_ts, ago=_ago, num=_num, t=lambda v: _(str(v)))  # |t: a value's translation
templates.env.globals.update(
    highlight=highlight,
    STATUSES=STATUSES,
    SEVERITIES=tuple(reversed(SEVERITY_RANK)),
    SUBJECTS=SUBJECTS,
    AGES=tuple(AGES),
    SORTS=tuple(SORTS),
    LANGUAGES=i18n.LANGUAGES,
)
i18n.install(templates.env)


def _store(request: Request) -> ReviewStore:
    s: ReviewStore = request.app.state.store
    return s


def page(request: Request, name: str, user: Principal | None, status: int = 200, **ctx: Any) -> HTMLResponse:
    store = _store(request)
    csrf = getattr(request.state, "csrf", "")
    lang = i18n.request_lang(request)
    i18n.use(lang)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ctx.update(
        user=user,
        csrf=csrf,
        now=store.clock(),
        msg=request.query_params.get("msg"),
        lang=lang,
        html_lang=i18n.HTML_LANG[lang],
        here=here if request.method == "GET" else "/",
    )
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def render_error(request: Request, status: int, message: str) -> Response:
    """HTML error page (used by the app's exception handlers for non-API paths)."""
    i18n.use(i18n.request_lang(request))
    titles = {
        401: _("Not logged in"),
        403: _("Not allowed"),
        404: _("Not found"),
        409: _("Conflict"),
        413: _("Too large"),
        422: _("Invalid request"),
        429: _("Too many attempts"),
    }
    return page(
        request, "error.html", None, status=status, title=titles.get(status, _("Error")), message=message, code=status
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
    i18n.use(i18n.request_lang(request))
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _redirect(
            "/login?" + urlencode({"next": _safe_next(next), "error": _("Login form expired; try again.")})
        )
    auth: Auth = request.app.state.auth
    keys = [address_key(request)] + ([f"user:{username[:100]}"] if username and not token.strip() else [])
    blocked = throttled(request, keys)
    if blocked is not None:
        raise blocked
    who = auth.by_token(token.strip()) if token.strip() else auth.by_password(username, password) if username else None
    if who is None:
        record_failure(request, keys)
        return _redirect("/login?" + urlencode({"next": _safe_next(next), "error": _("Wrong token or password.")}))
    request.app.state.login_throttle.success(keys[1:])
    settings = request.app.state.settings
    sid, _token = auth.create_session(who, settings.session_ttl_s)
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


@router.post("/lang")
def set_lang(lang: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    """Switch the UI language (a cookie; no queue state, so no login or CSRF token needed)."""
    resp = _redirect(_safe_next(next))
    if lang in i18n.LANGUAGES:
        resp.set_cookie(i18n.LANG_COOKIE, lang, samesite="strict", max_age=365 * 86400)
    return resp


#: Filtered queue counts stop here ("1000+"): an exact count of a filter no index covers reads
#: every matching row. The status-only count is answered from the queue index and stays exact.
COUNT_CAP = 1000


def _status_only(f: Any) -> bool:
    return not any((f.category, f.stream, f.streamer, f.severity, f.subject, f.age)) and f.tier is None


@router.get("/")
def queue(request: Request, user: PageUser) -> Response:
    store = _store(request)
    q = request.query_params
    f = queue_filters(q)
    sort = check_sort(q.get("sort") or DEFAULT_SORT)
    view = "grid" if q.get("view") == "grid" else "list"
    size = request.app.state.settings.page_size
    raw_offset = q.get("offset") or "0"
    if not (raw_offset.isascii() and raw_offset.isdigit() and len(raw_offset) <= 10 and int(raw_offset) <= MAX_ID):
        raise Invalid(f"offset must be a whole number from 0 to {MAX_ID}")
    items = store.list_items(f, size, int(raw_offset), sort=sort, after=q.get("after") or None)
    keep = [(k, v) for k, v in q.multi_items() if k not in ("after", "msg", "view", "offset") and v]
    more = urlencode([*keep, ("view", view), ("after", cursor_of(items[-1], sort))]) if len(items) == size else ""
    return page(
        request,
        "queue.html",
        user,
        items=items,
        total=store.count(f, cap=None if _status_only(f) else COUNT_CAP),
        count_cap=COUNT_CAP,
        sel={k: q.get(k) or ("open" if k == "status" else "") for k in QUEUE_PARAMS} | {"sort": sort},
        categories=sorted(store.categories),
        view=view,
        more=more,
        list_query=urlencode(keep),
        grid_query=urlencode([*keep, ("view", "grid")]),
    )


@router.post("/next", dependencies=[CsrfChecked])
def next_item(request: Request, user: PageUser) -> Response:
    """Claim the next free item and open it (a POST: claiming changes the queue)."""
    i18n.use(i18n.request_lang(request))
    item = _store(request).claim_next(user.name)
    if item is None:
        return _redirect("/?" + urlencode({"msg": _("Nothing left to review with these filters.")}))
    return _redirect(f"/items/{item.id}")


@router.post("/bulk", dependencies=[CsrfChecked])
async def bulk(request: Request, user: PageUser) -> Response:
    i18n.use(i18n.request_lang(request))
    form = await request.form()
    action = str(form.get("action", ""))
    note = str(form.get("note", "")).strip() or None
    back = _safe_next(str(form.get("back", "/")))
    back = back if back.startswith("/?") or back == "/" else "/"
    sep = "&" if "?" in back else "?"
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) < 12]
    ids = ids[:500]
    if not ids:
        return _redirect(back + sep + urlencode({"msg": _("Select items first (x toggles the highlighted row).")}))
    res = _store(request).decide_many(ids, user.name, action, admin=user.is_admin, note=note)
    msg = _("%(action)s: %(n)s done", action=_(action), n=len(res.done))
    if res.skipped:
        msg += _(", %(n)s skipped (%(why)s)", n=len(res.skipped), why=next(iter(res.skipped.values())))
    return _redirect(back + sep + urlencode({"msg": msg}))


def timeline_span(items: list[Item]) -> float:
    """Media seconds the stream timeline shows: the stream's duration as its records give it
    (``stream_duration``), else (records without it) as far as any verdict or its evidence
    reaches, so a 60 s stream whose last verdict ends at 47 s is not drawn as 47 s long."""
    ends = [1.0]
    for it in items:
        ends.append(it.t_end)
        dur = it.record.get("stream_duration")
        if isinstance(dur, int | float) and math.isfinite(dur):
            ends.append(float(dur))
        for s in it.record.get("signals") or []:
            end = s.get("end") if isinstance(s, dict) else None
            if isinstance(end, int | float) and math.isfinite(end):
                ends.append(float(end))
    return max(ends)


@router.get("/stream")
def stream_page(request: Request, name: str, user: PageUser) -> Response:
    store = _store(request)
    items = store.timeline(name)
    span = timeline_span(items)
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
    """Streamer standings (tier, profile, sampling, override, active ban); the admin forms post to
    ``web_governance``."""
    store = _store(request)
    return page(request, "risk.html", user, risks=store.risk_view(), max_tier=store.risk_model.max_tier)


@router.get("/qa")
def qa_page(request: Request, user: PageUser) -> Response:
    """Admin page: the QA sample's agreement, overall and per reviewer, and what awaits review."""
    if not user.is_admin:
        return render_error(request, 403, _("The QA page needs the admin role."))
    store = _store(request)
    return page(request, "qa.html", user, stats=store.qa_stats(), rate=store.qa_rate)


from moderation.review.patrol_web import router as _patrol_router  # noqa: E402 - the patrol wall's routes

router.include_router(_patrol_router)
