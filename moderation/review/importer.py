"""Load a scan's JSONL report (and its clips) into the review queue.

Every line is parsed and validated first, so a line that is not a verdict record (bad JSON, a
missing or out-of-range field) refuses the whole report and the error names the line: such a file
is not a report this queue should trust. Evidence is checked per item: a line whose clip or
thumbnail is missing, a symbolic link, outside the report's folders or not media data is refused
with its own one-line reason, and every other line is still imported. Import is idempotent (the
store upserts by stream, category and window): importing the same report twice, or a later report
of a growing stream, never duplicates items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderation.review.media import MediaError, check_evidence
from moderation.review.records import RecordError, parse_record
from moderation.review.store import ReviewStore


class ImportError_(ValueError):
    """A report line is not a valid verdict record (or the report is missing); names the line."""


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    #: One line per refused item: ``report:line: reason``.
    refused: list[str] = field(default_factory=list)


def default_bases(report: Path) -> list[Path]:
    """Where a report's relative clip paths are looked up: its folder, its parent, then cwd.

    ``moderation demo`` writes ``demo-out/report.jsonl`` with clip paths relative to the directory
    the demo ran in (``demo-out/clips/...``), so the report's parent and the cwd both matter.
    """
    return [report.parent, report.parent.parent, Path.cwd()]


def import_report(
    store: ReviewStore,
    report: Path,
    bases: list[Path] | None = None,
    actor: str = "import",
    extra_bases: list[Path] | None = None,
) -> ImportResult:
    """Import ``report``; relative evidence paths are looked up in ``bases`` (default: see
    ``default_bases``) and then ``extra_bases`` (e.g. the ``--clips`` folder of the scan that
    wrote it), and must stay inside the folder they were found in."""
    bases = (bases or default_bases(report)) + list(extra_bases or [])
    if not report.is_file():
        raise ImportError_(f"{report}: no such report file")
    records: list[tuple[int, dict[str, Any]]] = []
    try:
        with report.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    parse_record(data)
                except json.JSONDecodeError as exc:
                    raise ImportError_(f"{report}:{n}: not JSON ({exc.msg})") from None
                except (RecordError, RecursionError) as exc:
                    raise ImportError_(
                        f"{report}:{n}: {exc if isinstance(exc, RecordError) else 'nested too deeply'}"
                    ) from None
                records.append((n, data))
    except UnicodeDecodeError as exc:
        raise ImportError_(f"{report}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    created = updated = unchanged = 0
    refused: list[str] = []
    for n, data in records:
        try:
            check_evidence(data.get("clip") or None, list(data.get("thumbnails") or []), bases)
            res = store.upsert_verdict(data, bases=bases, actor=actor)
        except (MediaError, RecordError) as exc:
            refused.append(f"{report}:{n}: {exc}")
            continue
        created += res.created
        updated += res.changed and not res.created
        unchanged += not res.changed
    return ImportResult(created, updated, unchanged, refused)
