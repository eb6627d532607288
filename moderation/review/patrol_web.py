"""Routes of the patrol wall: the page, one JSON snapshot, and its server-sent event stream.

    GET /patrol               the wall (HTML; behind the login like every page)
    GET /api/patrol           one snapshot (JSON; bearer token or session)
    GET /api/patrol/events    ``text/event-stream``: an ``event: snapshot`` on change and at least
                              every ``patrol.refresh_s``

The page draws its tiles from the events (``ui/static/patrol.js``); labels come translated in the
page, so the script has no strings of its own.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from moderation.review import i18n
from moderation.review.auth import Principal
from moderation.review.deps import api_user, page_user
from moderation.review.i18n import _
from moderation.review.patrol import HttpPoolStatus, PoolStatusSource
from moderation.review.patrol_hub import HubFull, PatrolHub
from moderation.review.records import CANONICAL_CATEGORIES
from moderation.review.schema import SEVERITY_RANK
from moderation.review.settings import ReviewSettings

router = APIRouter()
ApiUser = Annotated[Principal, Depends(api_user)]
PageUser = Annotated[Principal, Depends(page_user)]


def hub(request: Request) -> PatrolHub:
    """The app's hub, made on first use inside the serving event loop (tests may set
    ``app.state.patrol_source`` to a fake pool before the first request)."""
    app = request.app
    found: PatrolHub | None = getattr(app.state, "patrol_hub", None)
    if found is not None and found.loop is asyncio.get_running_loop():
        return found
    settings: ReviewSettings = app.state.settings
    source: PoolStatusSource | None = getattr(app.state, "patrol_source", None)
    if source is None and settings.patrol.pool_url is not None:
        source = HttpPoolStatus(settings.patrol)
    app.state.patrol_hub = PatrolHub(app.state.store, settings.patrol, source)
    return app.state.patrol_hub


def labels(categories: tuple[str, ...] = ()) -> dict[str, Any]:
    """Everything the wall's script shows, in the request's language."""
    words: dict[str, Any] = {
        "ok": _("ok"),
        "lagging": _("lagging"),
        "degraded": _("degraded"),
        "starting": _("starting"),
        "reconnecting": _("reconnecting"),
        "ended": _("ended"),
        "error": _("error"),
        "unknown": _("unknown"),
        "lag": _("lag"),
        "tier": _("tier"),
        "profile": _("profile"),
        "dropped": _("dropped"),
        "reconnects": _("reconnects"),
        "no_alerts": _("no open alerts"),
        "more": _("+%(n)s more"),
        "not_in_pool": _("not watched by the pool"),
        "no_thumb": _("no keyframe yet"),
        "pool_off": _("No pool configured: showing streams with open live items from the review store."),
        "pool_down": _("Pool unreachable, showing the review store only:"),
        "pool_ok": _("Pool connected."),
        "empty": _("No live streams right now."),
        "hidden": _("%(n)s more streams not shown"),
        "disconnected": _("Connection lost; reconnecting…"),
    }
    words["values"] = {v: _(v) for v in (*SEVERITY_RANK, *CANONICAL_CATEGORIES, *categories)}
    return words


@router.get("/patrol", include_in_schema=False)
def patrol_page(request: Request, user: PageUser) -> Response:
    from moderation.review.web import page

    i18n.use(i18n.request_lang(request))
    settings: ReviewSettings = request.app.state.settings
    words = labels(tuple(request.app.state.store.categories))
    return page(request, "patrol.html", user, labels=words, refresh_s=settings.patrol.refresh_s)


@router.get("/api/patrol", tags=["review"], summary="One patrol-wall snapshot: live streams, alerts, health")
async def patrol_snapshot(request: Request, _: ApiUser) -> dict[str, Any]:
    return await hub(request).snapshot()


@router.get(
    "/api/patrol/events",
    tags=["review"],
    summary="Server-sent events: a patrol-wall snapshot on change and every patrol.refresh_s",
    response_class=StreamingResponse,
)
async def patrol_events(request: Request, _: ApiUser) -> StreamingResponse:
    h = hub(request)
    try:
        slot = h.subscribe()
    except HubFull as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "10"}) from None
    return StreamingResponse(
        h.events(slot),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
