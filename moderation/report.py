"""JSONL verdict reports that are either complete or absent.

A scan that fails half-way must not leave a file that looks like a finished report: records go
to a temporary file beside the target and are renamed into place only when the scan succeeded.
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
