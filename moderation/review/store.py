"""The review queue: idempotent verdict upserts, leased claims, decisions, audit log.

One code path (SQLAlchemy Core) for SQLite and PostgreSQL. Concurrency never relies on
database-specific locking syntax: every state change is a single conditional ``UPDATE`` whose
``WHERE`` restates the precondition (item open, lease free or ours, revision unchanged), and the
row count says whether we won. That is correct under PostgreSQL's READ COMMITTED (the ``WHERE`` is
re-checked after a row lock wait) and under SQLite's single writer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from moderation.config.policy import PolicyConfig
from moderation.policy.risk import RiskModel
from moderation.review import decisions, item_view, media, queue_query, risk, schema
from moderation.review.db import insert_for, make_engine
from moderation.review.migrations import migrate
from moderation.review.queue_types import (
    MAX_ID,
    BulkResult,
    Conflict,
    Filters,
    Invalid,
    NotFound,
    QueueError,
    UpsertResult,
    allowed_categories,
    no_nul,
)
from moderation.review.records import Item, parse_record, record_hash, window_ms
from moderation.review.sanctions import GovernanceAdmin
from moderation.review.settings import ReviewSettings
from moderation.review.store_reads import StoreReads

I = schema.items  # noqa: E741 - short alias keeps the query code readable
ACTIONS = decisions.ACTIONS
_OPEN = Filters()


QUEUE_ORDER = (I.c.severity_rank.desc(), I.c.created_at.asc(), I.c.id.asc())


def _opts(opts: dict[str, Any]) -> dict[str, Any]:
    unknown = set(opts) - {"category", "note", "admin", "sub_label", "penalty", "ban_days"}
    if unknown:
        raise TypeError(f"unknown decision options {sorted(unknown)}")
    return {"category": None, "note": None, "admin": False, "sub_label": None, **opts}


class ReviewStore(StoreReads, GovernanceAdmin):
    """Queue operations over one engine; ``clock`` is injectable so tests can expire leases."""

    def __init__(
        self,
        engine: sa.Engine,
        media_dir: Path,
        *,
        lease_s: float = 300.0,
        clock: Callable[[], float] = time.time,
        categories: Iterable[str] = (),
        sub_labels: Mapping[str, Sequence[str]] | None = None,
        qa_rate: float = 0.0,
        policy: PolicyConfig | None = None,
    ) -> None:
        self.engine = engine
        #: Penalties per category and severity, and the risk model (``policy.penalties``, ``.risk``).
        self.policy = policy or PolicyConfig()
        self.risk_model = RiskModel(self.policy.risk)
        #: Sub-labels a confirmation may carry, per category (``ReviewSettings.sub_labels``).
        self.sub_labels: Mapping[str, Sequence[str]] = dict(sub_labels or {})
        #: Share of decisions sampled for a second review (``ReviewSettings.qa_sample_rate``).
        self.qa_rate = qa_rate
        #: Categories a reviewer may confirm an item as (besides the item's own).
        self.categories = allowed_categories(categories)
        self.media_dir = media_dir
        self.lease_s = lease_s
        self.clock = clock
        self._insert = insert_for(engine)

    @classmethod
    def open(cls, settings: ReviewSettings, clock: Callable[[], float] = time.time) -> ReviewStore:
        """Connect, migrate to the latest schema, and return a store."""
        engine = make_engine(settings.queue_url)
        migrate(engine)
        media_dir = settings.resolved_media_dir()
        media_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            engine,
            media_dir,
            lease_s=settings.lease_s,
            clock=clock,
            categories=settings.categories,
            sub_labels=settings.sub_labels,
            qa_rate=settings.qa_sample_rate,
            policy=settings.policy,
        )

    # -- writes from the pipeline / importer -------------------------------------------------

    def upsert_verdict(
        self, data: Mapping[str, Any], *, bases: Iterable[Path] = (), actor: str = "ingest"
    ) -> UpsertResult:
        """Insert a verdict, or update its item when the same (stream, category, window, subject)
        grows.

        A write identical to what is stored changes nothing (no audit line, no revision bump).
        Evidence files are copied into the media directory first, so an item never points at a
        file that is not there. The decision of an already-decided item is never changed. A record
        with a ``violation_id`` is keyed by ``(stream, violation_id)`` instead, so a provisional
        (live) item and its final record are one item even when the final start differs. The
        subject is part of the key (``VerdictRecord.subject_key``), so a viewer's chat verdict and
        the streamer's verdict starting in the same millisecond are two items.
        """
        rec = parse_record(dict(data))
        raw = rec.stored()
        h = record_hash(raw)
        win = window_ms(rec.start)
        subj = rec.subject_key()
        key = (
            (I.c.stream == rec.stream)
            & (I.c.category == rec.category)
            & (I.c.window_ms == win)
            & (I.c.subject_key == subj)
        )
        if rec.violation_id is not None:
            key = (I.c.stream == rec.stream) & (I.c.violation_key == rec.violation_id)
        with self.engine.connect() as conn:
            prev = conn.execute(sa.select(I.c.id, I.c.record_hash, I.c.window_ms, I.c.subject_key).where(key)).first()
            tier = risk.get_risk(conn, rec.streamer or rec.stream).tier
        if prev is not None:  # media keys, the window and the subject stay those of the first record
            win, subj = prev.window_ms, prev.subject_key
        if prev is not None and prev.record_hash == h:
            return UpsertResult(prev.id, created=False, changed=False)
        clip, thumbs = media.ingest(
            self.media_dir, media.key_dir(rec.stream, rec.category, win, subj), rec.clip, rec.thumbnails, list(bases)
        )
        now = self.clock()
        evidence = {
            "severity": rec.severity,
            "severity_rank": schema.SEVERITY_RANK.get(rec.severity, 0),
            "score": rec.score,
            "t_start": rec.start,
            "t_end": rec.end,
            "wallclock_start": rec.wallclock_start,
            "record": raw,
            "record_hash": h,
            "clip_path": clip,
            "thumb_paths": thumbs,
            "updated_at": now,
            "subject": rec.subject or "streamer",
            "trigger_term": item_view.trigger_of(rec.signals),
        }
        with self.engine.begin() as conn:
            ins = (
                self._insert(I)
                .values(
                    stream=rec.stream,
                    streamer=rec.streamer or rec.stream,
                    category=rec.category,
                    window_ms=win,
                    status="open",
                    created_at=now,
                    revision=0,
                    media_purged_at=None,
                    tier=tier,
                    violation_key=rec.violation_id,
                    subject_key=subj,
                    **evidence,
                )
                .on_conflict_do_nothing()
                .returning(I.c.id)
            )
            new_id = conn.execute(ins).scalar()
            created = new_id is not None
            item_id = new_id if new_id is not None else conn.execute(sa.select(I.c.id).where(key)).scalar()
            if item_id is None:  # a violation id new to us, at the start of another item's window
                who = f" for {subj}" if subj else ""
                raise Conflict(f"stream {rec.stream} already has a {rec.category} item{who} starting at {rec.start} s")
            changed = created
            if not created:
                upd = sa.update(I).where(I.c.id == item_id, I.c.record_hash != h)
                changed = conn.execute(upd.values(revision=I.c.revision + 1, **evidence)).rowcount == 1
            if changed:
                self._audit(
                    conn,
                    actor,
                    "create" if created else "update",
                    item_id,
                    {"score": rec.score, "end": rec.end, "severity": rec.severity},
                    now,
                )
        return UpsertResult(item_id, created, changed)

    # -- reads -------------------------------------------------------------------------------

    def get(self, item_id: int) -> Item:
        if not 1 <= item_id <= MAX_ID:
            raise NotFound(f"item {item_id} does not exist")
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(I).where(I.c.id == item_id)).first()
        if row is None:
            raise NotFound(f"item {item_id} does not exist")
        return Item(**row._mapping)

    def list_items(
        self,
        filters: Filters = _OPEN,
        limit: int = 100,
        offset: int = 0,
        *,
        sort: str = queue_query.DEFAULT_SORT,
        after: str | None = None,
    ) -> list[Item]:
        """Items in ``sort`` order (default: severity, highest first, then oldest first).

        ``after`` is a cursor from ``queue_query.cursor_of`` (keyset paging, fast at any depth);
        ``offset`` still works for API clients that page by number.
        """
        if not (0 <= offset <= MAX_ID and 0 <= limit <= MAX_ID):
            raise Invalid(f"offset and limit must be between 0 and {MAX_ID}")
        q = (
            sa.select(I)
            .where(*filters.where(self.clock()), *queue_query.after(after, sort))
            .order_by(*queue_query.order_by(sort))
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            return [Item(**r._mapping) for r in conn.execute(q)]

    def count(self, filters: Filters = _OPEN, cap: int | None = None) -> int:
        """Items matching ``filters``; with ``cap``, counting stops there (``cap + 1`` means more).

        Counting all of 100,000 rows for a filter no index covers takes most of a second, and a
        reviewer needs "more than a thousand", not the exact number, so the queue page caps it.
        """
        q: sa.Select[Any] = sa.select(sa.literal(1)).select_from(I).where(*filters.where(self.clock()))
        if cap is not None:
            q = q.limit(cap + 1)
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one())

    def neighbours(self, item_id: int, filters: Filters = _OPEN) -> tuple[int | None, int | None]:
        """Previous and next item ids around ``item_id`` in queue order (for j/k navigation)."""
        with self.engine.connect() as conn:
            ids = list(
                conn.execute(
                    sa.select(I.c.id).where(*filters.where(self.clock())).order_by(*QUEUE_ORDER).limit(5000)
                ).scalars()
            )
        if item_id not in ids:
            return None, (ids[0] if ids else None)
        i = ids.index(item_id)
        return (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)

    def timeline(self, stream: str) -> list[Item]:
        """All verdicts of one stream in media-time order."""
        no_nul(stream=stream)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(I).where(I.c.stream == stream).order_by(I.c.t_start, I.c.id))
            return [Item(**r._mapping) for r in rows]

    # -- claims ------------------------------------------------------------------------------

    def _claimable(self, user: str, now: float) -> sa.ColumnElement[bool]:
        return sa.or_(I.c.claimed_by.is_(None), I.c.claimed_by == user, I.c.lease_until < now)

    def claim(self, item_id: int, user: str) -> Item:
        """Take (or renew) the lease on one open item; ``Conflict`` if someone else holds it."""
        self.get(item_id)  # NotFound for ids that cannot exist
        now = self.clock()
        with self.engine.begin() as conn:
            res = conn.execute(
                sa.update(I)
                .where(I.c.id == item_id, I.c.status == "open", self._claimable(user, now))
                .values(claimed_by=user, lease_until=now + self.lease_s, revision=I.c.revision + 1)
            )
            if res.rowcount == 1:
                self._audit(conn, user, "claim", item_id, {"lease_until": now + self.lease_s}, now)
        if res.rowcount != 1:
            item = self.get(item_id)
            if item.status != "open":
                raise Conflict(f"item {item_id} is already {item.status}")
            raise Conflict(f"item {item_id} is being reviewed by {item.claimed_by}")
        return self.get(item_id)

    def claim_next(self, user: str, filters: Filters = _OPEN, attempts: int = 50) -> Item | None:
        """Claim the first free item in queue order; ``None`` when nothing is free.

        Losing a race (another reviewer claimed the candidate first) just moves on to the next
        candidate; the revision check makes the claim exact even if the row changed meanwhile.
        """
        f = filters.open_only()
        for _ in range(attempts):
            now = self.clock()
            with self.engine.connect() as conn:
                cand = conn.execute(
                    sa.select(I.c.id, I.c.revision)
                    .where(*f.where(now), self._claimable(user, now))
                    .order_by(*QUEUE_ORDER)
                    .limit(1)
                ).first()
            if cand is None:
                return None
            with self.engine.begin() as conn:
                won = (
                    conn.execute(
                        sa.update(I)
                        .where(
                            I.c.id == cand.id,
                            I.c.revision == cand.revision,
                            I.c.status == "open",
                            self._claimable(user, now),
                        )
                        .values(claimed_by=user, lease_until=now + self.lease_s, revision=I.c.revision + 1)
                    ).rowcount
                    == 1
                )
                if won:
                    self._audit(conn, user, "claim", cand.id, {"lease_until": now + self.lease_s}, now)
            if won:
                return self.get(cand.id)
        return None

    def release(self, item_id: int, user: str) -> None:
        """Give an item back to the queue before its lease runs out (no-op if not ours)."""
        self.get(item_id)
        now = self.clock()
        with self.engine.begin() as conn:
            res = conn.execute(
                sa.update(I)
                .where(I.c.id == item_id, I.c.claimed_by == user, I.c.status == "open")
                .values(claimed_by=None, lease_until=None, revision=I.c.revision + 1)
            )
            if res.rowcount == 1:
                self._audit(conn, user, "release", item_id, {}, now)

    # -- decisions ---------------------------------------------------------------------------

    def decide(self, item_id: int, user: str, action: str, **opts: Any) -> Item:
        """Confirm (optionally re-categorised, with a ``sub_label`` and a ``penalty``, plus
        ``ban_days`` for a ban), dismiss as false positive, or escalate an item (options:
        ``category``, ``note``, ``admin``, ``sub_label``, ``penalty``, ``ban_days``). Reviewers
        decide open items; admins also decide escalated ones. Dismissing a high or critical item
        needs a reason in ``note``. The decision, its audit line, the streamer-risk update, the
        penalty with its ban and actions, and the QA sample entry commit together or not at all
        (``decisions.decide_in``).
        """
        with self.engine.begin() as conn:
            decisions.decide_in(conn, store=self, item_id=item_id, user=user, action=action, **_opts(opts))
        return self.get(item_id)

    def decide_many(self, item_ids: Iterable[int], user: str, action: str, **opts: Any) -> BulkResult:
        """Apply one decision to many items; items someone else holds (or a high item dismissed
        without a reason) are skipped with the reason, not failed."""
        out = BulkResult()
        for item_id in dict.fromkeys(item_ids):
            try:
                with self.engine.begin() as conn:
                    decisions.decide_in(
                        conn, store=self, item_id=item_id, user=user, action=action, bulk=True, **_opts(opts)
                    )
                out.done.append(item_id)
            except QueueError as exc:
                out.skipped[item_id] = str(exc)
        return out

    # -- audit -------------------------------------------------------------------------------

    def _audit(
        self,
        conn: sa.Connection,
        actor: str,
        action: str,
        item_id: int | None,
        detail: dict[str, Any],
        now: float | None = None,
    ) -> None:
        conn.execute(
            sa.insert(schema.audit).values(
                at=self.clock() if now is None else now, actor=actor, action=action, item_id=item_id, detail=detail
            )
        )

    def audit(self, actor: str, action: str, item_id: int | None = None, detail: dict[str, Any] | None = None) -> None:
        """Record an action that is not a queue transition (user created, purge run, ...)."""
        with self.engine.begin() as conn:
            self._audit(conn, actor, action, item_id, detail or {})
