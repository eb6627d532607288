"""An offline scan: the stream analyser (:mod:`moderation.pipeline.analysis`) over a file source.

A recorded file goes through the same per-stream stage graph as a live stream, with the same
trackers and the same :class:`~moderation.pipeline.clients.InferenceClients` calls; what differs is
the source. Frames and audio windows are decoded as fast as the batchers take them (no clock, no
dropping: a full batcher queue makes decoding wait), the audio windows are back to back, and
evidence is remuxed from the file (:class:`moderation.evidence.file_clips.RemuxFromFile`; a live
stream cuts it from its ring, :mod:`moderation.evidence.writer`).

Many files are scanned at once over ONE set of batchers (:func:`scan_files`): the frames and
windows of every file in flight are batched together, and the models of a process load once
(:class:`Engines` keeps them across event loops).

Optional duties per file: room metadata (``FileTask.meta``: checked at media time 0; a verdict
about the room has its images as evidence, no clip), records (``FileTask.records`` or
``records.dir``, :mod:`moderation.evidence.records`), and the replay index
(``replay_index.enabled``, one per process: :attr:`Engines.replay_index`; files are indexed in
input order, so of two files showing the same footage the later one in the input is the replay).
Nothing here imports Ray: a scan actor in :mod:`moderation.cluster.rescan` runs
:func:`scan_files`' per-file coroutine in its own loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Generic, TypeVar

from moderation.config import PipelineConfig, project_root
from moderation.evidence.file_clips import RemuxFromFile
from moderation.evidence.room_images import RoomImageEvidence
from moderation.evidence.strategy import EvidenceStrategy
from moderation.infer.registry import Registry
from moderation.ingest.chat import ChatStats
from moderation.ingest.decode import DecodeStats, MediaInfo, iter_audio_windows, iter_frames, probe
from moderation.ingest.gifts import GiftStats
from moderation.messages import Signal, Verdict
from moderation.pipeline.analysis import StreamAnalyser
from moderation.pipeline.clients import BatchFamily, Family, InferenceClients, LocalClients, age_enabled
from moderation.pipeline.file_duties import (
    chat_feed,
    file_keeper,
    gift_feed_signals,
    index_replays,
    room_at_start,
)
from moderation.pipeline.room_check import is_room_verdict
from moderation.policy.fuse import fuse
from moderation.signals.replay_index import ReplayIndex
from moderation.signals.room import RoomMeta
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher

log = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[float], None]
"""Called with media seconds newly processed, for progress bars."""


class Engines:
    """What one process loads once for every scan and stream in it: lexicon, matcher, registry,
    and the model families behind its batchers (built on first use, never at import time)."""

    def __init__(self, cfg: PipelineConfig, registry: Registry | None = None) -> None:
        self.cfg = cfg
        self.registry = registry or Registry.load(project_root() / "models")
        #: Loaded model families, kept across event loops (each scan call gets fresh batchers).
        self.families: dict[Family, BatchFamily] = {}

    @cached_property
    def lexicon(self) -> Lexicon:
        path = Path(self.cfg.lexicon_dir) if self.cfg.lexicon_dir else project_root() / "models" / "lexicons"
        return Lexicon.load(path)

    @cached_property
    def matcher(self) -> KeywordMatcher:
        return KeywordMatcher(self.lexicon)

    @cached_property
    def replay_index(self) -> ReplayIndex | None:
        """The one replay index of this process (``replay_index.enabled``), shared by every file of
        a scan and every stream of a :class:`~moderation.pipeline.pool.LocalPool`. On Ray a stream
        worker sets this to its node's shared index instead (:mod:`moderation.cluster.node_replay`:
        streams on one node are compared, streams on different nodes are not)."""
        return ReplayIndex(self.cfg.replay_index) if self.cfg.replay_index.enabled else None

    def clients(self) -> LocalClients:
        """In-process batchers for the running event loop, over this process's loaded models;
        they wait for queue room (a scan is never dropped) and run ASR at normal priority."""
        return LocalClients(
            self.cfg, registry=self.registry, shared=self.families, backpressure=True, background_asr=False
        )

    def model_versions(self) -> tuple[tuple[str, str], ...]:
        """Model ids and pinned versions that produced a verdict (kept with the evidence)."""
        ids: list[str] = []
        if self.cfg.vision.enabled:
            ids += [
                m
                for m, on in (("nudenet-320n", self.cfg.vision.nudenet), ("open-nsfw", self.cfg.vision.open_nsfw))
                if on
            ]
        if self.cfg.ocr.enabled:
            ids.append(self.cfg.ocr.model)
        if self.cfg.asr.enabled:
            ids.append(self.cfg.asr.model)
        if self.cfg.synthetic.enabled:
            ids += list(self.cfg.synthetic.classifiers)
        if age_enabled(self.cfg):
            ids.append(self.cfg.age.model)
        return tuple((i, self.registry.version_of(i)) for i in ids)

    def close(self) -> None:
        """Stop the families' own threads (the ASR executor); the models are dropped with this object."""
        for fam in self.families.values():
            fam.close()
        self.families.clear()


@dataclass
class FileScan:
    """What scanning one file produced."""

    stream: str
    path: Path
    info: MediaInfo
    signals: list[Signal] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    frames: int = 0
    ocr_frames: int = 0
    ocr_gated: int = 0  # frames due at the OCR rate that the gate kept from OCR (no text / unchanged)
    chat: ChatStats | None = None  # lines / messages / bad lines of the chat feed, when one was given
    gifts: GiftStats | None = None  # lines / gift events / bad lines of the gift feed, when one was given
    audio_s: float = 0.0
    decode: list[DecodeStats] = field(default_factory=list)  # one per decode pass run (span, corrupt packets)


@dataclass(frozen=True)
class FileTask:
    """One file to scan: ``chat`` and ``gifts`` are viewer feeds (JSONL file or HTTP(S) URL) on its
    media timeline."""

    path: Path
    stream: str
    chat: str | None = None
    progress: Progress | None = None
    info: MediaInfo | None = None  # already probed (saves opening the file again)
    gifts: str | None = None
    meta: RoomMeta | None = None  # the room's metadata (title, cover...), checked at media time 0
    records: str | None = None  # records folder (else records.dir when records.enabled)


class _Chunks(Generic[T]):
    """Chunks of ``n`` items of a blocking iterator (a decoder), decoded on ``executor`` one chunk
    ahead of the consumer, so decoding overlaps inference; the next chunk waits for the consumer
    (backpressure)."""

    def __init__(self, items: Iterator[T], n: int, executor: Executor | None) -> None:
        self.items, self.n, self.executor = items, n, executor
        self._next: asyncio.Future[list[T]] | None = None

    def _fetch(self) -> asyncio.Future[list[T]]:
        return asyncio.get_running_loop().run_in_executor(self.executor, lambda: list(islice(self.items, self.n)))

    async def next(self) -> list[T]:
        fut = self._next or self._fetch()
        chunk = await fut
        self._next = self._fetch() if chunk else None
        return chunk

    async def close(self) -> None:
        """Let a read-ahead in flight finish before the decoder is dropped (never close it mid-read)."""
        if self._next is not None:
            await asyncio.gather(self._next, return_exceptions=True)
            self._next = None


async def _video(
    task: FileTask,
    an: StreamAnalyser,
    cfg: PipelineConfig,
    scan: FileScan,
    progress: Progress | None,
    executor: Executor | None,
) -> list[Signal]:
    scan.decode.append(stats := DecodeStats())
    frames = iter_frames(
        task.path,
        task.stream,
        cfg.sampling.fps,
        max_side=cfg.sampling.max_side,
        max_frame_pixels=cfg.sampling.max_frame_pixels,
        skip_nonref=cfg.sampling.skip_nonref,
        skip_to_keyframe=cfg.sampling.skip_to_keyframe,
        skip_loop_filter=cfg.sampling.skip_loop_filter,
        stats=stats,
    )
    chunks = _Chunks(frames, cfg.vision.batch_size, executor)
    out: list[Signal] = []
    last_t = 0.0
    try:
        while chunk := await chunks.next():
            out += (await an.frames.analyse(chunk)).signals
            scan.frames = an.frames.counts.frames
            scan.ocr_frames = an.frames.counts.ocr_frames
            scan.ocr_gated = an.frames.ocr_gate.stats.gated
            if progress is not None:
                progress(max(chunk[-1].t - last_t, 0.0))
                last_t = chunk[-1].t
    finally:
        await chunks.close()
    out += an.frames.finish()
    st = an.frames.ocr_gate.stats
    if cfg.ocr.enabled:
        log.info(
            "%s: OCR read %d frames, gate skipped %d (no text %d, unchanged %d), rate skipped %d",
            task.stream,
            st.ocr,
            st.gated,
            st.no_text,
            st.unchanged,
            st.rate_skipped,
        )
    return out


async def _audio(
    task: FileTask,
    an: StreamAnalyser,
    cfg: PipelineConfig,
    scan: FileScan,
    progress: Progress | None,
    executor: Executor | None,
) -> list[Signal]:
    """Back-to-back windows of ``asr.window_s``, handed to the ASR batcher a batch at a time."""
    scan.decode.append(stats := DecodeStats())
    windows = iter_audio_windows(task.path, task.stream, window_s=cfg.asr.window_s, stats=stats)
    chunks = _Chunks(windows, cfg.batching.asr.max_batch, executor)
    out: list[Signal] = []
    try:
        while chunk := await chunks.next():
            out += await an.audio.analyse(chunk)
            for w in chunk:
                scan.audio_s += w.end - w.start
                if progress is not None:
                    progress(w.end - w.start)
    finally:
        await chunks.close()
    return out + an.audio.finish()


def _serialised(progress: Progress) -> Progress:
    """``progress`` made safe to call from the video and the audio branch at once."""
    lock = threading.Lock()

    def report(seconds: float) -> None:
        with lock:
            progress(seconds)

    return report


async def scan_one(
    task: FileTask,
    engines: Engines,
    clients: InferenceClients | None = None,
    clips_dir: Path | None = None,
    executor: Executor | None = None,
    turn: Callable[[], Awaitable[None]] | None = None,
) -> FileScan:
    """Run the whole pipeline over one recorded file and return its verdicts with evidence.

    The video and audio branches run side by side (the batchers work while the next chunk is
    decoded on ``executor``); ``clients`` are shared with every other file scanned in this loop.
    ``turn``: awaited before this file's keyframes go into the replay index (the files before it
    in the input are indexed first); None: indexed as soon as the file is decoded.
    """
    cfg = engines.cfg
    info: MediaInfo = task.info if task.info is not None else await asyncio.to_thread(probe, task.path)
    scan = FileScan(stream=task.stream, path=task.path, info=info)
    keeper = file_keeper(task, cfg)
    replay = engines.replay_index
    side = replay is not None or keeper is not None
    do_video = info.has_video and (cfg.vision.enabled or cfg.ocr.enabled or cfg.qr.enabled or side)
    do_audio = info.has_audio and cfg.asr.enabled
    progress = _serialised(task.progress) if task.progress is not None else None
    local = engines.clients() if clients is None else None
    use: InferenceClients = clients or local  # type: ignore[assignment]
    rooms = RoomImageEvidence(clips_dir) if clips_dir is not None and task.meta is not None else None
    an = StreamAnalyser.build(task.stream, cfg, use, engines.matcher, offline=True, replay=replay, records=keeper)
    try:
        branches = []
        if do_video:
            branches.append(_video(task, an, cfg, scan, progress, executor))
        if do_audio:
            branches.append(_audio(task, an, cfg, scan, progress, executor))
        if task.meta is not None:
            branches.append(room_at_start(task.meta, engines, use, rooms.remember if rooms else None))
        results = await asyncio.gather(*branches, return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r
            scan.signals.extend(r)
        if replay is not None:
            if turn is not None:
                await turn()
            scan.signals.extend(index_replays(replay, task.stream, an.frames.replay_keys))
        if task.chat is not None:  # keywords, and the intent classifier through the batchers
            scan.signals.extend(await chat_feed(task.chat, scan, engines, keeper, use))
        if task.gifts is not None:
            scan.signals.extend(await asyncio.to_thread(gift_feed_signals, task.gifts, scan, engines, keeper))
    finally:
        if local is not None:
            await local.close()
        if keeper is not None:
            keeper.close()
    versions = engines.model_versions()
    scan.verdicts = [replace(v, model_versions=versions) for v in fuse(task.stream, scan.signals, cfg.policy)]
    # footage to cut: video, or (a voice room, radio) the sound alone
    cut = clips_dir is not None and cfg.evidence.clips and (info.has_video or info.has_audio)
    footage = RemuxFromFile(task.path, clips_dir, engines.cfg) if cut and clips_dir else None
    for i, v in enumerate(scan.verdicts):  # a verdict about the room's metadata: its images, not footage
        evidence: EvidenceStrategy | None = rooms if is_room_verdict(v) else footage
        scan.verdicts[i] = await evidence.attach(v) if evidence is not None else v
    return scan


async def scan_files(
    tasks: Sequence[FileTask],
    engines: Engines,
    clips_dir: Path | None = None,
    *,
    concurrency: int = 2,
    clients: InferenceClients | None = None,
    on_done: Callable[[int, FileScan | Exception], None] | None = None,
) -> list[FileScan | Exception]:
    """Scan ``tasks`` with up to ``concurrency`` files in flight over ONE set of batchers.

    Returns one slot per task, in order: its :class:`FileScan` or the exception that failed it (one
    bad file never stops the others). ``on_done(index, outcome)`` is called as each file finishes.
    """
    local = engines.clients() if clients is None else None
    shared: InferenceClients = clients if clients is not None else local  # type: ignore[assignment]
    engines.matcher  # noqa: B018  # built once here, not raced for by the files
    gate = asyncio.Semaphore(max(1, concurrency))
    out: list[FileScan | Exception] = [RuntimeError("not scanned")] * len(tasks)
    decode = ThreadPoolExecutor(max(2, 2 * concurrency), thread_name_prefix="scan-decode")
    # Files take the semaphore in input order, so every file before one waiting here holds or
    # held it: waiting for their replay indexing cannot deadlock.
    indexed = [asyncio.Event() for _ in tasks]

    def turn_of(i: int) -> Callable[[], Awaitable[None]]:
        async def turn() -> None:
            for ev in indexed[:i]:
                await ev.wait()

        return turn

    async def one(i: int, task: FileTask) -> None:
        async with gate:
            try:
                out[i] = await scan_one(task, engines, shared, clips_dir, decode, turn_of(i))
            except Exception as exc:
                out[i] = exc
            finally:
                indexed[i].set()
            if on_done is not None:
                on_done(i, out[i])

    try:
        await asyncio.gather(*(one(i, t) for i, t in enumerate(tasks)))
    finally:
        decode.shutdown(wait=False, cancel_futures=True)
        if local is not None:
            await local.close()
    return out


def scan_file(
    path: Path,
    stream: str,
    engines: Engines,
    clips_dir: Path | None = None,
    progress: Progress | None = None,
    chat: str | None = None,
    gifts: str | None = None,
    meta: RoomMeta | None = None,
    records: str | None = None,
) -> FileScan:
    """Scan one file in a fresh event loop (see :func:`scan_one`); its errors propagate."""
    task = FileTask(path, stream, chat, progress, gifts=gifts, meta=meta, records=records)
    (res,) = asyncio.run(scan_files([task], engines, clips_dir, concurrency=1))
    if isinstance(res, Exception):
        raise res
    return res
