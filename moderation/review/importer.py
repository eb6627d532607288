"""Load a scan's JSONL report (and its clips) into the review queue.

The whole report is checked first — every line parsed and validated, every clip and thumbnail
found — and only then written, so a bad line means nothing is imported and the error names the
line. Import is idempotent (the store upserts by stream, category and window): importing the
same report twice, or a later report of a growing stream, never duplicates items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from moderation.review.media import MediaError, find_source
from moderation.review.records import RecordError, parse_record
from moderation.review.store import ReviewStore


class ImportError_(ValueError):
    """A report line is not a valid verdict, or its evidence is missing; names the line."""


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def default_bases(report: Path) -> list[Path]:
    """Where a report's relative clip paths are looked up: its folder, its parent, then cwd.

    ``moderation demo`` writes ``demo-out/report.jsonl`` with clip paths relative to the directory
    the demo ran in (``demo-out/clips/...``), so the report's parent and the cwd both matter.
    """
    return [report.parent, report.parent.parent, Path.cwd()]


def import_report(store: ReviewStore, report: Path, bases: list[Path] | None = None,
                  actor: str = "import") -> ImportResult:
    bases = bases or default_bases(report)
    if not report.is_file():
        raise ImportError_(f"{report}: no such report file")
    records = []
    with report.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                parse_record(data)
                for p in ([data["clip"]] if data.get("clip") else []) + list(data.get("thumbnails") or []):
                    find_source(p, bases)
            except json.JSONDecodeError as exc:
                raise ImportError_(f"{report}:{n}: not JSON ({exc.msg})") from None
            except (RecordError, MediaError) as exc:
                raise ImportError_(f"{report}:{n}: {exc}") from None
            records.append(data)
    created = updated = unchanged = 0
    for data in records:
        res = store.upsert_verdict(data, bases=bases, actor=actor)
        created += res.created
        updated += res.changed and not res.created
        unchanged += not res.changed
    return ImportResult(created, updated, unchanged)
