"""Records retention: what is kept of every stream (chat, gifts, a low-rate image record) and for how long.

The rules require keeping live images, chat and tipping records for a retention period, not only
the clips of flagged moments. :class:`RecordsConfig` says where the per-stream records go
(:mod:`moderation.evidence.records` writes them), how dense the image record is, when logs
rotate, and how long records, clips and thumbnails are retained before ``moderation review
purge`` (:mod:`moderation.review.retention`) deletes them. A legal hold (items under review,
and confirmed items) overrides every period.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from moderation.config._base import _Strict

#: Record kinds the keeper writes; ``retention_overrides`` may name these or a verdict category.
RECORD_KINDS: tuple[str, ...] = ("chat", "gifts", "images")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class RecordsConfig(_Strict):
    """Per-stream records and the retention applied to records, clips and thumbnails."""

    enabled: bool = Field(
        False,
        description="Keep chat, gift and image records of every stream (scan, watch, serve); needs dir. "
        "scan/watch --records DIR turns them on for one run.",
    )
    dir: str | None = Field(None, description="Records folder (one sub-folder per stream and UTC day).")
    image_every_s: float = Field(10.0, gt=0, description="Media seconds between two kept images of a stream.")
    max_side: int = Field(640, ge=64, le=4096, description="Longer side of kept images at most (px).")
    jpeg_quality: int = Field(70, ge=10, le=95, description="JPEG quality of kept images.")
    rotate_mb: float = Field(16.0, gt=0, description="A chat/gift log rotates at this size (MiB).")
    rotate_s: float = Field(3600.0, gt=0, description="... or after this many wall seconds (and at UTC midnight).")
    retention_days: float = Field(60.0, ge=0, description="Days records, clips and thumbnails are kept by default.")
    retention_overrides: dict[str, float] = Field(
        default_factory=dict,
        description="Days per record kind (chat, gifts, images) or per verdict category (clips/thumbnails of its "
        "items), e.g. {gifts: 180, minors: 365}.",
    )
    hold_confirmed: bool = Field(
        True,
        description="Legal hold on confirmed items: their clips, thumbnails and the records of their stream and time "
        "range are never purged (items under review always hold).",
    )
    hold_margin_s: float = Field(
        300.0, ge=0, description="Records this many seconds either side of a held item's time range are held too."
    )

    @field_validator("retention_overrides")
    @classmethod
    def _overrides_ok(cls, v: dict[str, float]) -> dict[str, float]:
        for key, days in v.items():
            if not _KEY.match(key):
                raise ValueError(f"retention_overrides key {key!r}: use one of {RECORD_KINDS} or a category name")
            if not days >= 0:
                raise ValueError(f"retention_overrides[{key!r}] = {days}: days must be >= 0")
        return v

    @model_validator(mode="after")
    def _dir_when_enabled(self) -> RecordsConfig:
        """Records switched on with nowhere to go fail when the config loads, not at the first stream."""
        if self.enabled and not self.dir:
            raise ValueError("records.enabled needs records.dir (the folder records go to)")
        return self

    def days_for(self, key: str) -> float:
        """Retention in days of a record kind or verdict category (its override, else the default)."""
        return self.retention_overrides.get(key, self.retention_days)
