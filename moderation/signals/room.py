"""Room metadata (title, introduction, nickname, cover, avatar) → ``room.*`` signals.

Vulgar or gambling content often hides where no frame shows it: in the room title, the
introduction, the streamer's nickname, the cover or the avatar. Those are checked with the same
tools as the stream: text through the keyword matcher, images through the vision and OCR
inference functions the caller passes in (local batchers or Ray actors; this module does not
care). Every signal names the room as its subject (``Subject("room", stream)``), so fusion keeps a
state of its own for the room and a metadata violation is a verdict about the room, with the
offending field or image as its evidence (``label`` = the field, ``url`` = the image).

Signal kinds: ``room.keyword`` (title, introduction, nickname), ``room.ocr.keyword`` (text read
on the cover or avatar), ``room.image.nudenet`` / ``room.image.nsfw`` (the vision models on them).

Images come as local paths or URLs. A URL is only fetched through the URL guard
(:mod:`moderation.ingest.urlguard`: allowed schemes and public destinations, redirects
re-checked); a local path too when a guard is given. What is read must start with an image's magic
bytes (JPEG, PNG, GIF, WebP, BMP) and decode; anything else is refused with the reason.

Entry points::

    meta = parse_meta_file(Path("meta.json"), stream="room1")      # scan --meta; RoomMetaError
    sigs = room_signals(meta, matcher, vision_fn, ocr_fn, t=now_media_t, guard=guard)
    watcher = RoomWatcher(matcher, vision_fn, ocr_fn, guard=guard)  # live: re-check on change
    sigs = watcher.check(meta, t)                                    # None: unchanged, not checked
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from moderation.config import VisionConfig
from moderation.ingest.urlguard import UrlGuard, UrlRefused, redact
from moderation.messages import KeywordHit, OcrResult, Signal, Subject, VideoFrame, VisionResult
from moderation.signals.keywords import evidence, ocr_signals
from moderation.signals.vision import vision_signals

__all__ = [
    "IMAGE_FIELDS",
    "TEXT_FIELDS",
    "RoomImage",
    "RoomMeta",
    "RoomMetaError",
    "RoomWatcher",
    "load_room_images",
    "parse_meta",
    "parse_meta_file",
    "room_signals",
    "room_signals_from",
]

TEXT_FIELDS: tuple[str, ...] = ("title", "introduction", "nickname")
IMAGE_FIELDS: tuple[str, ...] = ("cover", "avatar")
MAX_TEXT = 5000
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000

MatchFn = Callable[[str], list[KeywordHit]]
VisionFn = Callable[[Sequence[VideoFrame]], Sequence[VisionResult]]
OcrFn = Callable[[Sequence[VideoFrame]], Sequence[OcrResult]]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)


class RoomMetaError(ValueError):
    """Room metadata that cannot be used; the one-line message names the field and what was wrong."""


@dataclass(frozen=True)
class RoomMeta:
    """What a room shows besides its stream. Image fields hold a local path or a URL (None: none)."""

    stream: str
    title: str = ""
    introduction: str = ""
    nickname: str = ""
    cover: str | None = None
    avatar: str | None = None


@dataclass(frozen=True, eq=False)
class RoomImage:
    """A metadata image as read (``data``: the bytes, kept as evidence) and decoded (BGR ``image``)."""

    field: str
    ref: str
    data: bytes
    image: np.ndarray
    format: str


def _image_format(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((name for magic, name in _MAGIC if data.startswith(magic)), None)


def _is_url(ref: str) -> bool:
    return "://" in ref or ref.lower().startswith("file:")


def _read(field: str, ref: str, guard: UrlGuard | None) -> bytes:
    """The bytes behind ``ref``: URLs (and, with a guard, local paths) only through the guard."""
    if _is_url(ref) or guard is not None:
        g = guard or UrlGuard()
        try:
            g.check(ref)
            fh: Any = g.io_open(ref, 0, {})
        except UrlRefused as exc:
            raise RoomMetaError(f"{field} {redact(ref)}: refused ({exc.rule})") from None
        except OSError as exc:
            raise RoomMetaError(f"{field} {redact(ref)}: cannot fetch ({str(exc).splitlines()[0]})") from None
    else:
        try:
            fh = Path(ref).open("rb")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            raise RoomMetaError(f"{field} {ref}: cannot read ({exc.strerror or exc})") from None
    try:
        chunks: list[bytes] = []
        total = 0
        while total <= MAX_IMAGE_BYTES:
            chunk = fh.read(min(1 << 20, MAX_IMAGE_BYTES + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise RoomMetaError(f"{field} {redact(ref)}: read failed ({str(exc).splitlines()[0]})") from None
    finally:
        fh.close()
    if total > MAX_IMAGE_BYTES:
        raise RoomMetaError(f"{field} {redact(ref)}: larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
    return b"".join(chunks)


def load_image(field: str, ref: str, guard: UrlGuard | None = None) -> RoomImage:
    """Read and decode one metadata image; :class:`RoomMetaError` when it is not an image."""
    from PIL import Image

    data = _read(field, ref, guard)
    fmt = _image_format(data)
    if fmt is None:
        head = data[:8].hex(" ") if data else "nothing"
        raise RoomMetaError(
            f"{field} {redact(ref)}: not an image (starts with {head}; expected JPEG, PNG, GIF, WebP or BMP)"
        )
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise RoomMetaError(f"{field} {redact(ref)}: {im.width}x{im.height} is too large an image")
            rgb = np.asarray(im.convert("RGB"))
    except RoomMetaError:
        raise
    except Exception as exc:  # truncated or corrupt file behind valid magic bytes: one line, no trace
        raise RoomMetaError(f"{field} {redact(ref)}: {fmt} that cannot be decoded ({exc})") from None
    return RoomImage(field, ref, data, np.ascontiguousarray(rgb[:, :, ::-1]), fmt)


def load_room_images(meta: RoomMeta, guard: UrlGuard | None = None) -> list[RoomImage]:
    """The room's cover and avatar, read and checked (raises on the first that is not an image)."""
    refs = ((f, getattr(meta, f)) for f in IMAGE_FIELDS)
    return [load_image(f, ref, guard) for f, ref in refs if ref]


def _room_signals(
    meta: RoomMeta,
    images: Sequence[RoomImage],
    match: MatchFn,
    vision_fn: VisionFn | None,
    ocr_fn: OcrFn | None,
    t: float,
    vision_cfg: VisionConfig,
) -> list[Signal]:
    subject = Subject("room", meta.stream)
    out: list[Signal] = []
    for name in TEXT_FIELDS:
        text = getattr(meta, name)
        for hit in evidence(match(text)) if text.strip() else []:
            out.append(
                Signal(
                    kind="room.keyword",
                    stream=meta.stream,
                    t=t,
                    score=hit.weight,
                    category=hit.category,
                    term=hit.term,
                    text=text,
                    label=name,
                    context=hit.context,
                    subject=subject,
                )
            )
    if not images:
        return out
    frames = [VideoFrame(meta.stream, t, img.image, index=i) for i, img in enumerate(images)]
    if ocr_fn is not None:
        for img, res in zip(images, ocr_fn(frames), strict=True):
            for s in ocr_signals([res], match):
                out.append(replace(s, kind="room.ocr.keyword", label=img.field, url=img.ref, subject=subject))
    if vision_fn is not None:
        for img, vres in zip(images, vision_fn(frames), strict=True):
            for s in vision_signals([vres], vision_cfg):
                kind = "room." + s.kind  # room.image.nudenet / room.image.nsfw
                out.append(replace(s, kind=kind, url=img.ref, text=img.field, subject=subject))
    return out


def room_signals(
    meta: RoomMeta,
    match: MatchFn,
    vision_fn: VisionFn | None = None,
    ocr_fn: OcrFn | None = None,
    *,
    t: float = 0.0,
    guard: UrlGuard | None = None,
    vision_cfg: VisionConfig | None = None,
) -> list[Signal]:
    """Signals of a room's metadata at media time ``t`` (the stream's time when it was checked).

    ``vision_fn`` / ``ocr_fn`` take frames and return one result per frame in order (e.g.
    ``VisionModels.analyse`` and ``OcrEngine.read``); None skips that model. Images are read
    before any model runs, so a refused image (:class:`RoomMetaError`) costs no inference.
    """
    images = load_room_images(meta, guard)
    return _room_signals(meta, images, match, vision_fn, ocr_fn, t, vision_cfg or VisionConfig())


def room_signals_from(
    meta: RoomMeta,
    images: Sequence[RoomImage],
    match: MatchFn,
    vision: Sequence[VisionResult] | None,
    ocr: Sequence[OcrResult] | None,
    *,
    t: float = 0.0,
    vision_cfg: VisionConfig | None = None,
) -> list[Signal]:
    """:func:`room_signals` of images already read and results already inferred (one per image, in
    order; None: that model was not run), for callers whose inference is async (the pipeline's
    batcher clients)."""
    vision_fn = (lambda _frames: vision) if vision is not None else None
    ocr_fn = (lambda _frames: ocr) if ocr is not None else None
    return _room_signals(meta, images, match, vision_fn, ocr_fn, t, vision_cfg or VisionConfig())


class RoomWatcher:
    """Re-checks a room's metadata only when it changed (texts, image references or image bytes).

    Images are re-read on every :meth:`check` (a cover may change behind the same URL); the
    models run only when the hash of everything differs from the last checked one.
    """

    def __init__(
        self,
        match: MatchFn,
        vision_fn: VisionFn | None = None,
        ocr_fn: OcrFn | None = None,
        *,
        guard: UrlGuard | None = None,
        vision_cfg: VisionConfig | None = None,
    ) -> None:
        self.match = match
        self.vision_fn = vision_fn
        self.ocr_fn = ocr_fn
        self.guard = guard
        self.vision_cfg = vision_cfg or VisionConfig()
        self.checks = 0
        self._last: dict[str, str] = {}  # stream -> hash of the last checked metadata

    @staticmethod
    def fingerprint(meta: RoomMeta, images: Sequence[RoomImage]) -> str:
        h = hashlib.blake2b(digest_size=16)
        h.update(json.dumps([getattr(meta, f) for f in (*TEXT_FIELDS, *IMAGE_FIELDS)]).encode())
        for img in images:
            h.update(img.field.encode() + hashlib.sha256(img.data).digest())
        return h.hexdigest()

    def check(self, meta: RoomMeta, t: float = 0.0) -> list[Signal] | None:
        """Signals when the metadata changed since the last check of its stream, else None.

        A refused image raises :class:`RoomMetaError` and leaves the remembered hash as it was,
        so the next check tries again.
        """
        images = load_room_images(meta, self.guard)
        key = self.fingerprint(meta, images)
        if self._last.get(meta.stream) == key:
            return None
        out = _room_signals(meta, images, self.match, self.vision_fn, self.ocr_fn, t, self.vision_cfg)
        self._last[meta.stream] = key
        self.checks += 1
        return out

    def forget(self, stream: str) -> None:
        """Drop a stream's remembered hash (the stream ended)."""
        self._last.pop(stream, None)


def parse_meta(data: object, stream: str, base: Path | None = None) -> RoomMeta:
    """A :class:`RoomMeta` from a JSON object (``scan --meta``, ``POST /streams``' ``meta``).

    Keys: title, introduction, nickname (strings), cover, avatar (a path or URL). A relative path
    is taken relative to ``base`` (the meta file's folder) and must exist.
    """
    if not isinstance(data, dict):
        raise RoomMetaError(f"room metadata must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(TEXT_FIELDS) - set(IMAGE_FIELDS))
    if unknown:
        allowed = ", ".join((*TEXT_FIELDS, *IMAGE_FIELDS))
        raise RoomMetaError(f"room metadata: unknown key(s) {', '.join(map(repr, unknown))} (allowed: {allowed})")
    fields: dict[str, Any] = {}
    for name in (*TEXT_FIELDS, *IMAGE_FIELDS):
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise RoomMetaError(f"room metadata: {name} must be a string, got {type(value).__name__}")
        if len(value) > MAX_TEXT:
            raise RoomMetaError(f"room metadata: {name} is longer than {MAX_TEXT} characters")
        if name in IMAGE_FIELDS:
            if not value.strip():
                continue
            if not _is_url(value):
                path = Path(value) if base is None or Path(value).is_absolute() else base / value
                if not path.is_file():
                    raise RoomMetaError(f"room metadata: {name} {value}: no such file")
                value = str(path)
        fields[name] = value
    return RoomMeta(stream=stream, **fields)


def parse_meta_file(path: Path, stream: str) -> RoomMeta:
    """:func:`parse_meta` of a ``meta.json`` file; every failure is one :class:`RoomMetaError` line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RoomMetaError(f"--meta {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RoomMetaError(f"--meta {path}: cannot read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RoomMetaError(f"--meta {path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    try:
        return parse_meta(data, stream, path.parent)
    except RoomMetaError as exc:
        raise RoomMetaError(f"--meta {path}: {str(exc).removeprefix('room metadata: ')}") from None
