"""The workers of a re-scan: in process, or one :class:`ScanActor` per node on Ray.

Each worker loads the models once and scans several files at a time over ONE set of batchers
(:func:`moderation.pipeline.graph.scan_files` / :func:`~moderation.pipeline.graph.scan_one`), so
the frames and audio windows of its files are batched together. :mod:`moderation.cluster.rescan`
plans the jobs, keeps the ledger and writes the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
from ray.exceptions import RayActorError

from moderation.config import PipelineConfig
from moderation.infer.manifest import ModelError
from moderation.ingest.decode import MediaInfo, missing_span
from moderation.messages import Verdict
from moderation.pipeline.clients import LocalClients
from moderation.pipeline.graph import Engines, FileScan, FileTask, scan_files, scan_one
from moderation.pipeline.inputs import FileFailure, FileJob
from moderation.text.lexicon import LexiconError

if TYPE_CHECKING:
    from moderation.cluster.rescan import RescanOptions

_FATAL = (ModelError, LexiconError)


@dataclass(frozen=True)
class FileResult:
    stream: str
    verdicts: tuple[Verdict, ...]
    frames: int
    audio_s: float
    corrupt_packets: int = 0  # skipped by the decoder (damaged stretches), summed over the passes
    missing_s: float = 0.0  # of the container's duration that decoding never reached (truncated file)

    @classmethod
    def of(cls, scan: FileScan) -> FileResult:
        return cls(
            scan.stream,
            tuple(scan.verdicts),
            scan.frames,
            scan.audio_s,
            sum(s.corrupt_packets for s in scan.decode),
            missing_span(scan.info.duration, scan.decode),
        )


class ScanActor:
    """The scan worker of one node: loads the models once and scans several files at a time.

    Its files share ONE set of in-process batchers (:meth:`Engines.clients`) on an event loop of
    its own, so their frames and audio windows are batched together. Made a Ray actor with
    ``max_concurrency=files + 1``: each ``scan`` call waits on its file's coroutine while
    ``progress`` answers.
    """

    def __init__(self, cfg: PipelineConfig, clips_dir: str | None, files: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.cfg = cfg
        self.clips_dir = Path(clips_dir) if clips_dir else None
        self.files = max(1, files)
        self._engines: Engines | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: LocalClients | None = None
        self._decode: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._done: dict[str, float] = {}

    def _start(self) -> tuple[Engines, asyncio.AbstractEventLoop, LocalClients, ThreadPoolExecutor]:
        with self._lock:
            if self._loop is None:
                self._engines = Engines(self.cfg)
                self._engines.matcher  # noqa: B018  # built once, before files race for it
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="scan-loop", daemon=True).start()
                self._clients = self._engines.clients()
                self._decode = ThreadPoolExecutor(2 * self.files, thread_name_prefix="scan-decode")
                self._loop = loop
            assert self._engines and self._clients and self._decode
            return self._engines, self._loop, self._clients, self._decode

    def scan(self, path: str, stream: str, raise_errors: bool = False, chat: str | None = None) -> Outcome:
        """``chat``: the recording's chat log, fused with it."""
        self._done[path] = 0.0
        try:
            engines, loop, clients, decode = self._start()
            task = FileTask(Path(path), stream, chat, progress=lambda s: self._advance(path, s))
            scan = asyncio.run_coroutine_threadsafe(scan_one(task, engines, clients, self.clips_dir, decode), loop)
            return FileResult.of(scan.result())
        except Exception as exc:
            if raise_errors:  # one named file: errors propagate as before (exit 2, nothing written)
                raise
            return _failure(path, exc)
        finally:
            self._done.pop(path, None)

    def _advance(self, path: str, seconds: float) -> None:
        self._done[path] = self._done.get(path, 0.0) + seconds

    def progress(self) -> dict[str, float]:
        """Media seconds (summed over the video and audio passes) done so far, per file in flight."""
        return dict(self._done)

    def node_id(self) -> str:
        return ray.get_runtime_context().get_node_id()


def _failure(path: str, exc: Exception) -> FileFailure:
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return FileFailure(path, first if path in first else f"{path}: {first}", isinstance(exc, _FATAL))


def _passes(info: MediaInfo, cfg: PipelineConfig) -> int:
    video = info.has_video and (cfg.vision.enabled or cfg.ocr.enabled or cfg.qr.enabled)
    return max(1, int(video) + int(info.has_audio and cfg.asr.enabled))


def _chat(job: FileJob) -> str | None:
    """The chat log as an absolute path: the chat reader takes URLs too, and a log found beside a
    recording named ``file:x.mp4`` must stay that file, not become the URL ``file:x.chat.jsonl``."""
    return os.path.abspath(job.chat) if job.chat is not None else None


Outcome = FileResult | FileFailure
OnOutcome = Callable[[FileJob, Outcome], None]


def run_local(
    jobs: Sequence[FileJob],
    cfg: PipelineConfig,
    clips_dir: Path | None,
    files: int,
    on_outcome: OnOutcome,
    on_media: Callable[[float], None],
    strict: bool,
) -> None:
    """Every job in this process, ``files`` at a time over one set of batchers."""
    done: dict[int, float] = {}

    def progress(job: FileJob) -> Callable[[float], None]:
        passes = _passes(job.info, cfg)

        def report(seconds: float) -> None:
            done[job.index] = done.get(job.index, 0.0) + seconds / passes
            on_media(seconds / passes)

        return report

    def finished(i: int, res: FileScan | Exception) -> None:
        job = jobs[i]
        if isinstance(res, Exception):
            if strict:
                raise res
            outcome: Outcome = _failure(str(job.path), res)
        else:
            outcome = FileResult.of(res)
            on_media(max(job.media_s - done.get(job.index, 0.0), 0.0))
        on_outcome(job, outcome)

    tasks = [FileTask(j.path, j.stream, _chat(j), progress(j), j.info) for j in jobs]
    engines = Engines(cfg)
    try:
        asyncio.run(scan_files(tasks, engines, clips_dir, concurrency=files, on_done=finished))
    finally:
        engines.close()


def _default_layout(opts: RescanOptions) -> tuple[int, int]:
    """(actors, files per actor): one actor per node, as many files in flight as the node has CPUs."""
    nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]
    cpus = max((n["Resources"]["CPU"] for n in nodes), default=1.0)
    n = opts.actors or max(1, len(nodes))
    return n, opts.files_per_actor or max(1, int(cpus))


def run_ray(
    jobs: Sequence[FileJob],
    cfg: PipelineConfig,
    clips_dir: Path | None,
    opts: RescanOptions,
    on_outcome: OnOutcome,
    on_media: Callable[[float], None],
    actor_cls: type[ScanActor],
) -> int:
    """Scan ``jobs`` through one scan actor per node (``opts.actors`` to choose); returns the actors used.

    A file that was in flight on an actor that died is run again alone on an actor (so a second
    death is its own, not a neighbour's) and fails after ``max_attempts``.
    """
    n, per_actor = _default_layout(opts)
    n = max(1, min(n, len(jobs)))
    per_actor = max(1, min(per_actor, -(-len(jobs) // n)))
    remote_cls: Any = ray.remote(actor_cls).options(
        num_cpus=opts.actor_cpus, num_gpus=opts.actor_gpus, max_concurrency=per_actor + 1, scheduling_strategy="SPREAD"
    )
    clips = str(clips_dir) if clips_dir else None
    actors = [remote_cls.remote(cfg, clips, per_actor) for _ in range(n)]
    gen = [0] * n
    load = [0] * n
    alone: set[int] = set()  # actors running a suspect file, which takes no other file meanwhile
    suspects: set[int] = set()  # job indexes that were in flight on an actor that died
    pending = list(reversed(jobs))
    attempts: dict[int, int] = {}
    busy: dict[Any, tuple[int, int, FileJob]] = {}
    seen: dict[int, float] = {}  # job index → media seconds already counted for it

    def free_actor(job: FileJob) -> int | None:
        for i in sorted(range(n), key=lambda k: load[k]):
            if i in alone or load[i] >= per_actor or (job.index in suspects and load[i] > 0):
                continue
            return i
        return None

    try:
        while pending or busy:
            while pending and (i := free_actor(pending[-1])) is not None:
                job = pending.pop()
                attempts[job.index] = attempts.get(job.index, 0) + 1
                load[i] += 1
                if job.index in suspects:
                    alone.add(i)
                busy[actors[i].scan.remote(str(job.path), job.stream, False, _chat(job))] = (i, gen[i], job)
            ready, _ = ray.wait(list(busy), num_returns=1, timeout=opts.poll_s)
            for ref in ready:
                i, g, job = busy.pop(ref)
                try:
                    outcome: Outcome = ray.get(ref)
                except RayActorError as exc:  # the process died (decoder crash, OOM, node lost)
                    if g == gen[i]:  # first news of this death: replace the actor once
                        actors[i], gen[i], load[i] = remote_cls.remote(cfg, clips, per_actor), g + 1, 0
                        alone.discard(i)
                    if attempts[job.index] < opts.max_attempts:
                        suspects.add(job.index)
                        pending.append(job)
                        continue
                    outcome = FileFailure(str(job.path), f"{job.path}: scan worker died ({type(exc).__name__})")
                else:
                    if g == gen[i]:
                        load[i] -= 1
                        if job.index in suspects:
                            alone.discard(i)
                rest = job.media_s - seen.pop(job.index, 0.0)
                on_media(max(rest, 0.0))
                on_outcome(job, outcome)
            _poll_progress(actors, busy, cfg, seen, on_media)
    finally:
        for actor in actors:
            ray.kill(actor)
    return n


def _poll_progress(
    actors: list[Any],
    busy: dict[Any, tuple[int, int, FileJob]],
    cfg: PipelineConfig,
    seen: dict[int, float],
    on_media: Callable[[float], None],
) -> None:
    if not busy:
        return
    by_actor: dict[int, dict[str, FileJob]] = {}
    for i, _g, job in busy.values():
        by_actor.setdefault(i, {})[str(job.path)] = job
    probes = {actors[i].progress.remote(): files for i, files in by_actor.items()}
    ready, not_ready = ray.wait(list(probes), num_returns=len(probes), timeout=1.0)
    for ref in not_ready:
        with contextlib.suppress(Exception):
            ray.cancel(ref)
    for ref in ready:
        try:
            per_file: dict[str, float] = ray.get(ref)
        except RayActorError:
            continue
        for path, job in probes[ref].items():
            done = min(per_file.get(path, 0.0) / _passes(job.info, cfg), job.media_s)
            delta = done - seen.get(job.index, 0.0)
            if delta > 0:
                seen[job.index] = done
                on_media(delta)
