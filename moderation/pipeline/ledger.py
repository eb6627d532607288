"""The re-scan ledger: which files were already scanned with this pipeline and these models.

A re-scan of thousands of recordings is interrupted, extended with new files, or re-run after a
crash; files already scanned with the same pipeline and the same model versions must not be
scanned again, and their verdicts must still be in the new report. The ledger is a small SQLite
file beside the report (``report.jsonl.ledger.sqlite`` by default), written by the driver only,
one row per file as soon as that file is done, so an interrupted batch keeps what it finished.

Key: ``(content sha256, pipeline key)``. The content hash (not the path or mtime) means a file
that was renamed or copied is still recognised, and a file that was re-recorded under the same
name is not. The pipeline key hashes the whole pipeline config, the model versions (package,
version and weight sha256, see :meth:`Registry.version_of`) and whether evidence clips were cut
(and where), so a new policy, a new model or a new clips folder scans again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderation.config import PipelineConfig

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    content_sha TEXT NOT NULL,
    pipeline_key TEXT NOT NULL,
    path TEXT NOT NULL,
    stream TEXT NOT NULL,
    media_s REAL NOT NULL,
    records TEXT NOT NULL,
    scanned_at REAL NOT NULL,
    PRIMARY KEY (content_sha, pipeline_key)
)
"""


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def pipeline_key(cfg: PipelineConfig, model_versions: Sequence[tuple[str, str]], clips_dir: Path | None) -> str:
    """One hash of everything besides the file's bytes that decides what a scan reports."""
    payload = {
        "pipeline": cfg.model_dump(mode="json"),
        "models": sorted(list(p) for p in model_versions),
        "clips": str(clips_dir.resolve()) if clips_dir is not None else None,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class LedgerEntry:
    content_sha: str
    pipeline_key: str
    path: str
    stream: str
    media_s: float
    records: tuple[dict[str, Any], ...]

    def records_as(self, stream: str) -> list[dict[str, Any]]:
        """The prior verdict records under the stream name this run gives the file."""
        return [{**r, "stream": stream} for r in self.records]


class ScanLedger:
    """``ScanLedger(path)``: ``get`` a prior scan of a file, ``put`` one when a file is done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    @staticmethod
    def beside(report: Path) -> Path:
        return report.with_name(report.name + ".ledger.sqlite")

    def get(self, content_sha: str, key: str) -> LedgerEntry | None:
        row = self._db.execute(
            "SELECT path, stream, media_s, records FROM scans WHERE content_sha = ? AND pipeline_key = ?",
            (content_sha, key),
        ).fetchone()
        if row is None:
            return None
        return LedgerEntry(content_sha, key, row[0], row[1], float(row[2]), tuple(json.loads(row[3])))

    def put(self, entry: LedgerEntry) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO scans VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entry.content_sha,
                entry.pipeline_key,
                entry.path,
                entry.stream,
                entry.media_s,
                json.dumps(list(entry.records), ensure_ascii=False),
                time.time(),
            ),
        )
        self._db.commit()

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM scans").fetchone()[0])

    def close(self) -> None:
        self._db.close()
