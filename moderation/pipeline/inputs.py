"""Inputs of a re-scan: files, directories and globs → probed, hashed, named file jobs.

A missing path or a glob that matches nothing is a user error (:class:`InputError`) before any
work starts; a file that exists but is not media becomes a :class:`FileFailure` of the batch
(or an error, when ``strict``: one explicitly named file keeps the single-file contract).
"""

from __future__ import annotations

import glob
import hashlib
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from moderation.errors import InputError
from moderation.ingest.decode import MediaError, MediaInfo, file_url_path, is_file_url, probe
from moderation.pipeline.ledger import file_sha256

MEDIA_SUFFIXES = frozenset(
    (
        ".mp4",
        ".m4v",
        ".mkv",
        ".mov",
        ".webm",
        ".flv",
        ".ts",
        ".m2ts",
        ".mts",
        ".avi",
        ".wmv",
        ".mpg",
        ".mpeg",
        ".3gp",
        ".m4a",
        ".mp3",
        ".aac",
        ".wav",
        ".flac",
        ".ogg",
        ".opus",
    )
)
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True)
class FileJob:
    index: int
    path: Path
    stream: str
    info: MediaInfo
    content_sha: str  # of the file, and of its chat log when one is fused (so a changed log re-scans)
    chat: Path | None = None  # the recording's chat log (``chat_sidecar``), fused with it

    @property
    def media_s(self) -> float:
        return self.info.duration or 0.0


@dataclass(frozen=True)
class FileFailure:
    path: str
    reason: str
    fatal: bool = False


def local_path(raw: str) -> str:
    """The local path an input names: a plain path as given, or a ``file:`` URL's path; any other
    URL is refused.

    ``file:`` URLs are read as the live URL guard reads them (``file:/x``, ``file:///x`` and
    ``file://localhost/x`` are ``/x``, percent-decoded); ``file://host/x`` is refused, since a file
    on another host cannot be scanned here. A plain path is never a URL, whatever it holds.
    """
    if is_file_url(raw):
        try:
            return file_url_path(raw)
        except MediaError as exc:
            raise InputError(str(exc)) from exc
    if _SCHEME_RE.match(raw):
        scheme = urlsplit(raw).scheme.lower()
        raise InputError(f"{raw}: unsupported URL scheme '{scheme}' for scan (give a local file path)")
    return raw


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """Files, directories (media files under them, recursively, sorted) and globs → file paths."""
    if not inputs:
        raise InputError("no input given")
    out: list[str] = []
    for given in inputs:
        raw = local_path(given)
        path = Path(raw)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
            if not found:
                raise InputError(f"{raw}: a directory with no media files in it, not a regular file to scan")
            out += found
        elif not path.exists() and glob.has_magic(raw):
            found = sorted(p for p in glob.glob(raw, recursive=True) if Path(p).is_file())
            if not found:
                raise InputError(f"{raw}: no file matches this pattern")
            out += found
        elif not path.exists():
            raise InputError(f"{raw}: no such file")
        elif not path.is_file():
            raise InputError(f"{raw}: not a regular file")
        else:
            out.append(raw)
    seen: set[Path] = set()
    unique = []
    for p in out:
        key = Path(p).resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def stream_name(path: Path, used: set[str]) -> str:
    """A report-friendly stream id from the file name, made unique among ``used`` (and added to it)."""
    name = re.sub(r"[^0-9A-Za-z_.-]+", "_", path.stem) or "stream"
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{name}-{n}"
    used.add(candidate)
    return candidate


CHAT_SIDECAR = ".chat.jsonl"


def chat_sidecar(path: Path) -> Path | None:
    """A stored recording's chat log beside it (``room.mp4`` → ``room.chat.jsonl``), if there is one."""
    side = path.with_suffix(CHAT_SIDECAR)
    return side if side.is_file() else None


def plan_jobs(
    files: Sequence[str], strict: bool, chat_sidecars: bool = False
) -> tuple[list[FileJob], list[FileFailure]]:
    """Probe and hash every file (threads); non-media files become failures (errors if strict).
    With ``chat_sidecars``, a recording's chat log (:func:`chat_sidecar`) goes with it."""

    def inspect(p: str) -> tuple[MediaInfo, str, Path | None]:
        # A Path, not the string: a found file named 'file:x.mp4' is that file, not a URL.
        info, sha = probe(Path(p)), file_sha256(Path(p))
        chat = chat_sidecar(Path(p)) if chat_sidecars else None
        if chat is not None:
            sha = hashlib.sha256(f"{sha}+chat:{file_sha256(chat)}".encode()).hexdigest()
        return info, sha, chat

    with ThreadPoolExecutor(max_workers=min(8, max(1, len(files)))) as pool:
        futures = [pool.submit(inspect, p) for p in files]
    jobs: list[FileJob] = []
    failures: list[FileFailure] = []
    used: set[str] = set()
    for i, (p, fut) in enumerate(zip(files, futures, strict=True)):
        try:
            info, sha, chat = fut.result()
        except (MediaError, OSError) as exc:
            if strict:
                raise InputError(str(exc) if isinstance(exc, MediaError) else f"{p}: {exc}") from exc
            failures.append(FileFailure(p, str(exc)))
            continue
        jobs.append(FileJob(i, Path(p), stream_name(Path(p), used), info, sha, chat))
    return jobs, failures
