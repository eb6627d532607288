"""Live evidence: media-time ↔ wall-clock mapping, frames kept for thumbnails, and the writer
that gives a verdict its clip and thumbnail.

Why a mapping and not ``start_wall + t``: a live timeline has gaps (reconnects) and the pace of
arrival is not the pace of media when the origin bursts or stalls. Each arriving frame/window is
a (media time, arrival wall time) point; a verdict's ``wallclock_start`` and its latency are read
off these points. The ingest thread writes, the event loop reads: both under one lock.

Thumbnails need a decoded picture, but the evidence ring holds only encoded packets. Frames that
produced a signal are kept at full size (bounded count) so their boxes can be drawn; every other
sampled frame is kept small (≤ ``SMALL_SIDE`` px) for speech-only verdicts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from moderation.config import EvidenceConfig
from moderation.evidence.clip import ClipInfo, clip_error_text, write_thumbnail
from moderation.evidence.ring import EvidenceRing
from moderation.messages import Box, Verdict, VideoFrame
from moderation.sample.frames import shrink

log = logging.getLogger(__name__)

SMALL_SIDE = 480

#: How often a clip waiting for its post-roll looks at the ring again (seconds).
POLL_S = 0.2


class FrameKeeper:
    """Frames for thumbnails: full-size signal frames (by time) and small recent frames."""

    def __init__(self, signal_frames: int = 16, recent: int = 32) -> None:
        self._signal: OrderedDict[float, VideoFrame] = OrderedDict()
        self._recent: deque[tuple[float, VideoFrame, float]] = deque(maxlen=recent)
        self._max_signal = signal_frames

    def keep_recent(self, frame: VideoFrame) -> None:
        h, w = frame.image.shape[:2]
        scale = min(1.0, SMALL_SIDE / max(h, w))
        image = frame.image
        if scale < 1.0:
            image = shrink(image, max(1, round(w * scale)), max(1, round(h * scale)))
        self._recent.append((frame.t, VideoFrame(frame.stream, frame.t, image, frame.index), scale))

    def keep_signal(self, frame: VideoFrame) -> None:
        self._signal[frame.t] = frame
        while len(self._signal) > self._max_signal:
            self._signal.popitem(last=False)

    def at(self, t: float) -> tuple[VideoFrame, float] | None:
        """The best frame for time ``t`` and its scale relative to the sampled frame."""
        exact = self._signal.get(t)
        if exact is not None:
            return exact, 1.0
        if not self._recent:
            return None
        best = min(self._recent, key=lambda item: abs(item[0] - t))
        return best[1], best[2]


class EvidenceWriter:
    """A verdict's clip, remuxed from the stream's evidence ring, and a thumbnail with its boxes
    (the live :class:`~moderation.evidence.strategy.EvidenceStrategy`).

    A verdict can be decided before its post-roll has arrived, so the writer waits (at most
    ``wait_s``) until the ring covers ``end + post_s``, or until no more of it can come: the
    connection that carried the verdict's end has ended (dropped, cut by our enforcement, being
    stopped; :meth:`EvidenceRing.end_connection`) or ingest ended. Then the clip is cut from what
    the ring holds at once, and its record says where it really ends (``clip_end``), instead of
    the record waiting ``wait_s`` for media that will not come. Evidence failures are logged and
    the verdict goes on without it: losing a clip must not lose the verdict.
    """

    def __init__(
        self,
        ring: EvidenceRing,
        lock: threading.Lock,
        keeper: FrameKeeper,
        cfg: EvidenceConfig,
        clips_dir: Path,
        wait_s: float,
        ingest_done: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ring, self.lock, self.keeper, self.cfg = ring, lock, keeper, cfg
        self.clips_dir, self.wait_s = clips_dir, wait_s
        #: Whether ingest has ended or is stopping (no post-roll will come: cut what the ring has).
        self.ingest_done = ingest_done
        self.clock = clock

    def _ready(self, v: Verdict) -> bool:
        """Whether the clip of ``v`` has all the media it will get: its post-roll is in the ring,
        or the connection that carried its end (or ingest itself) has ended."""
        if self.ingest_done():
            return True
        with self.lock:  # the ingest thread changes the ring's connection records
            return self.ring.covers(v.end + self.cfg.post_s) or self.ring.cut_short(v.end) is not None

    async def attach(self, v: Verdict) -> Verdict:
        deadline = self.clock() + self.wait_s
        while not self._ready(v) and self.clock() < deadline:
            await asyncio.sleep(POLL_S)
        stem = self.clips_dir / v.stream / f"{int(v.start):06d}-{v.category}"
        try:
            info, short = await asyncio.to_thread(self._clip, v, stem.with_suffix(".mp4"))
        except Exception as exc:  # evidence failure must not lose the verdict itself
            log.warning("%s: clip for %s at %.1fs failed: %s", v.stream, v.category, v.start, exc)
            return replace(v, clip_error=clip_error_text(exc))
        thumbs: tuple[str, ...] = ()
        if await self._write_frame(v, v.signals[0].t, stem.with_suffix(".jpg")):
            thumbs = (str(stem.with_suffix(".jpg")),)
        return replace(
            v,
            clip=info.path,
            clip_start=info.start,
            clip_gaps=tuple((g.start, g.end) for g in info.gaps),
            clip_end=info.end if short else None,
            clip_error=None,
            thumbnails=thumbs,
        )

    async def thumbnail(self, v: Verdict) -> Verdict:
        """``v`` with a thumbnail of its latest evidence frame, if one is kept; no clip, no wait.

        For a provisional (live) record: the frame is already in memory, so this costs one JPEG
        encode, where a clip would wait for the post-roll of a violation that has not ended.
        """
        if not v.signals:
            return v
        path = self.clips_dir / v.stream / f"{int(v.start):06d}-{v.category}-live.jpg"
        if not await self._write_frame(v, v.signals[-1].t, path):
            return v
        return replace(v, thumbnails=(str(path),))

    async def _write_frame(self, v: Verdict, t: float, path: Path) -> bool:
        """Write the kept frame nearest ``t`` with the boxes of ``v``'s signals at ``t`` (scaled to
        that frame) as a JPEG; False when no frame is kept."""
        picked = self.keeper.at(t)
        if picked is None:
            return False
        frame, scale = picked
        boxes: list[Box] = [
            (s.box[0] * scale, s.box[1] * scale, s.box[2] * scale, s.box[3] * scale)
            for s in v.signals
            if s.box is not None and abs(s.t - t) < 1e-3
        ]
        await asyncio.to_thread(write_thumbnail, frame.image, path, boxes or None)
        return True

    def _clip(self, v: Verdict, path: Path) -> tuple[ClipInfo, bool]:
        """The clip, and whether its post-roll was cut short (the ring does not reach its end)."""
        with self.lock:
            short = not self.ring.covers(v.end + self.cfg.post_s)
            return self.ring.clip(v.start, v.end, path, self.cfg.pre_s, self.cfg.post_s), short
