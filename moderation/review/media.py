"""Evidence files owned by the queue: copied in by key, served by item id, purged by retention.

The queue copies (hard-links where it can) a verdict's clip and thumbnails into its own media
directory, so the scan's output folder can be cleaned up and retention has one place to act on.
Stored paths are relative to that directory and are only ever produced here; a request never
names a path, and ``resolve`` refuses anything that would land outside the directory anyway.

Evidence named by a report is untrusted: a symbolic link (``evil.mp4 -> /etc/shadow``) or a
relative path that resolves outside the folder it is relative to is refused, the file is opened
without following a final symlink, and its first bytes must be an MP4 ``ftyp`` box or a JPEG/PNG
signature. The suffix alone proves nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
from pathlib import Path

#: File types the queue keeps, by suffix; anything else in a record is rejected.
CLIP_SUFFIXES = (".mp4",)
THUMB_SUFFIXES = (".jpg", ".jpeg", ".png")
_PNG = b"\x89PNG\r\n\x1a\n"


class MediaError(ValueError):
    """A verdict's clip or thumbnail is missing, not a regular file, or of the wrong type."""


def key_dir(stream: str, category: str, window_ms: int, subject_key: str = "") -> str:
    """A directory name for an item key that is safe whatever the stream name contains.

    The streamer's key (``subject_key == ""``) hashes as it did before subjects were part of the
    key, so a re-ingested older item writes to the folder it already has.
    """
    key = f"{stream}\0{category}\0{window_ms}" + (f"\0{subject_key}" if subject_key else "")
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return f"{digest[:2]}/{digest}"


def sniff(head: bytes) -> str | None:
    """The media type the first bytes prove: ``"mp4"``, ``"jpg"``, ``"png"`` or ``None``."""
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(_PNG):
        return "png"
    return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check(candidate: Path, folder: Path, rel: Path, shown: str) -> Path:
    """Return the real path of ``folder/rel`` if it is a regular file reached without any symlink.

    ``folder`` itself may sit behind symlinks (``/tmp`` often does); nothing below it may be one,
    and ``rel`` may not climb with ``..``.
    """
    if candidate.is_symlink():
        raise MediaError(f"media file {shown!r} is a symbolic link; evidence must be a regular file")
    real = Path(os.path.realpath(candidate))
    root = Path(os.path.realpath(folder))
    if ".." in rel.parts or real != root / rel:
        raise MediaError(f"media file {shown!r} resolves outside its folder {root} (through '..' or a symlink)")
    if not real.is_file():
        raise MediaError(f"media file {shown!r} is not a regular file")
    return real


def find_source(path: str, bases: list[Path]) -> Path:
    """Locate a record's media path and return its checked real location.

    A relative path is tried under each base in turn and must stay inside that base, with no
    symlink or ``..`` on the way. An absolute path lying under a base is held to the same rule;
    any other absolute path (the live pipeline's own clips) must at least not be a symlink.
    """
    if "\0" in path:
        raise MediaError("media path contains a NUL character")
    p = Path(path)
    if p.is_absolute():
        if ".." in p.parts:
            raise MediaError(f"media file {path!r} climbs with '..'; name it without")
        norm = Path(os.path.normpath(p))
        if not (norm.exists() or norm.is_symlink()):
            raise MediaError(f"media file {path!r} not found")
        for b in bases:
            root = Path(os.path.normpath(b.absolute()))
            if _inside(norm, root):
                return _check(norm, root, norm.relative_to(root), path)
        return _check(norm, norm.parent, Path(norm.name), path)
    for b in bases:
        c = b / p
        if c.exists() or c.is_symlink():
            return _check(c, b, p, path)
    tried = ", ".join(str(b / p) for b in bases)
    raise MediaError(f"media file {path!r} not found (tried {tried})")


def _open_checked(src: Path, shown: str, want: tuple[str, ...]) -> tuple[int, str]:
    """Open ``src`` without following a symlink; check it is a regular file of a wanted type."""
    try:
        fd = os.open(src, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise MediaError(f"media file {shown!r} cannot be opened ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise MediaError(f"media file {shown!r} is not a regular file")
        kind = sniff(os.pread(fd, 16, 0))
        if kind not in want:
            raise MediaError(f"{shown!r} is not {' or '.join(k.upper() for k in want)} data (checked its first bytes)")
    except BaseException:
        os.close(fd)
        raise
    return fd, kind


def _place(fd: int, src: Path, dst: Path) -> None:
    """Hard-link or copy the opened ``src`` to ``dst`` atomically (a reader never sees half a file).

    The hard link is kept only if it is the very file that was opened and checked; otherwise
    (a swap in between, or another filesystem) the bytes are copied from the open descriptor.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    opened = os.fstat(fd)
    try:
        linked = False
        with contextlib.suppress(OSError):
            os.link(src, tmp, follow_symlinks=False)
            st = os.lstat(tmp)
            linked = stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == (opened.st_dev, opened.st_ino)
            if not linked:
                tmp.unlink()
        if not linked:
            with os.fdopen(os.dup(fd), "rb") as fin, tmp.open("wb") as fout:
                fin.seek(0)
                shutil.copyfileobj(fin, fout)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def check_evidence(clip: str | None, thumbs: list[str], bases: list[Path]) -> None:
    """Everything ``ingest`` would refuse, without copying anything (import checks a report first)."""
    for path, want in ([(clip, ("mp4",))] if clip else []) + [(t, ("jpg", "png")) for t in thumbs]:
        _check_suffix(path, want)
        fd, _ = _open_checked(find_source(path, bases), path, want)
        os.close(fd)


def _check_suffix(path: str, want: tuple[str, ...]) -> None:
    suffix = Path(path).suffix.lower()
    if want == ("mp4",) and suffix not in CLIP_SUFFIXES:
        raise MediaError(f"clip {path!r} is not an MP4 file")
    if want != ("mp4",) and suffix not in THUMB_SUFFIXES:
        raise MediaError(f"thumbnail {path!r} is not a JPEG or PNG image")


def ingest(
    media_dir: Path, key: str, clip: str | None, thumbs: list[str], bases: list[Path]
) -> tuple[str | None, list[str]]:
    """Copy a verdict's evidence under ``media_dir/key``; return the stored relative paths."""
    rel_clip: str | None = None
    if clip:
        _check_suffix(clip, ("mp4",))
        src = find_source(clip, bases)
        fd, _ = _open_checked(src, clip, ("mp4",))
        try:
            rel_clip = f"{key}/clip.mp4"
            _place(fd, src, media_dir / rel_clip)
        finally:
            os.close(fd)
    rel_thumbs: list[str] = []
    for i, t in enumerate(thumbs):
        _check_suffix(t, ("jpg", "png"))
        src = find_source(t, bases)
        fd, kind = _open_checked(src, t, ("jpg", "png"))
        try:
            rel = f"{key}/thumb-{i}.{kind}"
            _place(fd, src, media_dir / rel)
        finally:
            os.close(fd)
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
