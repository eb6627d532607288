"""Offline re-scan at scale: many files, a directory or a glob, on Ray (DESIGN.md §4.1).

``run_rescan`` expands the inputs, hashes and probes every file (threads, in the driver), skips
the files the ledger (:mod:`moderation.pipeline.ledger`) already holds for this pipeline and these
models, and scans the rest through :class:`ScanActor` — one per node by default (``actors=N`` to
choose), each loading the models once and scanning as many files at a time as its node has CPUs
over ONE set of batchers, so the frames and audio windows of those files are batched together
(the stage graph is :mod:`moderation.pipeline.analysis`, fed from a file).

Where it runs:
- ``address`` given (``"auto"`` or ``ray://…``/``host:port``): on that Ray cluster. Inputs, the
  report, the ledger and the clips folder must be on storage every node sees under the same path.
- otherwise, more than one file: a local ``ray.init`` (or the Ray already initialised in this
  process), actors on this machine's CPUs.
- one file and no address, or ``actors=0``: in this process without Ray, ``files_per_actor`` (2)
  files at a time over one set of batchers. Starting Ray costs ~8 s on a small machine, more than
  scanning a short clip; the stage graph is the same either way.

A file that cannot be scanned (not media, corrupt, a decoder crash that kills its actor twice)
is reported through ``on_failure`` and in the summary and left out; the batch goes on. Only a
problem that would fail every file (a model package missing, a bad lexicon) stops the batch.
A file that decodes without an error but ends well before the duration its container declares
(a truncated recording) is scanned as far as it goes, named in ``summary.incomplete`` and not put
in the ledger, so the next run scans it again; decoder-skipped corrupt packets are counted.
A missing path or a glob that matches nothing is a user error before any work starts. With a
single explicitly named file the old contract holds: any failure is an error, nothing written.

With ``chat_sidecars``, a recording's stored chat log beside it (``room.mp4`` → ``room.chat.jsonl``,
:func:`moderation.pipeline.inputs.chat_sidecar`) is fused with it, and its bytes are part of the
file's ledger key, so a changed log is scanned again.

The report lists files in input order (directories and globs sorted), whatever order the actors
finish in, so a scan on one node and on a cluster give the same report. It is written atomically.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray

from moderation.cluster.scan_actor import FileResult, Outcome, ScanActor, run_local, run_ray
from moderation.config import PipelineConfig
from moderation.errors import InputError
from moderation.infer.manifest import ModelError
from moderation.pipeline.graph import Engines
from moderation.pipeline.inputs import FileFailure, FileJob, expand_inputs, local_path, plan_jobs
from moderation.pipeline.ledger import LedgerEntry, ScanLedger, pipeline_key
from moderation.report import ReportWriter
from moderation.text.lexicon import LexiconError

_FATAL = (ModelError, LexiconError)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RescanOptions:
    address: str | None = None  # Ray cluster address; None: local Ray (or none for one file)
    actors: int | None = None  # None: one per node; 0: in this process, no Ray
    actor_cpus: float = 1.0
    actor_gpus: float = 0.0
    ledger: Path | None = None  # default: beside the report; no report and no ledger: no resume
    resume: bool = True
    files_per_actor: int | None = (
        None  # files in flight per actor (and in process); None: the node's CPUs (2 in process)
    )
    max_attempts: int = 2  # per file, counting attempts that died with their actor
    chat_sidecars: bool = False  # fuse each recording's chat log beside it (room.mp4 → room.chat.jsonl)
    poll_s: float = 0.5


@dataclass(frozen=True)
class Incomplete:
    """A file that scanned without an error but not to its end: reported, never marked done."""

    path: str
    missing_s: float
    duration_s: float

    @property
    def reason(self) -> str:
        return (
            f"{self.path}: truncated — decoding ended {self.missing_s:.1f} s before the "
            f"{self.duration_s:.1f} s the container declares; scanned what is there, not marked done"
        )


@dataclass(frozen=True)
class RescanProgress:
    files_total: int
    files_done: int
    media_s_total: float
    media_s_done: float
    skipped: int
    failed: int
    elapsed_s: float


@dataclass
class RescanSummary:
    report: Path | None
    files_total: int = 0
    scanned: int = 0
    skipped: int = 0
    failures: list[FileFailure] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    media_s: float = 0.0
    wall_s: float = 0.0
    used_ray: bool = False
    actors: int = 0
    chat_logs: int = 0  # recordings fused with their chat log
    incomplete: list[Incomplete] = field(default_factory=list)  # truncated: scanned in part, not in the ledger
    corrupt_packets: int = 0  # skipped by the decoder over the files scanned in this run


def run_rescan(
    inputs: Sequence[str],
    cfg: PipelineConfig,
    out: Path | None,
    clips_dir: Path | None,
    opts: RescanOptions = RescanOptions(),
    on_progress: Callable[[RescanProgress], None] | None = None,
    on_failure: Callable[[FileFailure], None] | None = None,
    actor_cls: type[ScanActor] = ScanActor,
) -> RescanSummary:
    """Scan every input, skip what the ledger holds, write one report; see the module docstring."""
    t0 = time.monotonic()
    files = expand_inputs(inputs)
    # One file named on its own (as a path or a file: URL) keeps the single-file contract.
    strict = len(inputs) == 1 and len(files) == 1 and Path(files[0]) == Path(local_path(inputs[0]))
    jobs, failures = plan_jobs(files, strict, opts.chat_sidecars)
    summary = RescanSummary(
        report=out,
        files_total=len(files),
        failures=list(failures),
        chat_logs=sum(1 for j in jobs if j.chat is not None),
    )
    for f in failures:
        if on_failure:
            on_failure(f)
    engines = Engines(cfg)  # manifests only; models load lazily and never in the driver for Ray runs
    key = pipeline_key(cfg, engines.model_versions(), clips_dir)
    ledger_path = opts.ledger or (ScanLedger.beside(out) if out is not None else None)
    ledger = ScanLedger(ledger_path) if ledger_path is not None else None
    by_index: dict[int, list[dict[str, Any]]] = {}
    todo: list[FileJob] = []
    for job in jobs:
        prior = ledger.get(job.content_sha, key) if ledger and opts.resume else None
        if prior is not None:
            by_index[job.index] = prior.records_as(job.stream)
            summary.skipped += 1
            summary.media_s += job.media_s
        else:
            todo.append(job)
    media_total = sum(j.media_s for j in jobs)
    state = {"done": summary.skipped + len(failures), "media": summary.media_s}

    def report_progress() -> None:
        if on_progress:
            on_progress(
                RescanProgress(
                    len(files),
                    int(state["done"]),
                    media_total,
                    state["media"],
                    summary.skipped,
                    len(summary.failures),
                    time.monotonic() - t0,
                )
            )

    def on_media(seconds: float) -> None:
        state["media"] += seconds
        report_progress()

    def on_outcome(job: FileJob, outcome: Outcome) -> None:
        state["done"] += 1
        if isinstance(outcome, FileFailure):
            if outcome.fatal:
                raise InputError(outcome.reason)  # would fail every file: stop the batch
            summary.failures.append(outcome)
            if on_failure:
                on_failure(outcome)
        else:
            records = [v.to_record() for v in outcome.verdicts]
            by_index[job.index] = records
            summary.scanned += 1
            summary.corrupt_packets += outcome.corrupt_packets
            summary.media_s += max(job.media_s - outcome.missing_s, 0.0)
            if outcome.missing_s > 0:  # a truncated file is scanned again next time, not resumed
                gap = Incomplete(str(job.path), outcome.missing_s, job.media_s)
                log.warning("%s", gap.reason)
                summary.incomplete.append(gap)
            elif ledger is not None:
                ledger.put(LedgerEntry(job.content_sha, key, str(job.path), job.stream, job.media_s, tuple(records)))
        report_progress()

    report_progress()
    try:
        if todo:
            use_ray = opts.actors != 0 and (opts.address is not None or len(files) > 1)
            if use_ray:
                summary.used_ray = True
                started = _ensure_ray(opts.address)
                try:
                    summary.actors = run_ray(todo, cfg, clips_dir, opts, on_outcome, on_media, actor_cls)
                finally:
                    if started:
                        ray.shutdown()
            else:
                summary.actors = 0
                run_local(todo, cfg, clips_dir, opts.files_per_actor or 2, on_outcome, on_media, strict)
    finally:
        if ledger is not None:
            ledger.close()
    summary.records = [r for i in sorted(by_index) for r in by_index[i]]
    if out is not None:
        with ReportWriter(out) as writer:
            writer.write_records(summary.records)
    summary.wall_s = time.monotonic() - t0
    return summary


def _ensure_ray(address: str | None) -> bool:
    """Connect to (or start) Ray; True when this call started it and should shut it down."""
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "WARNING"}
    ray.init(address=address, **kwargs)
    return True


__all__ = [
    "FileFailure",
    "FileResult",
    "Incomplete",
    "RescanOptions",
    "RescanProgress",
    "RescanSummary",
    "ScanActor",
    "expand_inputs",
    "run_rescan",
]
