"""Admin forms of the risk page: ban a streamer, lift a ban, override a tier (each with a reason,
audited by the store). A refused action re-renders the page with the reason and a 4xx status."""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import Response

from moderation.review import i18n
from moderation.review.i18n import _
from moderation.review.queue_types import Conflict, Invalid, NotFound, QueueError
from moderation.review.web import CsrfChecked, PageUser, _redirect, _store, page, router

Text = Annotated[str, Form(max_length=2000)]


def _number(raw: str, name: str) -> float | None:
    if not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Invalid(f"{name} must be a number, got {raw[:32]!r}") from None
    if not math.isfinite(value):
        raise Invalid(f"{name} must be a finite number")
    return value


def _refused(request: Request, user: PageUser, exc: QueueError) -> Response:
    store = _store(request)
    code = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 422
    return page(
        request,
        "risk.html",
        user,
        status=code,
        error=str(exc),
        risks=store.risk_view(),
        max_tier=store.risk_model.max_tier,
    )


def _admin_only(request: Request, user: PageUser) -> Response | None:
    if user.is_admin:
        return None
    store = _store(request)
    msg = _("Governance actions need the admin role.")
    return page(request, "risk.html", user, status=403, error=msg, risks=store.risk_view(), max_tier=0)


@router.post("/risk/ban", dependencies=[CsrfChecked])
def ban(
    request: Request,
    user: PageUser,
    streamer: Annotated[str, Form(max_length=200)],
    reason: Text = "",
    days: Annotated[str, Form(max_length=32)] = "",
    force: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    i18n.use(i18n.request_lang(request))
    if (denied := _admin_only(request, user)) is not None:
        return denied
    try:
        _store(request).ban_streamer(streamer, user.name, reason, days=_number(days, "days"), force=bool(force))
    except QueueError as exc:
        return _refused(request, user, exc)
    return _redirect("/risk?" + urlencode({"msg": _("%(who)s is banned.", who=streamer)}))


@router.post("/risk/lift", dependencies=[CsrfChecked])
def lift(
    request: Request,
    user: PageUser,
    streamer: Annotated[str, Form(max_length=200)],
    reason: Text = "",
    appeal: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    i18n.use(i18n.request_lang(request))
    if (denied := _admin_only(request, user)) is not None:
        return denied
    try:
        _store(request).lift_ban(streamer, user.name, reason, appeal=bool(appeal))
    except QueueError as exc:
        return _refused(request, user, exc)
    return _redirect("/risk?" + urlencode({"msg": _("The ban of %(who)s is lifted.", who=streamer)}))


@router.post("/risk/tier", dependencies=[CsrfChecked])
def tier(
    request: Request,
    user: PageUser,
    streamer: Annotated[str, Form(max_length=200)],
    reason: Text = "",
    tier: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    i18n.use(i18n.request_lang(request))
    if (denied := _admin_only(request, user)) is not None:
        return denied
    try:
        value = _number(tier, "tier")
        if value is not None and value != int(value):
            raise Invalid("tier must be a whole number")
        _store(request).override_tier(streamer, None if value is None else int(value), user.name, reason)
    except QueueError as exc:
        return _refused(request, user, exc)
    return _redirect("/risk?" + urlencode({"msg": _("The tier of %(who)s is set.", who=streamer)}))
