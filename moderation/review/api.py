"""FastAPI app factory for the review service: the JSON API and the reviewer web UI.

``create_app(settings)`` wires one ``ReviewStore`` and one ``Auth`` into the app, adds the
request-size limit and security headers, and maps queue errors to clear 4xx responses. The JSON
routes are in ``api_routes.py``, the HTML pages in ``web.py``. FastAPI's own ``/docs`` page is off
because it loads Swagger UI from a CDN; the OpenAPI document is served at ``/api/openapi.json``
(authenticated, like every route except the login page and the app's own static CSS/JS).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moderation.review.auth import Auth
from moderation.review.deps import LoginRequired
from moderation.review.settings import ReviewSettings
from moderation.review.store import Conflict, Invalid, NotFound, QueueError, ReviewStore
from moderation.review.throttle import LoginThrottle

UI_DIR = Path(__file__).parent / "ui"

_CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not they declare a length.

    Declared lengths are refused before reading; chunked bodies are counted as they arrive.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def _reject(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body larger than {self.limit} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._reject(send)
            return
        seen = 0
        over = False  # the app may swallow our exception (e.g. as a 400 body-parse error) ...
        replaced = False

        async def counted() -> Message:
            nonlocal seen, over
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise _TooLarge
            return msg

        async def tracked(msg: Message) -> None:
            nonlocal replaced
            if over:  # ... so whatever it answers is replaced by the 413
                if not replaced:
                    replaced = True
                    await self._reject(send)
                return
            await send(msg)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not replaced:
                await self._reject(send)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status)
    from moderation.review.web import render_error

    return render_error(request, status, message)


def create_app(
    settings: ReviewSettings | None = None,
    *,
    store: ReviewStore | None = None,
    clock: Callable[[], float] | None = None,
) -> FastAPI:
    """Build the app. Tests pass ``store`` (and a fake ``clock``); the CLI passes only settings."""
    settings = settings or ReviewSettings()
    store = store or ReviewStore.open(settings, clock=clock or time.time)
    app = FastAPI(
        title="Moderation review queue",
        version="1",
        description="Flagged verdicts from the moderation pipeline, their evidence, and human decisions. "
        "Authenticate with `Authorization: Bearer <token>` (create tokens with `moderation review token`).",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.auth = Auth(store.engine, store.clock)
    app.state.login_throttle = LoginThrottle(
        free=settings.login_free_failures,
        backoff_s=settings.login_backoff_s,
        max_s=settings.login_backoff_max_s,
        max_keys=settings.login_track_max,
    )

    # web_item and web_governance add their routes to web.router
    from moderation.review import api_governance, api_routes, web, web_governance, web_item  # noqa: F401

    app.include_router(api_routes.router)
    from moderation.review.metrics import router as metrics_router  # GET /metrics (Prometheus)

    app.include_router(metrics_router)
    app.include_router(api_governance.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=UI_DIR / "static"), name="static")

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(_: Any = api_routes.AnyUser) -> dict[str, Any]:
        return app.openapi()

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    @app.exception_handler(QueueError)
    async def queue_error(request: Request, exc: QueueError) -> Response:
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 422
        if isinstance(exc, Invalid):
            status = 422
        return _error(request, status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        resp = _error(request, exc.status_code, str(exc.detail))
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        first = errs[0] if errs else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        return _error(request, 422, f"{where or 'request'}: {first.get('msg')}")

    return app


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
