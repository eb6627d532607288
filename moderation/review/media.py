"""Evidence files owned by the queue: copied in by key, served by item id, purged by retention.

The queue copies (hard-links where it can) a verdict's clip and thumbnails into its own media
directory, so the scan's output folder can be cleaned up and retention has one place to act on.
Stored paths are relative to that directory and are only ever produced here; a request never
names a path, and ``resolve`` refuses anything that would land outside the directory anyway.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

#: File types the queue keeps, by suffix; anything else in a record is rejected.
CLIP_SUFFIXES = (".mp4",)
THUMB_SUFFIXES = (".jpg", ".jpeg", ".png")


class MediaError(ValueError):
    """A verdict's clip or thumbnail is missing, not a regular file, or of the wrong type."""


def key_dir(stream: str, category: str, window_ms: int) -> str:
    """A directory name for an item key that is safe whatever the stream name contains."""
    digest = hashlib.sha256(f"{stream}\0{category}\0{window_ms}".encode()).hexdigest()[:20]
    return f"{digest[:2]}/{digest}"


def find_source(path: str, bases: list[Path]) -> Path:
    """Locate a record's media path: absolute as is, else relative to each base in turn."""
    p = Path(path)
    candidates = [p] if p.is_absolute() else [b / p for b in bases]
    for c in candidates:
        if c.is_file():
            return c
    tried = ", ".join(str(c) for c in candidates)
    raise MediaError(f"media file {path!r} not found (tried {tried})")


def _place(src: Path, dst: Path) -> None:
    """Hard-link or copy ``src`` to ``dst`` atomically (a reader never sees half a file)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def ingest(
    media_dir: Path, key: str, clip: str | None, thumbs: list[str], bases: list[Path]
) -> tuple[str | None, list[str]]:
    """Copy a verdict's evidence under ``media_dir/key``; return the stored relative paths."""
    rel_clip: str | None = None
    if clip:
        src = find_source(clip, bases)
        if src.suffix.lower() not in CLIP_SUFFIXES:
            raise MediaError(f"clip {clip!r} is not an MP4 file")
        rel_clip = f"{key}/clip.mp4"
        _place(src, media_dir / rel_clip)
    rel_thumbs: list[str] = []
    for i, t in enumerate(thumbs):
        src = find_source(t, bases)
        suffix = src.suffix.lower()
        if suffix not in THUMB_SUFFIXES:
            raise MediaError(f"thumbnail {t!r} is not a JPEG or PNG image")
        rel = f"{key}/thumb-{i}{'.jpg' if suffix == '.jpeg' else suffix}"
        _place(src, media_dir / rel)
        rel_thumbs.append(rel)
    return rel_clip, rel_thumbs


def resolve(media_dir: Path, rel: str | None) -> Path | None:
    """The file for a stored relative path, or ``None`` if absent or outside ``media_dir``."""
    if not rel:
        return None
    root = media_dir.resolve()
    p = (root / rel).resolve()
    if root not in p.parents or not p.is_file():
        return None
    return p


def remove(media_dir: Path, rels: list[str]) -> int:
    """Delete stored files (retention); return how many existed. Empty key dirs are removed."""
    n = 0
    for rel in rels:
        p = resolve(media_dir, rel)
        if p is None:
            continue
        p.unlink()
        n += 1
        with contextlib.suppress(OSError):
            p.parent.rmdir()
    return n
