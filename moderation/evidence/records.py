"""Per-stream records: chat and gift logs (JSONL, rotated) and a low-rate image record (JPEG).

The rules require keeping live images, chat and tipping records for a retention period, whether
or not anything was flagged; evidence clips only cover flagged moments. A :class:`RecordKeeper`
per stream writes, under ``RecordsConfig.dir``::

    <dir>/<stream folder>/<YYYY-MM-DD>/chat-HHMMSS.jsonl      one message a line
    <dir>/<stream folder>/<YYYY-MM-DD>/gifts-HHMMSS.jsonl     one gift a line
    <dir>/<stream folder>/<YYYY-MM-DD>/img-HHMMSS.mmm.jpg     one image every image_every_s

Day and file names are the UTC wall-clock time the file was started (an image: taken), so
retention (:mod:`moderation.review.retention`) can tell from the path alone which stream and
time a file covers; a log's last write is its modification time. Logs rotate at ``rotate_mb``,
after ``rotate_s`` and at UTC midnight. Every line carries the wall time and the media time.

Records are a side duty: a write that fails (full disk, permissions) is counted in
:attr:`RecordKeeper.errors` and logged once, and moderation carries on.

Entry point::

    keeper = RecordKeeper(stream_id, cfg.records)   # cfg.records.enabled and .dir set
    keeper.chat(msg); keeper.gift(ev); keeper.frame(video_frame)
    keeper.close()                                   # at end of stream
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from moderation.config.records import RecordsConfig
from moderation.messages import ChatMessage, GiftEvent, VideoFrame

__all__ = ["RecordKeeper", "RecordsError", "parse_record_name", "stream_folder"]

log = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
#: ``chat-HHMMSS[-n].jsonl``, ``gifts-HHMMSS[-n].jsonl``, ``img-HHMMSS.mmm[-n].jpg``
_NAME = re.compile(r"^(chat|gifts|img)-(\d{6})(?:\.(\d{3}))?(?:-\d+)?\.(jsonl|jpg)$")
_KIND = {"chat": "chat", "gifts": "gifts", "img": "images"}


class RecordsError(ValueError):
    """Records cannot be kept as configured (no folder given)."""


def stream_folder(stream: str) -> str:
    """The folder name of a stream's records: its id made path-safe, plus a hash when that changed it.

    Stream ids come from outside (a publish callback's ``app/name``); ``/`` or ``..`` must not
    reach the filesystem, and two ids that sanitise alike (``a/b``, ``a_b``) must not share a folder.
    """
    safe = _SAFE.sub("_", stream).strip(".") or "_"
    if safe == stream and len(stream) <= 120:
        return stream
    return f"{safe[:100]}-{hashlib.blake2b(stream.encode(), digest_size=4).hexdigest()}"


def parse_record_name(day: str, name: str) -> tuple[str, float] | None:
    """``(kind, wall epoch seconds)`` of a record file from its day folder and name; None if not one.

    ``kind`` is a record kind of :data:`moderation.config.records.RECORD_KINDS`.
    """
    m = _NAME.match(name)
    if m is None:
        return None
    try:
        start = datetime.strptime(f"{day} {m.group(2)}", "%Y-%m-%d %H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return _KIND[m.group(1)], start.timestamp() + (int(m.group(3)) / 1000.0 if m.group(3) else 0.0)


@dataclass
class _Log:
    fh: IO[str]
    path: Path
    opened_at: float
    day: str
    size: int


def _unique(path: Path) -> Path:
    """``path``, or ``stem-1.ext``, ``stem-2.ext``… when it exists (two rotations in one second)."""
    n = 0
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


class RecordKeeper:
    """Writes one stream's records. Calls may come from several threads (chat follower, decoder)."""

    def __init__(
        self, stream: str, cfg: RecordsConfig, *, root: Path | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        """``root`` overrides ``cfg.dir``; ``clock`` gives wall time (injectable for tests)."""
        folder = root if root is not None else (Path(cfg.dir) if cfg.dir else None)
        if folder is None:
            raise RecordsError("records: no folder given (set records.dir or pass --records DIR)")
        self.stream = stream
        self.cfg = cfg
        self.base = folder / stream_folder(stream)
        self.clock = clock
        self.errors = 0
        self.written = {"chat": 0, "gifts": 0, "images": 0}
        self.bytes_written = 0
        self._logs: dict[str, _Log] = {}
        self._last_image_t: float | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ inputs
    def chat(self, msg: ChatMessage) -> None:
        """Append one chat message to the chat log."""
        self._append("chat", {"t": round(msg.t, 3), "user": msg.user, "text": msg.text})

    def gift(self, ev: GiftEvent) -> None:
        """Append one gift to the gift log (value in the feed's currency, amount in the base unit)."""
        rec = {"t": round(ev.t, 3), "user": ev.user, "gift": ev.gift, "value": ev.value}
        rec |= {"currency": ev.currency, "amount": ev.amount}
        self._append("gifts", rec)

    def frame(self, frame: VideoFrame) -> Path | None:
        """Keep this frame as a JPEG when ``image_every_s`` of media time passed since the last kept one.

        Media time going back (a restarted publisher) starts the spacing again. Returns the file
        written, or None (not due, or the write failed).
        """
        last = self._last_image_t
        if last is not None and 0.0 <= frame.t - last < self.cfg.image_every_s:
            return None
        self._last_image_t = frame.t
        try:
            data = encode_jpeg(frame.image, self.cfg.max_side, self.cfg.jpeg_quality)
        except ValueError as exc:
            self._failed(f"frame t={frame.t:.3f} not kept: {exc}")
            return None
        now = self.clock()
        wall = datetime.fromtimestamp(now, UTC)
        day_dir = self.base / wall.strftime("%Y-%m-%d")
        try:
            day_dir.mkdir(parents=True, exist_ok=True)
            path = _unique(day_dir / f"img-{wall.strftime('%H%M%S')}.{wall.microsecond // 1000:03d}.jpg")
            path.write_bytes(data)
        except OSError as exc:
            self._failed(f"image not kept: {exc}")
            return None
        with self._lock:
            self.written["images"] += 1
            self.bytes_written += len(data)
        return path

    def close(self) -> None:
        """Close open logs (further records open new ones)."""
        with self._lock:
            for lg in self._logs.values():
                lg.fh.close()
            self._logs.clear()

    def __enter__(self) -> RecordKeeper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _append(self, kind: str, rec: dict[str, Any]) -> None:
        now = self.clock()
        wall = datetime.fromtimestamp(now, UTC)
        line = json.dumps({"wall": wall.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", **rec}, ensure_ascii=False)
        data = line + "\n"
        size = len(data.encode("utf-8"))
        with self._lock:
            try:
                lg = self._log(kind, now, wall, size)
                lg.fh.write(data)
                lg.fh.flush()
            except OSError as exc:
                self._failed(f"{kind} record not kept: {exc}")
                return
            lg.size += size
            self.written[kind] += 1
            self.bytes_written += size

    def _log(self, kind: str, now: float, wall: datetime, incoming: int) -> _Log:
        """The open log of ``kind``, rotated first when it is full, old or of another day."""
        day = wall.strftime("%Y-%m-%d")
        lg = self._logs.get(kind)
        if lg is not None and (
            lg.day != day
            or now - lg.opened_at >= self.cfg.rotate_s
            or (lg.size > 0 and lg.size + incoming > self.cfg.rotate_mb * 1024 * 1024)
        ):
            lg.fh.close()
            del self._logs[kind]
            lg = None
        if lg is None:
            day_dir = self.base / day
            day_dir.mkdir(parents=True, exist_ok=True)
            path = _unique(day_dir / f"{kind}-{wall.strftime('%H%M%S')}.jsonl")
            lg = self._logs[kind] = _Log(path.open("a", encoding="utf-8"), path, now, day, 0)
        return lg

    def _failed(self, msg: str) -> None:
        self.errors += 1
        if self.errors == 1:
            log.warning("records of %s: %s (further failures only counted)", self.stream, msg)


def encode_jpeg(image: np.ndarray, max_side: int, quality: int) -> bytes:
    """A BGR ``uint8`` (H, W, 3) image as JPEG bytes, downscaled so its longer side is at most ``max_side``."""
    from PIL import Image

    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or min(image.shape[:2]) == 0:
        raise ValueError(f"need a BGR uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    pil = Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]))
    scale = max_side / max(h, w)
    if scale < 1.0:
        pil = pil.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()
