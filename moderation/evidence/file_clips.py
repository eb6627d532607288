"""Offline evidence: clips and thumbnails cut from the scanned file itself.

The evidence strategy of a scan; a live stream cuts its clips from its ring of encoded packets
(:mod:`moderation.evidence.writer`). A failed cut never loses the verdict: it gets ``clip_error``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

from moderation.config import PipelineConfig
from moderation.evidence.clip import clip_error_text, cut_clip, write_thumbnail
from moderation.ingest.decode import frame_at
from moderation.messages import Verdict

log = logging.getLogger(__name__)


class RemuxFromFile:
    """Offline evidence (an :class:`~moderation.evidence.strategy.EvidenceStrategy`): clips cut
    from the scanned file itself (the live strategy cuts from the ring)."""

    def __init__(self, src: Path, clips_dir: Path, cfg: PipelineConfig) -> None:
        self.src, self.clips_dir, self.cfg = src, clips_dir, cfg

    async def attach(self, verdict: Verdict) -> Verdict:
        return await asyncio.to_thread(attach_evidence, verdict, self.src, self.clips_dir, self.cfg)

    async def thumbnail(self, verdict: Verdict) -> Verdict:
        if not verdict.signals:
            return verdict
        last = verdict.signals[-1]
        path = self.clips_dir / verdict.stream / f"{int(verdict.start):06d}-{verdict.category}-at.jpg"
        written = await asyncio.to_thread(_thumbnail, self.src, path, verdict, last.t, self.cfg.sampling.max_side)
        return replace(verdict, thumbnails=(str(path),)) if written else verdict


def _thumbnail(src: Path, path: Path, verdict: Verdict, t: float, max_side: int) -> bool:
    image = frame_at(src, t, max_side=max_side)
    if image is None:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    boxes = [s.box for s in verdict.signals if s.box is not None and abs(s.t - t) < 1e-3]
    write_thumbnail(image, path, boxes=boxes or None)
    return True


def attach_evidence(verdict: Verdict, src: Path, clips_dir: Path, cfg: PipelineConfig) -> Verdict:
    """Cut the clip (stream copy, no re-encode) and a thumbnail with the evidence boxes drawn."""
    ev = cfg.evidence
    stem = f"{verdict.stream}/{int(verdict.start):06d}-{verdict.category}"
    clip_path = clips_dir / f"{stem}.mp4"
    thumb_path = clips_dir / f"{stem}.jpg"
    clip_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        cut_clip(src, clip_path, verdict.start, verdict.end, ev.pre_s, ev.post_s)
    except Exception as exc:  # evidence failure must not lose the verdict itself
        log.warning("clip for %s %s at %.1fs failed: %s", verdict.stream, verdict.category, verdict.start, exc)
        return replace(verdict, clip_error=clip_error_text(exc))
    written = _thumbnail(src, thumb_path, verdict, verdict.signals[0].t, cfg.sampling.max_side)
    return replace(verdict, clip=str(clip_path), thumbnails=(str(thumb_path),) if written else ())
