"""Retention: purge records, clips and thumbnails after their period, never what a legal hold covers.

POLICY.md requires evidence (clips, thumbnails, the triggering transcript) and the per-stream
records (chat, gifts, the image record of :mod:`moderation.evidence.records`) to be retained for
a period, and human review to leave an audit trail. So:

* **clips and thumbnails** of an item are deleted once it was decided more than its category's
  retention ago (``RecordsConfig.days_for(category)``; the reviewer's category when re-categorised).
  The item row, its verdict record (with the transcript text in its signals), the decision and
  the audit log stay. Open and escalated items are never purged (evidence must outlive the
  review), nor confirmed ones while ``hold_confirmed`` is on (a legal hold);
* **record files** are deleted once their last write is older than their kind's retention
  (``chat``, ``gifts``, ``images``), unless a *hold* covers them: an open, escalated or (with
  ``hold_confirmed``) confirmed item of the same stream whose wall-clock span, widened by
  ``hold_margin_s``, overlaps the file's span. An item without a wall-clock start (an offline scan)
  holds all of its stream's records: we cannot tell which ones it needs.

Entry point (``moderation review purge`` calls it)::

    res = apply_retention(store, cfg.records, records_dir=Path("records"))  # or None: clips only
    print(res.items, res.files, res.records, res.held)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from moderation.config.records import RecordsConfig
from moderation.evidence.records import parse_record_name, stream_folder
from moderation.review import media
from moderation.review.store import I, ReviewStore

__all__ = ["Hold", "PurgeResult", "RetentionResult", "apply_retention", "holds", "purge_expired", "purge_records"]


@dataclass(frozen=True)
class PurgeResult:
    items: int
    files: int


@dataclass(frozen=True)
class RetentionResult:
    """What one retention run did: items whose clips/thumbnails went, files deleted, record files
    deleted (and their bytes), and record files past their period kept because a hold covers them."""

    items: int
    files: int
    records: int
    record_bytes: int
    held: int


@dataclass(frozen=True)
class Hold:
    """Records of ``stream`` between wall-clock ``start`` and ``end`` (epoch s) must stay; None = all."""

    stream: str
    start: float | None
    end: float | None
    item_id: int

    def covers(self, start: float, end: float) -> bool:
        if self.start is None or self.end is None:
            return True
        return start <= self.end and end >= self.start


def purge_expired(
    store: ReviewStore,
    retention_days: float,
    actor: str = "retention",
    batch: int = 500,
    *,
    days_for: Callable[[str], float] | None = None,
    hold_confirmed: bool = False,
) -> PurgeResult:
    """Delete clips and thumbnails of items decided before ``now - retention_days``.

    ``days_for(category)`` gives a per-category period instead (the reviewer's category when the
    item was re-categorised); ``hold_confirmed`` keeps confirmed items' evidence (legal hold).
    """
    if retention_days < 0:
        raise ValueError("retention_days must be >= 0")
    period = days_for or (lambda _category: retention_days)
    now = store.clock()
    statuses = ("dismissed",) if hold_confirmed else ("confirmed", "dismissed")
    items = files = 0
    last_id = 0
    while True:
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(I.c.id, I.c.clip_path, I.c.thumb_paths, I.c.category, I.c.decision_category, I.c.decided_at)
                .where(
                    I.c.status.in_(statuses),
                    I.c.decided_at.is_not(None),
                    I.c.media_purged_at.is_(None),
                    I.c.id > last_id,
                )
                .order_by(I.c.id)
                .limit(batch)
            ).all()
        if not rows:
            return PurgeResult(items, files)
        last_id = rows[-1].id
        for row in rows:
            days = period(row.decision_category or row.category)
            if row.decided_at >= now - days * 86400.0:
                continue
            rels = ([row.clip_path] if row.clip_path else []) + list(row.thumb_paths or [])
            # Mark first, then delete: a crash in between leaves orphan files (harmless, found by
            # the next purge of the key dir) rather than an item pointing at deleted evidence.
            with store.engine.begin() as conn:
                conn.execute(
                    sa.update(I)
                    .where(I.c.id == row.id)
                    .values(media_purged_at=now, clip_path=None, thumb_paths=[], revision=I.c.revision + 1)
                )
                store._audit(conn, actor, "purge", row.id, {"files": len(rels), "retention_days": days}, now)
            files += media.remove(store.media_dir, rels)
            items += 1


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def holds(store: ReviewStore, cfg: RecordsConfig) -> list[Hold]:
    """Holds of the open and escalated items, and of confirmed ones when ``cfg.hold_confirmed``."""
    statuses = ("open", "escalated", "confirmed") if cfg.hold_confirmed else ("open", "escalated")
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(I.c.id, I.c.stream, I.c.wallclock_start, I.c.t_start, I.c.t_end).where(I.c.status.in_(statuses))
        ).all()
    out: list[Hold] = []
    for row in rows:
        start = _epoch(row.wallclock_start)
        if start is None:
            out.append(Hold(row.stream, None, None, row.id))
            continue
        span = max(0.0, float(row.t_end) - float(row.t_start))
        out.append(Hold(row.stream, start - cfg.hold_margin_s, start + span + cfg.hold_margin_s, row.id))
    return out


def purge_records(records_dir: Path, cfg: RecordsConfig, hold_list: list[Hold], now: float) -> tuple[int, int, int]:
    """Delete record files past their kind's retention that no hold covers.

    Returns ``(deleted, bytes, held)``. Only files named as :class:`RecordKeeper
    <moderation.evidence.records.RecordKeeper>` names them are considered; anything else under
    ``records_dir`` (and every symlink) is left alone. Emptied day and stream folders are removed.
    """
    by_folder: dict[str, list[Hold]] = {}
    for h in hold_list:
        by_folder.setdefault(stream_folder(h.stream), []).append(h)
    deleted = freed = held = 0
    if not records_dir.is_dir():
        return 0, 0, 0
    for stream_dir in sorted(p for p in records_dir.iterdir() if p.is_dir() and not p.is_symlink()):
        stream_holds = by_folder.get(stream_dir.name, [])
        for day_dir in sorted(p for p in stream_dir.iterdir() if p.is_dir() and not p.is_symlink()):
            for path in sorted(day_dir.iterdir()):
                parsed = parse_record_name(day_dir.name, path.name)
                if parsed is None or path.is_symlink() or not path.is_file():
                    continue
                kind, start = parsed
                st = path.stat()
                end = start if kind == "images" else max(start, st.st_mtime)
                if end >= now - cfg.days_for(kind) * 86400.0:
                    continue
                if any(h.covers(start, end) for h in stream_holds):
                    held += 1
                    continue
                try:
                    path.unlink()
                except FileNotFoundError:
                    continue
                deleted += 1
                freed += st.st_size
            _rmdir_if_empty(day_dir)
        _rmdir_if_empty(stream_dir)
    return deleted, freed, held


def _rmdir_if_empty(path: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (or gone): nothing to do
        os.rmdir(path)


def apply_retention(
    store: ReviewStore, cfg: RecordsConfig, records_dir: Path | None = None, actor: str = "retention"
) -> RetentionResult:
    """Apply ``cfg``'s retention to the queue's clips and thumbnails and to ``records_dir``'s records."""
    res = purge_expired(store, cfg.retention_days, actor, days_for=cfg.days_for, hold_confirmed=cfg.hold_confirmed)
    deleted = freed = held = 0
    if records_dir is not None:
        deleted, freed, held = purge_records(records_dir, cfg, holds(store, cfg), store.clock())
        if deleted:
            store.audit(actor, "purge.records", detail={"files": deleted, "bytes": freed, "held": held})
    return RetentionResult(res.items, res.files, deleted, freed, held)
