"""Retention: purge evidence files of decided items after a period, keep the decision record.

POLICY.md requires evidence (clips, thumbnails, the triggering transcript) to be retained for a
period and human review to leave an audit trail. So a purge deletes only the *files* of items
decided (confirmed or dismissed) more than ``retention_days`` ago; the item row, its verdict
record (with the transcript text in its signals), the decision and the audit log stay. Open and
escalated items are never purged — evidence must outlive the review.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from moderation.review import media
from moderation.review.store import I, ReviewStore


@dataclass(frozen=True)
class PurgeResult:
    items: int
    files: int


def purge_expired(store: ReviewStore, retention_days: float, actor: str = "retention", batch: int = 500) -> PurgeResult:
    """Delete clips and thumbnails of items decided before ``now - retention_days``."""
    if retention_days < 0:
        raise ValueError("retention_days must be >= 0")
    now = store.clock()
    cutoff = now - retention_days * 86400.0
    items = files = 0
    while True:
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(I.c.id, I.c.clip_path, I.c.thumb_paths)
                .where(
                    I.c.status.in_(("confirmed", "dismissed")), I.c.decided_at < cutoff, I.c.media_purged_at.is_(None)
                )
                .order_by(I.c.id)
                .limit(batch)
            ).all()
        if not rows:
            return PurgeResult(items, files)
        for row in rows:
            rels = ([row.clip_path] if row.clip_path else []) + list(row.thumb_paths or [])
            # Mark first, then delete: a crash in between leaves orphan files (harmless, found by
            # the next purge of the key dir) rather than an item pointing at deleted evidence.
            with store.engine.begin() as conn:
                conn.execute(
                    sa.update(I)
                    .where(I.c.id == row.id)
                    .values(media_purged_at=now, clip_path=None, thumb_paths=[], revision=I.c.revision + 1)
                )
                store._audit(conn, actor, "purge", row.id, {"files": len(rels), "retention_days": retention_days}, now)
            files += media.remove(store.media_dir, rels)
            items += 1
