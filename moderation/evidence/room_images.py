"""Evidence of a verdict about the room's metadata: the cover or avatar image itself.

A room verdict has no footage to cut (its evidence is a field or an image, not a moment of the
stream), so this :class:`~moderation.evidence.strategy.EvidenceStrategy` writes each image its
signals name (``Signal.url`` is the image's reference) as the verdict's thumbnails, with the
evidence boxes drawn, so a reviewer sees what was flagged. Text-only room verdicts (a title) keep
no thumbnail: the text is in the signal.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from moderation.evidence.clip import write_thumbnail
from moderation.messages import Box, Verdict

__all__ = ["RoomImageEvidence"]

#: Images remembered per stream (the latest metadata versions' covers and avatars).
MAX_IMAGES = 16


class RoomImageEvidence:
    """Keeps the room images the last checks read (``remember``) and writes those a verdict names."""

    def __init__(self, clips_dir: Path) -> None:
        self.clips_dir = clips_dir
        self._images: OrderedDict[str, np.ndarray] = OrderedDict()

    def remember(self, images: Mapping[str, np.ndarray]) -> None:
        """The images of one metadata check, by reference (a path or URL)."""
        for ref, image in images.items():
            self._images[ref] = image
            self._images.move_to_end(ref)
        while len(self._images) > MAX_IMAGES:
            self._images.popitem(last=False)

    async def attach(self, verdict: Verdict) -> Verdict:
        return await asyncio.to_thread(self._write, verdict)

    async def thumbnail(self, verdict: Verdict) -> Verdict:
        return await self.attach(verdict)

    def _write(self, v: Verdict) -> Verdict:
        refs = list(dict.fromkeys(s.url for s in v.signals if s.url is not None and s.url in self._images))
        thumbs: list[str] = []
        for i, ref in enumerate(refs):
            boxes: list[Box] = [s.box for s in v.signals if s.url == ref and s.box is not None]
            path = self.clips_dir / v.stream / f"{int(v.start):06d}-{v.category}-room{i}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_thumbnail(self._images[ref], path, boxes or None)
            thumbs.append(str(path))
        return replace(v, thumbnails=tuple(thumbs)) if thumbs else v
