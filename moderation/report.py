"""JSONL verdict reports that are either complete or absent.

A scan that fails half-way must not leave a file that looks like a finished report: records go
to a temporary file beside the target and are renamed into place only when the scan succeeded.
Where they go is checked before any work (:func:`check_output_file`, :func:`check_output_dir`):
a scan of hours of media must not find out at its end that its report cannot be written.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from moderation.messages import Verdict


class OutputPathError(ValueError):
    """An output path that cannot be written; the message is one line naming it and why."""


def _existing_ancestor(path: Path, what: str, shown: Path) -> Path:
    """The nearest ancestor of ``path`` that exists; it must be a directory."""
    p = path
    while not p.exists():
        if p.is_symlink():
            raise OutputPathError(f"{what} {shown}: {p} is a broken symbolic link")
        if p.parent == p:
            break
        p = p.parent
    if not p.is_dir():
        raise OutputPathError(f"{what} {shown}: {p} is a regular file, not a directory")
    return p


def _probe_dir(directory: Path, what: str, shown: Path) -> None:
    """Create and remove one file in ``directory``: the only test of writability that is true for
    every user (root included), read-only mounts and pseudo-filesystems; nothing is left behind."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".moderation-write-check.", dir=directory)
    except OSError as exc:
        raise OutputPathError(f"{what} {shown}: cannot write in {directory} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)


def check_output_file(path: Path, what: str = "--out") -> None:
    """Raise OutputPathError unless a file can be written at ``path`` (missing folders created then)."""
    if path.is_dir():
        raise OutputPathError(f"{what} {path}: is a directory (give a file path)")
    if path.exists() and not path.is_file():
        raise OutputPathError(f"{what} {path}: exists and is not a regular file")
    _probe_dir(_existing_ancestor(path.parent, what, path), what, path)


def check_output_dir(path: Path, what: str = "--clips") -> None:
    """Raise OutputPathError unless ``path`` is, or can be made, a writable directory."""
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{what} {path}: is a file, not a directory")
    _probe_dir(_existing_ancestor(path, what, path), what, path)


class ReportWriter:
    """``with ReportWriter(path) as w: w.write(verdicts)`` — atomic on success, removed on error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._tmp: Path | None = None
        self._fh: IO[str] | None = None

    def __enter__(self) -> ReportWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent)
        self._tmp = Path(tmp)
        self._fh = os.fdopen(fd, "w", encoding="utf-8")
        return self

    def write(self, verdicts: Iterable[Verdict]) -> None:
        self.write_records(v.to_record() for v in verdicts)

    def write_records(self, records: Iterable[dict[str, Any]]) -> None:
        """Records already in the §4.2 shape (a re-scan keeps earlier files' records this way)."""
        assert self._fh is not None, "use ReportWriter as a context manager"
        for r in records:
            self._fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            self.count += 1
        self._fh.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._fh is not None and self._tmp is not None
        self._fh.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def read_report(path: Path) -> list[dict[str, object]]:
    """Records of a JSONL report (for tests and tools)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
