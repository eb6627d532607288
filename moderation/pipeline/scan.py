"""Offline scan in this process: the same stage graph as live streams and the Ray scan actors.

The files are scanned concurrently over one set of in-process batchers
(:func:`moderation.pipeline.graph.scan_files`), so their frames and audio windows are batched
together and every model loads once.

Inputs are all checked before any work starts, so a typo in the fifth path fails in a second
instead of after four files were scanned, and the report is written atomically: it is either
complete or not there.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderation.config import PipelineConfig
from moderation.errors import InputError
from moderation.ingest.chat import check_chat_source
from moderation.ingest.decode import MediaError, MediaInfo, probe
from moderation.ingest.gifts import check_gift_source
from moderation.pipeline.graph import Engines, FileScan, FileTask, Progress, scan_files
from moderation.pipeline.inputs import local_path, stream_name
from moderation.report import ReportWriter, check_output_dir
from moderation.signals.room import RoomMeta, RoomMetaError, load_room_images, parse_meta_file


@dataclass(frozen=True)
class ScanInput:
    path: Path
    stream: str
    info: MediaInfo


@dataclass
class ScanSummary:
    report: Path | None
    clips_dir: Path | None
    files: list[FileScan] = field(default_factory=list)

    @property
    def verdict_count(self) -> int:
        return sum(len(f.verdicts) for f in self.files)


def check_inputs(inputs: Sequence[str]) -> list[ScanInput]:
    """Resolve and probe every input, or raise :class:`InputError` for the first bad one."""
    if not inputs:
        raise InputError("no input given")
    out: list[ScanInput] = []
    used: set[str] = set()
    for given in inputs:
        raw = local_path(given)
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{raw}: no such file")
        if not path.is_file():
            raise InputError(f"{raw}: not a regular file")
        try:
            info = probe(path)
        except MediaError as exc:
            raise InputError(str(exc)) from exc
        stream = stream_name(path, used)
        out.append(ScanInput(path=path, stream=stream, info=info))
    return out


def run_scan(
    inputs: Sequence[str],
    cfg: PipelineConfig,
    out: Path | None,
    clips_dir: Path | None,
    engines: Engines | None = None,
    progress_factory: Callable[[ScanInput], Progress | None] | None = None,
    chat: str | None = None,
    concurrency: int = 2,
    gifts: str | None = None,
    meta: Path | None = None,
    records: Path | None = None,
) -> ScanSummary:
    """Scan the files (``concurrency`` at a time over shared batchers); write the JSONL report
    atomically when all succeeded, else raise the first failure in input order.

    ``chat``: a chat feed (JSONL file or HTTP(S) URL) fused with the one input it belongs to;
    ``gifts``: its gift feed, likewise; ``meta``: the room metadata file of that one input (its
    images are read and checked to be images now); ``records``: the folder the records of every
    input go to. All are checked before any work.
    """
    checked = check_inputs(inputs)
    room: RoomMeta | None = None
    if meta is not None:
        if len(checked) != 1:
            raise InputError(f"--meta belongs to one recording, but {len(checked)} inputs were given")
        try:
            room = parse_meta_file(meta, checked[0].stream)
            load_room_images(room)
        except RoomMetaError as exc:
            raise InputError(str(exc)) from None
    if records is not None:
        check_output_dir(records, "--records")
    if chat is not None:
        if len(checked) != 1:
            raise InputError(f"--chat belongs to one recording, but {len(checked)} inputs were given")
        check_chat_source(chat, cfg.chat)
    if gifts is not None:
        if len(checked) != 1:
            raise InputError(f"--gifts belongs to one recording, but {len(checked)} inputs were given")
        check_gift_source(gifts, cfg.gifts)
    engines = engines or Engines(cfg)
    summary = ScanSummary(report=out, clips_dir=clips_dir)
    tasks = [
        FileTask(
            item.path,
            item.stream,
            chat,
            progress_factory(item) if progress_factory else None,
            item.info,
            gifts=gifts,
            meta=room,
            records=str(records) if records is not None else None,
        )
        for item in checked
    ]
    for res in asyncio.run(scan_files(tasks, engines, clips_dir, concurrency=concurrency)):
        if isinstance(res, Exception):
            raise res
        summary.files.append(res)
    if out is not None:
        with ReportWriter(out) as writer:
            for f in summary.files:
                writer.write_records(with_stream_duration(v.to_record(), f.info) for v in f.verdicts)
    return summary


def with_stream_duration(record: dict[str, Any], info: MediaInfo) -> dict[str, Any]:
    """``record`` with the scanned file's duration as ``stream_duration`` (when the container
    gives one), so the review queue draws the stream's timeline to its real length."""
    dur = info.duration
    if dur is not None and math.isfinite(dur) and dur >= 0:
        record["stream_duration"] = round(dur, 3)
    return record
