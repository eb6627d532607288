"""The item page and its actions: claim, decide, release, second review (QA).

Opening an item never changes it: the page is a GET and claims nothing. The lease is taken by a
POST: the page's script claims on load (``X-CSRF-Token`` on ``/api/items/<id>/claim``), the
"Claim" button does the same without the script, and deciding an unclaimed item is allowed. A
decision that fails (someone else holds the item, it was decided meanwhile, a high item dismissed
without a reason) re-renders the page with the message and the reviewer's note kept.
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import Response

from moderation.review import i18n, item_view
from moderation.review.auth import Principal
from moderation.review.i18n import _
from moderation.review.queue_types import Invalid, QueueError
from moderation.review.records import Item
from moderation.review.store import Conflict, ReviewStore
from moderation.review.web import CsrfChecked, PageUser, _redirect, _store, page, router


def _can_decide(item: Item, user: Principal, now: float) -> bool:
    allowed = ("open", "escalated") if user.is_admin else ("open",)
    return item.status in allowed and not item.claimed_by_other(user.name, now)


def _texts(item: Item) -> list[tuple[dict[str, Any], Any, bool]]:
    """Signals that carry text (ASR transcript, OCR, chat) with their matches marked."""
    out = []
    seen: set[tuple[str, str, str]] = set()
    for s in item_view.signals_of(item.record):
        text, term = s.get("text"), s.get("term")
        if not isinstance(text, str) or not text or not isinstance(term or "", str):
            continue
        key = (str(s.get("kind")), text, str(term))
        if key in seen:  # identical lines are grouped in the signals table with their times
            continue
        seen.add(key)
        html, by_span = item_view.highlighted(s)
        out.append((s, html, by_span))
    return out


def _penalty_table(store: ReviewStore, item: Item) -> dict[str, Any]:
    """What the page's script needs to offer the right penalties when the reviewer confirms the
    item as another category: each category's allowed penalties, default and ban lengths, and
    the penalties' names in the page's language."""
    table = {}
    for c in sorted(store.categories | {item.category}):
        ch = store.penalty_choice(item, c)
        table[c] = {"allowed": list(ch.allowed), "default": ch.default, "ban_days": ch.ban_days, "max": ch.max_ban_days}
    names = {p: _(p) for p in ("none", "warn", "cut", "ban", "permanent_ban")}
    return {"categories": table, "names": names}


def render_item(
    request: Request,
    store: ReviewStore,
    item: Item,
    user: Principal,
    *,
    status: int = 200,
    error: str | None = None,
    note: str | None = None,
    chosen_penalty: str | None = None,
) -> Response:
    now = store.clock()
    notice = None
    if item.status == "open" and item.claimed_by_other(user.name, now):
        notice = _("Read-only: item %(id)s is being reviewed by %(who)s.", id=item.id, who=item.claimed_by)
    prev_id, next_id = store.neighbours(item.id)
    qa_row = store.qa_entry(item.id)
    settings = request.app.state.settings
    sigs = item_view.signals_of(item.record)
    return page(
        request,
        "item.html",
        user,
        status=status,
        item=item,
        notice=notice,
        error=error,
        note=note,
        prev_id=prev_id,
        next_id=next_id,
        risk=store.streamer_risk(item.streamer),
        audit=store.audit_log(item_id=item.id, limit=50),
        can_decide=_can_decide(item, user, now),
        claim_on_load=item.status == "open" and not item.claimed_by_other(user.name, now),
        texts=_texts(item),
        groups=item_view.grouped(item.record),
        qrs=[q for q in (item_view.qr_info(s) for s in sigs) if q],
        markers=item_view.markers(item.record, item.t_start),
        start_at=item_view.start_at(item.record, item.t_start),
        enforcement=item_view.enforcement(item.record),
        penalty=store.penalty_choice(item),
        penalty_table=_penalty_table(store, item),
        chosen_penalty=chosen_penalty,
        penalty_steps=store.penalty_steps(item),
        context=store.context(item),
        categories=sorted(store.categories | {item.category}),
        sub_labels=store.sub_labels,
        clause=settings.clauses.get(item.category),
        qa_open=bool(qa_row and qa_row["second_at"] is None and qa_row["first_by"] != user.name),
    )


@router.get("/items/{item_id}")
def item_page(request: Request, item_id: int, user: PageUser) -> Response:
    store = _store(request)
    return render_item(request, store, store.get(item_id), user)


@router.post("/items/{item_id}/claim", dependencies=[CsrfChecked])
def claim(request: Request, item_id: int, user: PageUser) -> Response:
    store = _store(request)
    i18n.use(i18n.request_lang(request))
    try:
        store.claim(item_id, user.name)
    except Conflict as exc:
        return render_item(request, store, store.get(item_id), user, status=409, error=str(exc))
    return _redirect(f"/items/{item_id}?" + urlencode({"msg": _("You hold item %(id)s now.", id=item_id)}))


@router.post("/items/{item_id}/decide", dependencies=[CsrfChecked])
def decide(
    request: Request,
    item_id: int,
    user: PageUser,
    action: Annotated[str, Form()],
    category: Annotated[str, Form()] = "",
    sub_label: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    penalty: Annotated[str, Form(max_length=32)] = "",
    ban_days: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    store = _store(request)
    i18n.use(i18n.request_lang(request))
    confirm = action == "confirm"
    try:
        # The penalty fields go with a confirmation only; a ban's length with a ban only.
        store.decide(
            item_id,
            user.name,
            action,
            category=category or None,
            sub_label=sub_label or None,
            note=note.strip() or None,
            admin=user.is_admin,
            penalty=(penalty or None) if confirm else None,
            ban_days=_days(ban_days) if confirm and penalty == "ban" else None,
        )
    except QueueError as exc:
        item = store.get(item_id)  # NotFound propagates as the 404 page
        code = 409 if isinstance(exc, Conflict) else 422
        chosen = penalty or None
        return render_item(request, store, item, user, status=code, error=str(exc), note=note, chosen_penalty=chosen)
    nxt = store.claim_next(user.name)
    msg = _("Item #%(id)s: %(action)s recorded.", id=item_id, action=_(action))
    return _redirect(f"/items/{nxt.id}?" + urlencode({"msg": msg}) if nxt else "/?" + urlencode({"msg": msg}))


def _days(raw: str) -> float | None:
    if not raw.strip():
        return None
    try:
        days = float(raw)
    except ValueError:
        raise Invalid(f"ban days must be a number, got {raw[:32]!r}") from None
    if not math.isfinite(days):
        raise Invalid("ban days must be a finite number")
    return days


@router.post("/items/{item_id}/revert-penalty", dependencies=[CsrfChecked])
def revert_penalty(request: Request, item_id: int, user: PageUser, reason: Annotated[str, Form()] = "") -> Response:
    """Admin: undo a confirmation's penalty (lift its ban, cancel its pending actions)."""
    store = _store(request)
    i18n.use(i18n.request_lang(request))
    if not user.is_admin:
        return render_item(
            request, store, store.get(item_id), user, status=403, error=_("Reverting needs the admin role.")
        )
    try:
        store.revert_penalty(item_id, user.name, reason)
    except QueueError as exc:
        code = 409 if isinstance(exc, Conflict) else 422
        return render_item(request, store, store.get(item_id), user, status=code, error=str(exc))
    return _redirect(f"/items/{item_id}?" + urlencode({"msg": _("Penalty reverted.")}))


@router.post("/items/{item_id}/release", dependencies=[CsrfChecked])
def release(request: Request, item_id: int, user: PageUser) -> Response:
    i18n.use(i18n.request_lang(request))
    _store(request).release(item_id, user.name)
    return _redirect("/?" + urlencode({"msg": _("Item #%(id)s returned to the queue.", id=item_id)}))


@router.post("/items/{item_id}/qa", dependencies=[CsrfChecked])
def qa_review(request: Request, item_id: int, user: PageUser, action: Annotated[str, Form()]) -> Response:
    store = _store(request)
    i18n.use(i18n.request_lang(request))
    try:
        store.qa_review(item_id, user.name, action)
    except QueueError as exc:
        return render_item(request, store, store.get(item_id), user, status=409, error=str(exc))
    return _redirect(f"/items/{item_id}?" + urlencode({"msg": _("Second review recorded.")}))
