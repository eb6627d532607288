"""JSON API of the review queue (OpenAPI at ``/api/openapi.json``).

Every route needs a bearer token or a browser session; admin-only routes say so. Clips and
thumbnails are addressed by item id (an integer) and index — the file path is looked up in the
database and confined to the media directory, never taken from the request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field, field_validator

from moderation.config.records import RecordsConfig
from moderation.review import media
from moderation.review.auth import Auth, AuthError, Principal
from moderation.review.deps import api_admin, api_user
from moderation.review.queue_query import DEFAULT_SORT, check_sort, cursor_of, queue_filters
from moderation.review.records import CATEGORY_PATTERN, RecordError, VerdictRecord
from moderation.review.retention import apply_retention
from moderation.review.store import MAX_ID, Filters, Invalid, ReviewStore

router = APIRouter(prefix="/api", tags=["review"])
AnyUser = Depends(api_user)
Admin = Depends(api_admin)
User = Annotated[Principal, AnyUser]
AdminUser = Annotated[Principal, Admin]
ItemId = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="Item id.")]
Text200 = Annotated[str | None, Query(max_length=200)]


def _no_nul(v: str | None) -> str | None:
    if v is not None and "\0" in v:
        raise ValueError("contains a NUL character")
    return v


def _store(request: Request) -> ReviewStore:
    s: ReviewStore = request.app.state.store
    return s


class DecisionIn(BaseModel):
    action: Literal["confirm", "dismiss", "escalate"]
    category: str | None = Field(
        default=None,
        max_length=64,
        pattern=CATEGORY_PATTERN,
        description="Confirm as this category (default: the verdict's); one of the policy's categories.",
    )
    note: str | None = Field(default=None, max_length=2000)
    sub_label: str | None = Field(
        default=None, max_length=64, description="Sub-label of a confirmation (ReviewSettings.sub_labels)."
    )
    penalty: Literal["none", "warn", "cut", "ban", "permanent_ban"] | None = Field(
        default=None,
        description="Penalty of a confirmation, one the policy allows for the item (policy.penalties; "
        "GET /api/items/{id}/penalties lists them); default: the policy's default for the item.",
    )
    ban_days: float | None = Field(default=None, gt=0, description="Length of a 'ban' penalty in days.")

    _text = field_validator("note", "sub_label")(_no_nul)


class BulkIn(DecisionIn):
    ids: list[ItemId] = Field(min_length=1, max_length=500)


class FiltersIn(BaseModel):
    category: str | None = Field(default=None, max_length=200)
    stream: str | None = Field(default=None, max_length=200)
    streamer: str | None = Field(default=None, max_length=200)

    _text = field_validator("category", "stream", "streamer")(_no_nul)


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Literal["reviewer", "admin"] = "reviewer"
    password: str | None = Field(default=None, min_length=10, max_length=200)


class TokenIn(BaseModel):
    user: str = Field(min_length=1, max_length=100)
    label: str = Field(default="", max_length=200)

    _text = field_validator("user", "label")(_no_nul)


@router.get("/items", summary="List items in queue order (default: severity, then age); keyset paging via 'after'")
def list_items(request: Request, _: User) -> dict[str, Any]:
    """Query parameters as on the queue page: ``status`` (or ``all``), ``category``, ``stream``,
    ``streamer``, ``severity``, ``subject``, ``tier``, ``age``, ``sort``, ``after`` (the ``next``
    cursor of the previous page), ``limit`` (1-1000) and ``offset``. Unknown ones are a 422."""
    q = request.query_params
    store = _store(request)
    f = queue_filters(q)
    sort = check_sort(q.get("sort") or DEFAULT_SORT)
    limit, offset = _bounded(q.get("limit"), "limit", 100, 1, 1000), _bounded(q.get("offset"), "offset", 0, 0, MAX_ID)
    items = store.list_items(f, limit, offset, sort=sort, after=q.get("after") or None)
    nxt = cursor_of(items[-1], sort) if len(items) == limit else None
    return {"total": store.count(f), "items": store.public_items(items), "next": nxt}


def _bounded(raw: str | None, name: str, default: int, lo: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and lo <= int(raw) <= hi):
        raise Invalid(f"{name} must be a whole number from {lo} to {hi}")
    return int(raw)


@router.get("/items/{item_id}", summary="One item with its signals, penalty and enforcement")
def get_item(request: Request, item_id: PathId, _: User) -> dict[str, Any]:
    store = _store(request)
    return store.public_items([store.get(item_id)])[0]


@router.post("/items/claim-next", summary="Claim the next free item (204 when the queue is empty)")
def claim_next(request: Request, user: User, body: FiltersIn | None = None) -> Any:
    store = _store(request)
    f = body or FiltersIn()
    item = store.claim_next(user.name, Filters("open", f.category, f.stream, f.streamer))
    return Response(status_code=204) if item is None else item.public(store.clock())


@router.post("/items/{item_id}/claim", summary="Claim or renew the lease on an item (409 if someone else holds it)")
def claim(request: Request, item_id: PathId, user: User) -> dict[str, Any]:
    store = _store(request)
    return store.claim(item_id, user.name).public(store.clock())


@router.post("/items/{item_id}/release", summary="Return a claimed item to the queue")
def release(request: Request, item_id: PathId, user: User) -> dict[str, Any]:
    store = _store(request)
    store.release(item_id, user.name)
    return store.get(item_id).public(store.clock())


@router.post("/items/{item_id}/decision", summary="Confirm, dismiss (false positive) or escalate")
def decide(request: Request, item_id: PathId, body: DecisionIn, user: User) -> dict[str, Any]:
    store = _store(request)
    item = store.decide(
        item_id,
        user.name,
        body.action,
        category=body.category,
        note=body.note,
        admin=user.is_admin,
        sub_label=body.sub_label,
        penalty=body.penalty,
        ban_days=body.ban_days,
    )
    return store.public_items([item])[0]


@router.post("/decisions/bulk", summary="Apply one decision to many items; held items are skipped")
def bulk(request: Request, body: BulkIn, user: User) -> dict[str, Any]:
    res = _store(request).decide_many(
        body.ids,
        user.name,
        body.action,
        category=body.category,
        note=body.note,
        admin=user.is_admin,
        penalty=body.penalty,
        ban_days=body.ban_days,
    )
    return {"done": res.done, "skipped": {str(k): v for k, v in res.skipped.items()}}


class QaIn(BaseModel):
    action: Literal["confirm", "dismiss", "escalate"]
    category: str | None = Field(default=None, max_length=64, pattern=CATEGORY_PATTERN)


@router.post("/items/{item_id}/qa", summary="Second review of a decision in the QA sample (another reviewer)")
def qa_review(request: Request, item_id: PathId, body: QaIn, user: User) -> dict[str, Any]:
    return _store(request).qa_review(item_id, user.name, body.action, body.category)


@router.get("/qa", summary="QA sample agreement, overall and per first reviewer [admin]")
def qa_stats(request: Request, _: AdminUser) -> dict[str, Any]:
    st = _store(request).qa_stats()
    return {
        "sampled": st.sampled,
        "reviewed": st.reviewed,
        "agreed": st.agreed,
        "agreement": st.agreement,
        "by_reviewer": {k: {"reviewed": n, "agreed": a} for k, (n, a) in st.by_reviewer.items()},
        "pending": [p["item_id"] for p in st.pending],
    }


def _file(path: Path | None, kind: str, media_type: str) -> FileResponse:
    if path is None:
        raise HTTPException(404, f"{kind} not available (none recorded, or purged by retention)")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/items/{item_id}/clip", summary="The item's MP4 evidence clip", response_class=FileResponse)
def clip(request: Request, item_id: PathId, _: User) -> FileResponse:
    store = _store(request)
    return _file(media.resolve(store.media_dir, store.get(item_id).clip_path), "clip", "video/mp4")


@router.get("/items/{item_id}/thumbnails/{index}", summary="One thumbnail of the item", response_class=FileResponse)
def thumbnail(
    request: Request, item_id: PathId, index: Annotated[int, PathParam(ge=0, le=100)], _: User
) -> FileResponse:
    store = _store(request)
    thumbs = store.get(item_id).thumb_paths
    rel = thumbs[index] if index < len(thumbs) else None
    mt = "image/png" if rel and rel.endswith(".png") else "image/jpeg"
    return _file(media.resolve(store.media_dir, rel), "thumbnail", mt)


@router.get("/streams/timeline", summary="All verdicts of one stream in media-time order")
def timeline(request: Request, stream: Annotated[str, Query(min_length=1, max_length=200)], _: User) -> dict[str, Any]:
    store = _store(request)
    return {"stream": stream, "items": store.public_items(store.timeline(stream))}


@router.get("/audit", summary="Audit log, newest first")
def audit(
    request: Request,
    _: User,
    item_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return [e.__dict__ for e in _store(request).audit_log(item_id=item_id, limit=limit, actor=actor)]


@router.get("/me", summary="Who the credentials belong to")
def me(user: User) -> dict[str, Any]:
    return {"name": user.name, "role": user.role}


# -- admin ----------------------------------------------------------------------------------


@router.post("/verdicts", summary="Upsert a verdict record (DESIGN.md §4.2) without media [admin]")
def post_verdict(request: Request, record: VerdictRecord, user: AdminUser) -> dict[str, Any]:
    if record.clip or record.thumbnails:
        raise HTTPException(
            422, "clip/thumbnails cannot be sent over HTTP; import the report with `moderation review import`"
        )
    try:
        res = _store(request).upsert_verdict(record.stored(), actor=user.name)
    except RecordError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"id": res.item_id, "created": res.created, "changed": res.changed}


@router.post("/admin/users", summary="Create a user [admin]", status_code=201)
def create_user(request: Request, body: UserIn, admin: AdminUser) -> dict[str, Any]:
    auth: Auth = request.app.state.auth
    try:
        uid = auth.create_user(body.name, body.role, body.password)
    except AuthError as exc:
        raise HTTPException(422, str(exc)) from None
    _store(request).audit(admin.name, "user.create", detail={"user": body.name, "role": body.role})
    return {"id": uid, "name": body.name, "role": body.role}


@router.post("/admin/tokens", summary="Create an API/login token for a user; shown once [admin]", status_code=201)
def create_token(request: Request, body: TokenIn, admin: AdminUser) -> dict[str, Any]:
    auth: Auth = request.app.state.auth
    try:
        token = auth.create_token(body.user, body.label)
    except AuthError as exc:
        raise HTTPException(404, str(exc)) from None
    _store(request).audit(admin.name, "token.create", detail={"user": body.user, "label": body.label})
    return {"user": body.user, "token": token}


@router.post("/admin/retention/purge", summary="Purge evidence of items decided before the retention period [admin]")
def purge(request: Request, admin: AdminUser) -> dict[str, Any]:
    # The same rules as ``moderation review purge`` (legal hold on confirmed items included); the
    # API has no records folder, so only the queue's clips and thumbnails are considered.
    days = request.app.state.settings.retention_days
    res = apply_retention(_store(request), RecordsConfig(retention_days=days), None, actor=admin.name)
    return {"items": res.items, "files": res.files, "retention_days": days}
