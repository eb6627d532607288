"""The worker pool as a service: a small FastAPI control API (``moderation serve``).

    POST   /streams                     {"url": ..., "stream": optional id, "app"/"name"/"profile": optional,
                                         "chat"/"gifts": feeds, "meta": room metadata object}
    PUT    /streams/{id}/meta           new room metadata of a running stream (re-checked)
    GET    /streams                     statuses of every stream
    GET    /streams/{id}                one status (404 if unknown)
    DELETE /streams/{id}                stop watching
    GET    /metrics                     Prometheus text (the pool's own registry)
    POST   /hooks/nginx/on_publish      nginx-rtmp form post → start watching (2xx = allow publish)
    POST   /hooks/nginx/on_publish_done nginx-rtmp form post → stop watching
    POST   /hooks/publish               generic JSON hook (see moderation/service/hooks.py)
    GET    /openapi.json                the OpenAPI schema
    GET    /healthz

The control routes take a bearer token (``live.api_token`` or env ``MODERATION_API_TOKEN``).
The nginx hooks cannot send headers, so they carry a secret in the hook URL's query string
(``?secret=...``; ``live.hook_secret`` or env ``MODERATION_HOOK_SECRET``, else the API token),
compared in constant time; ``live.hook_allow_from`` optionally limits them to the origin's
addresses. What a hook may make the pool open is still checked by the URL guard.
With a governance source (:mod:`moderation.service.governance`) a banned streamer's publish is
answered 403 with the ban's reason, a stream starts with its streamer's profile and sampling, and
a background loop re-steers running streams and carries out reviewers' warn/cut actions.
:func:`moderation.service.access.check_bind` refuses to serve a non-loopback address without a
token. The OpenAPI schema is at ``/openapi.json`` behind the same token; there is no ``/docs``
page, as Swagger UI would load its scripts from a CDN (like the review service's
``/api/openapi.json``). The pool is anything with the async
``add/remove/reconfigure/set_meta/list_streams/status/metrics`` interface:
:class:`moderation.cluster.managed_pool.ManagedPool` (Ray, through the stream manager) or
:class:`moderation.pipeline.pool.LocalPool`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, Protocol

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from moderation.config import ConfigError, PipelineConfig, guard_config
from moderation.ingest.urlguard import UrlGuard, UrlRefused
from moderation.pipeline.enforce import Enforcer
from moderation.pipeline.pool import DuplicateStream, PoolFull
from moderation.pipeline.status import Steering, StreamSpec, StreamStatus
from moderation.policy.governance import GovernanceSource
from moderation.service.access import RedactSecret, api_token, first_query, first_values, hook_secret
from moderation.service.governance import Banned, GovernanceLoop, ProfileError, checked_profile, publish_steering
from moderation.service.hooks import HookError, PublishEvent, parse_json, parse_nginx
from moderation.signals.room import RoomMeta, RoomMetaError, load_room_images, parse_meta

log = logging.getLogger(__name__)


#: Seconds a publish hook waits for the stream to start before answering the origin anyway.
HOOK_WAIT_S = 3.0


def _log_late_start(task: asyncio.Task[StreamStatus]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("publish hook: stream did not start: %s", task.exception())


class Pool(Protocol):
    async def add(self, spec: StreamSpec) -> StreamStatus: ...

    async def remove(self, stream_id: str, timeout: float = 15.0) -> StreamStatus | None: ...

    async def list_streams(self) -> list[StreamStatus]: ...

    async def status(self, stream_id: str) -> StreamStatus | None: ...

    async def metrics(self) -> bytes: ...

    async def reconfigure(self, stream_id: str, steering: Steering) -> StreamStatus | None: ...

    async def set_meta(self, stream_id: str, meta: RoomMeta) -> bool: ...


class AddStream(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Stream URL (checked by the URL guard).")
    stream: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-]{1,128}$", description="Id (default from the URL).")
    app: str | None = Field(None, description="nginx-rtmp application, for cut (default from an rtmp URL).")
    name: str | None = Field(None, description="Stream key at the origin, for cut (default from an rtmp URL).")
    chat: str | None = Field(None, description="Chat feed of this stream (default: live.chat_source).")
    gifts: str | None = Field(None, description="Gift feed of this stream (default: live.gift_source).")
    meta: dict[str, Any] | None = Field(
        None,
        description="Room metadata: {title, introduction, nickname, cover, avatar}; cover/avatar are image URLs "
        "(through the URL guard) or, with live.allow_files, local paths. Change it with PUT /streams/{id}/meta.",
    )
    profile: str | None = Field(
        None, description="Pipeline preset (pipelines/<profile>.yaml); default: the streamer's tier, else the pool's."
    )


def create_app(
    pool: Pool, cfg: PipelineConfig, token: str | None = None, governance: GovernanceSource | None = None
) -> FastAPI:
    """The control API over ``pool``; ``token`` overrides config and environment. ``governance``
    (the review store's bans, tiers and pending actions; None = none): bans refuse publishes,
    standings pick profiles, and a loop re-steers running streams and carries out actions."""
    live = cfg.live
    loop = GovernanceLoop(pool, governance, Enforcer(live.enforcement), live.governance_poll_s) if governance else None
    secret = api_token(live, token)
    hook_key = hook_secret(live, token)
    hook_nets = [ipaddress.ip_network(n, strict=False) for n in live.hook_allow_from]
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecret) for f in access_log.filters):
        access_log.addFilter(RedactSecret())

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        polling = asyncio.create_task(loop.run(), name="governance") if loop is not None else None
        try:
            yield
        finally:
            if polling is not None:
                polling.cancel()
        close = getattr(pool, "close", None)  # stop following streams when the service stops
        if close is not None:
            await close()

    app = FastAPI(
        title="moderation worker pool", version="1", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.governance_loop = loop

    def auth(request: Request) -> None:
        if not secret:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {secret}".encode()):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    def hook_auth(request: Request) -> None:
        """An origin's hook: from an allowed address and carrying the hook secret in its query."""
        if hook_nets:
            client = request.client.host if request.client else ""
            try:
                addr = ipaddress.ip_address(client)
            except ValueError:
                addr = None
            if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:  # a dual-stack listener's IPv4 peer
                addr = addr.ipv4_mapped
            if addr is None or not any(addr in net for net in hook_nets):
                log.warning("publish hook refused: %s is not in live.hook_allow_from", client or "unknown client")
                raise HTTPException(403, "hook not allowed from this address")
        if not hook_key:
            return
        given = request.query_params.getlist("secret")
        if len(given) != 1 or not hmac.compare_digest(given[0].encode(), hook_key.encode()):
            log.warning(
                "publish hook refused: missing or wrong secret (from %s)",
                request.client.host if request.client else "unknown client",
            )
            raise HTTPException(403, "missing or wrong hook secret")

    async def start(spec: StreamSpec) -> StreamStatus:
        try:
            return await pool.add(spec)
        except DuplicateStream as exc:
            raise HTTPException(409, str(exc)) from exc
        except PoolFull as exc:
            raise HTTPException(503, str(exc)) from exc
        except ConfigError as exc:  # the profile's preset does not load
            raise HTTPException(400, str(exc)) from exc

    async def steering(spec: StreamSpec, profile: str | None, refuse_banned: bool) -> Steering | None:
        """The stream's steering at start; raises Banned, ProfileError, or HTTPException(503)
        when the governance source fails and hooks fail closed (else it starts unsteered)."""
        checked_profile(profile)
        try:
            return await publish_steering(governance, spec.stream_id, profile, refuse_banned=refuse_banned)
        except Banned:
            raise
        except Exception as exc:
            log.error("governance source failed for %s: %s: %s", spec.stream_id, type(exc).__name__, exc)
            if live.hooks_fail_closed:
                raise HTTPException(503, f"governance source unavailable: {exc}") from exc
            return await publish_steering(None, spec.stream_id, profile)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(auth)])
    async def openapi() -> dict[str, Any]:
        return app.openapi()

    def json_hook_auth(request: Request) -> None:
        """The JSON hook: the bearer token (a caller that can send headers) or the hook secret."""
        if "secret" in request.query_params:
            hook_auth(request)
        else:
            auth(request)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/streams", status_code=201, dependencies=[Depends(auth)])
    async def add_stream(body: AddStream) -> dict[str, Any]:
        try:
            UrlGuard(guard_config(live)).check(body.url)
            if body.chat:
                UrlGuard(guard_config(live, schemes=("http", "https"))).check(body.chat)
            if body.gifts:
                UrlGuard(guard_config(live, schemes=("http", "https"))).check(body.gifts)
        except UrlRefused as exc:
            raise HTTPException(400, str(exc)) from exc
        base = StreamSpec.from_url(body.url, body.stream)
        meta = None
        if body.meta is not None:
            await room_meta(body.meta, base.stream_id)
            meta = json.dumps(body.meta, ensure_ascii=False)
        spec = StreamSpec(
            base.stream_id,
            base.url,
            body.app or base.app,
            body.name or base.name,
            chat=body.chat,
            gifts=body.gifts,
            meta=meta,
        )
        try:  # an operator's request: a ban refuses the streamer's publishes, not watching it
            steer = await steering(spec, body.profile, refuse_banned=False)
        except ProfileError as exc:
            raise HTTPException(400, str(exc)) from exc
        return (await start(replace(spec, steering=steer))).to_dict()

    async def room_meta(data: object, stream_id: str) -> RoomMeta:
        """Room metadata whose images were read through the URL guard and are images, or a 400."""
        guard = UrlGuard(guard_config(live, schemes=("http", "https")))
        try:
            meta = parse_meta(data, stream_id)
            await asyncio.to_thread(load_room_images, meta, guard)
        except RoomMetaError as exc:
            raise HTTPException(400, str(exc)) from exc
        return meta

    @app.put("/streams/{stream_id}/meta", dependencies=[Depends(auth)])
    async def put_meta(stream_id: str, request: Request) -> dict[str, Any]:
        """New room metadata for a running stream: checked again at its next tick."""
        try:
            data = await request.json()
        except ValueError as exc:
            raise HTTPException(400, "body must be a JSON object of room metadata") from exc
        meta = await room_meta(data, stream_id)
        if not await pool.set_meta(stream_id, meta):
            raise HTTPException(404, f"no stream {stream_id!r}")
        return {"stream": stream_id, "meta": "accepted; checked at the stream's next tick"}

    @app.get("/streams", dependencies=[Depends(auth)])
    async def list_streams() -> list[dict[str, Any]]:
        return [s.to_dict() for s in await pool.list_streams()]

    @app.get("/streams/{stream_id}", dependencies=[Depends(auth)])
    async def get_stream(stream_id: str) -> dict[str, Any]:
        st = await pool.status(stream_id)
        if st is None:
            raise HTTPException(404, f"no stream {stream_id!r}")
        return st.to_dict()

    @app.delete("/streams/{stream_id}", dependencies=[Depends(auth)])
    async def delete_stream(stream_id: str) -> dict[str, Any]:
        st = await pool.remove(stream_id)
        if st is None:
            raise HTTPException(404, f"no stream {stream_id!r}")
        return st.to_dict()

    @app.get("/metrics", dependencies=[Depends(auth)])
    async def metrics() -> Response:
        return Response(await pool.metrics(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def act(ev: PublishEvent) -> Response:
        if ev.event == "publish_done":
            st = await pool.remove(ev.spec.stream_id)
            log.info("publish_done %s: %s", ev.spec.stream_id, "stopped" if st else "was not watched")
            return PlainTextResponse("ok")
        try:
            spec = replace(ev.spec, steering=await steering(ev.spec, ev.profile, refuse_banned=True))
        except Banned as exc:  # non-2xx: nginx-rtmp refuses the publisher
            log.warning("publish %s refused: %s", ev.spec.stream_id, exc)
            return PlainTextResponse(str(exc), status_code=403)
        except ProfileError as exc:
            log.warning("publish %s refused: %s", ev.spec.stream_id, exc)
            return PlainTextResponse(str(exc), status_code=400)
        except HTTPException as exc:
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
        task = asyncio.ensure_future(pool.add(spec))
        try:
            # The origin holds the publisher until we answer: do not make it wait for a slow actor start.
            st = await asyncio.wait_for(asyncio.shield(task), HOOK_WAIT_S)
        except TimeoutError:
            task.add_done_callback(_log_late_start)
            return PlainTextResponse("ok (starting)")
        except DuplicateStream:
            return PlainTextResponse("already watched")
        except ConfigError as exc:
            log.error("publish %s not watched: %s", ev.spec.stream_id, exc)
            return PlainTextResponse(str(exc), status_code=400)
        except PoolFull as exc:  # the pool is full: let the stream go on unwatched unless failing closed
            log.error("publish %s not watched: %s", ev.spec.stream_id, exc)
            if live.hooks_fail_closed:
                return PlainTextResponse(str(exc), status_code=503)
            return PlainTextResponse("not watched: pool full")
        log.info("publish %s from %s: watching %s", ev.spec.stream_id, ev.addr, st.url)
        return PlainTextResponse("ok")

    def refused(exc: HookError) -> Response:
        log.warning("publish hook refused: %s", exc)
        return PlainTextResponse(str(exc), status_code=403 if live.hooks_fail_closed else 200)

    @app.post("/hooks/nginx/on_publish", dependencies=[Depends(hook_auth)])
    async def on_publish(request: Request) -> Response:
        form = first_values(await request.form())
        try:
            return await act(parse_nginx(form, live, "publish", first_query(request, "profile")))
        except HookError as exc:
            return refused(exc)

    @app.post("/hooks/nginx/on_publish_done", dependencies=[Depends(hook_auth)])
    async def on_publish_done(request: Request) -> Response:
        form = first_values(await request.form())
        try:
            return await act(parse_nginx(form, live, "publish_done"))
        except HookError as exc:
            return refused(exc)

    @app.post("/hooks/publish", dependencies=[Depends(json_hook_auth)])
    async def publish_hook(request: Request) -> Response:
        try:
            return await act(parse_json(await request.json(), live))
        except HookError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)

    return app
