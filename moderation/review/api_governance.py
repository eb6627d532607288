"""JSON API of governance: streamer standings, the penalties an item allows, and the admin
actions — ban, lift a ban (or uphold an appeal), override a tier, revert a penalty. Each admin
action needs a reason and is audited; bad input is a 4xx naming what was wrong.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, field_validator

from moderation.review.api_routes import AdminUser, PathId, User, _no_nul, _store

router = APIRouter(prefix="/api", tags=["governance"])


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why (kept in the audit log).")

    _text = field_validator("reason")(_no_nul)


class BanIn(Reason):
    streamer: str = Field(min_length=1, max_length=200)
    days: float | None = Field(default=None, gt=0, le=3650, description="Length in days; omit for a permanent ban.")
    force: bool = Field(default=False, description="Ban a streamer this store has never seen.")

    _name = field_validator("streamer")(_no_nul)


class LiftIn(Reason):
    streamer: str = Field(min_length=1, max_length=200)
    appeal: bool = Field(default=False, description="Recorded as an upheld appeal rather than an unban.")

    _name = field_validator("streamer")(_no_nul)


class TierIn(Reason):
    streamer: str = Field(min_length=1, max_length=200)
    tier: int | None = Field(default=None, ge=0, le=99, description="The tier to apply; null clears the override.")

    _name = field_validator("streamer")(_no_nul)


@router.get("/risk", summary="Streamer standings: tier, profile, sampling, override, active ban (highest first)")
def risks(request: Request, _: User, limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
    return _store(request).risk_view(limit)


@router.get("/items/{item_id}/penalties", summary="Penalties a confirmation of the item may carry, and the default")
def item_penalties(
    request: Request,
    item_id: PathId,
    _: User,
    category: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")] = None,
) -> dict[str, Any]:
    store = _store(request)
    c = store.penalty_choice(store.get(item_id), category)
    return {"allowed": list(c.allowed), "default": c.default, "ban_days": c.ban_days, "max_ban_days": c.max_ban_days}


@router.post("/admin/bans", summary="Ban a streamer for some days or permanently [admin]", status_code=201)
def ban(request: Request, body: BanIn, admin: AdminUser) -> dict[str, Any]:
    b = _store(request).ban_streamer(body.streamer, admin.name, body.reason, days=body.days, force=body.force)
    return dict(b.__dict__)


@router.post("/admin/bans/lift", summary="Lift a streamer's active bans (unban, or an upheld appeal) [admin]")
def lift(request: Request, body: LiftIn, admin: AdminUser) -> dict[str, Any]:
    n = _store(request).lift_ban(body.streamer, admin.name, body.reason, appeal=body.appeal)
    return {"streamer": body.streamer, "lifted": n}


@router.post("/admin/tiers", summary="Override (or clear) a streamer's risk tier [admin]")
def override(request: Request, body: TierIn, admin: AdminUser) -> dict[str, Any]:
    r = _store(request).override_tier(body.streamer, body.tier, admin.name, body.reason)
    return {"streamer": r.streamer, "override_tier": r.override_tier, "reason": r.override_reason}


@router.post("/items/{item_id}/penalty/revert", summary="Revert a confirmation's penalty [admin]")
def revert(request: Request, item_id: PathId, body: Reason, admin: AdminUser) -> dict[str, Any]:
    store = _store(request)
    return store.public_items([store.revert_penalty(item_id, admin.name, body.reason)])[0]
