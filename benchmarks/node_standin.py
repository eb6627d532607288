"""The stand-in accelerator and the per-stage CPU meter of ``node_scale.py`` (benchmark only).

**Stand-in accelerator.** :func:`standin_families` builds one
:class:`moderation.pipeline.clients.BatchFamily` per model family whose batch function *sleeps*
``fixed_ms + per_item_ms × batch`` (what a GPU call would keep the batch thread waiting) and
returns empty results (no detection, no text, no speech). The pipeline's own
:class:`~moderation.pipeline.clients.LocalClients` batchers run it, so every round trip, queue and
thread hop is the product's; only the model call is replaced. The product never fakes inference:
this lives here only. The latency model is an assumption (see :data:`DEFAULT_LATENCY`) and a
command-line option, so a GPU run can plug in measured values.

**CPU meter.** :class:`StageMeter` charges CPU time to named stages with ``time.thread_time()``
(CPU of the calling thread only, so work of other threads running meanwhile is never counted)
and *exclusive* nesting: a stage entered inside another is subtracted from the outer one.
:func:`instrument` wraps, by monkeypatching class attributes in this benchmark process only, the
functions that make up each stage; coroutines are metered step by step (each ``send`` into the
coroutine), so the time a coroutine spends suspended — while other tasks run — is never charged
to it. Threads the meter cannot see into (libavcodec's frame-decoding threads) are read from
``/proc/self/task/<tid>/stat`` by :class:`TaskSampler`.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

#: family → (fixed ms per batch call, ms per item). Assumed H100-class figures, not measured here.
DEFAULT_LATENCY: dict[str, tuple[float, float]] = {
    "vision": (3.0, 0.45),
    "ocr": (5.0, 3.0),
    "asr": (40.0, 10.0),
    "synthetic": (2.0, 0.1),
}

CALIBRATION = (
    "ASSUMPTION, not a measurement (no GPU run was possible in this project). vision = NudeNet "
    "(YOLOv8n-class detector, 320x320) + open_nsfw (ResNet-50-class classifier) in one call: "
    "Ultralytics publishes YOLOv8n at 640x640 as 0.99 ms per image at batch 1 on an A100 with "
    "TensorRT; a 320x320 input is 1/4 of the pixels and batch 64 amortises launches, taken as "
    "0.25 ms/item on an H100; MLPerf Inference publishes ResNet-50 on one H100 SXM at about 90,000 "
    "images/s offline (INT8 TensorRT); ONNX Runtime FP16 is assumed 4x slower, about 0.1 ms/item; "
    "plus about 0.1 ms/item for copying a 720p uint8 frame over PCIe (2.7 MB at about 25 GB/s) "
    "→ 0.45 ms/item, and 3 ms per call for launches, copies and the sync. OCR (PP-OCR det + rec) "
    "5 ms + 3 ms/frame, ASR (Whisper, batched windows) 40 ms + 10 ms/window, synthetic "
    "classifiers 2 ms + 0.1 ms/frame: rough guesses of the same kind. The stand-in only sets how "
    "long each batch thread waits; the CPU figures below barely depend on it."
)


#: One-off work per stream or per process (pipeline construction, its keyword matcher, warm-up):
#: reported apart, not in the per stream-second rates.
SETUP = "setup (one-off: pipeline construction, warm-up)"


def parse_latency(text: str | None) -> dict[str, tuple[float, float]]:
    """``vision=3+0.45,ocr=5+3`` (family=fixed_ms+per_item_ms) over :data:`DEFAULT_LATENCY`."""
    out = dict(DEFAULT_LATENCY)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        try:
            fam, spec = part.split("=", 1)
            fixed, per = spec.split("+", 1)
            fam = fam.strip()
            if fam not in out:
                raise ValueError(f"unknown family {fam!r} (one of {', '.join(out)})")
            out[fam] = (float(fixed), float(per))
        except ValueError as exc:
            raise SystemExit(f"--latency: bad entry {part!r}: {exc} (want family=fixed_ms+per_item_ms)") from None
    return out


# ---------------------------------------------------------------------------------------------
# CPU meter


class StageMeter:
    """Exclusive per-thread CPU seconds per stage (see the module docstring)."""

    def __init__(self) -> None:
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.main_cpu: defaultdict[str, float] = defaultdict(float)  # the part charged on the main thread
        self._lock = threading.Lock()
        self._local = threading.local()
        self.main_ident = threading.main_thread().ident

    def enter(self, stage: str) -> None:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        stack.append([stage, time.thread_time(), 0.0])

    def exit(self) -> None:
        stack = self._local.stack
        stage, t0, child = stack.pop()
        dt = time.thread_time() - t0
        if stack:
            stack[-1][2] += dt
        own = dt - child
        with self._lock:
            self.cpu[stage] += own
            if threading.get_ident() == self.main_ident:
                self.main_cpu[stage] += own

    def wrap(self, fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
        def run(*a: Any, **k: Any) -> Any:
            self.enter(stage)
            try:
                return fn(*a, **k)
            finally:
                self.exit()

        return run

    def wrap_gen(self, fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
        """A generator function whose every step (not the consumer's work between) is charged."""
        meter = self

        def run(*a: Any, **k: Any) -> Generator[Any, Any, Any]:
            gen = fn(*a, **k)
            while True:
                meter.enter(stage)
                try:
                    item = next(gen)
                except StopIteration as stop:
                    return stop.value
                finally:
                    meter.exit()
                yield item

        return run

    def wrap_async(self, fn: Callable[..., Any], stage: str) -> Callable[..., Any]:
        meter = self

        async def run(*a: Any, **k: Any) -> Any:
            return await _Stepped(meter, fn(*a, **k), stage)

        return run


class _Stepped:
    """Await a coroutine, charging each of its steps (not its suspensions) to a stage."""

    def __init__(self, meter: StageMeter, coro: Any, stage: str) -> None:
        self.meter, self.coro, self.stage = meter, coro, stage

    def __await__(self) -> Generator[Any, Any, Any]:
        value: Any = None
        error: BaseException | None = None
        while True:
            self.meter.enter(self.stage)
            try:
                yielded = self.coro.send(value) if error is None else self.coro.throw(error)
            except StopIteration as stop:
                return stop.value
            finally:
                self.meter.exit()
            try:
                value, error = (yield yielded), None
            except BaseException as exc:  # cancellation and the like go into the coroutine
                value, error = None, exc


def instrument(meter: StageMeter) -> None:
    """Wrap the functions of each stage (class attributes, this process only)."""
    from moderation.evidence import writer
    from moderation.evidence.ring import EvidenceRing
    from moderation.evidence.writer import EvidenceWriter
    from moderation.infer.batcher import DynamicBatcher
    from moderation.pipeline.analysis import AudioAnalyzer, FrameAnalyzer
    from moderation.pipeline.clients import LocalClients
    from moderation.pipeline.outlet import VerdictOutlet
    from moderation.pipeline.signal_feed import SignalFeed
    from moderation.pipeline.stream import StreamPipeline
    from moderation.pipeline.stream_duties import StreamDuties
    from moderation.pipeline.stream_ingest import StreamIngest
    from moderation.policy.fuse import Fuser
    from moderation.sample.ocr_gate import OcrGate
    from moderation.signals.synthetic import SyntheticTracker

    sync = [
        (StreamIngest, "run", "ingest thread: demux, pacing, queues (rest of the thread)"),
        (EvidenceRing, "push", "evidence ring: packet push (ingest thread)"),
        (EvidenceRing, "clip", "evidence: clips and thumbnails"),
        (OcrGate, "select", "OCR gate (loop)"),
        (FrameAnalyzer, "_captions", "frame analysis on the loop (captions, signals, gather)"),
        (FrameAnalyzer, "_qr", "QR decode (worker thread)"),
        (SyntheticTracker, "observe", "loop hashes / synthetic tracker (worker thread)"),
        (Fuser, "add", "fusion (signal feed, both fusers)"),
        (Fuser, "advance", "fusion (signal feed, both fusers)"),
        (SignalFeed, "early", "fusion (signal feed, both fusers)"),
        (SignalFeed, "feed", "fusion (signal feed, both fusers)"),
        (SignalFeed, "both", "fusion (signal feed, both fusers)"),
        (SignalFeed, "tick", "fusion (signal feed, both fusers)"),
        (SignalFeed, "release", "fusion (signal feed, both fusers)"),
        (SignalFeed, "finish", "fusion (signal feed, both fusers)"),
        (StreamDuties, "tick", "stream duties tick (records, room checks)"),
        (VerdictOutlet, "emit", "verdict outlet (stamp, sinks, enforcement)"),
        (VerdictOutlet, "opened", "verdict outlet (stamp, sinks, enforcement)"),
        (StreamPipeline, "__init__", SETUP),
    ]
    for cls, name, stage in sync:
        setattr(cls, name, meter.wrap(getattr(cls, name), stage))
    writer.write_thumbnail = meter.wrap(writer.write_thumbnail, "evidence: clips and thumbnails")
    coros = [
        (FrameAnalyzer, "analyse", "frame analysis on the loop (captions, signals, gather)"),
        (AudioAnalyzer, "analyse", "audio branch on the loop (stitching, keywords)"),
        (LocalClients, "_submit", "batcher round trip: client side (loop)"),
        (DynamicBatcher, "_loop", "batcher round trip: batcher task (loop)"),
        (EvidenceWriter, "attach", "evidence: clips and thumbnails"),
        (EvidenceWriter, "thumbnail", "evidence: clips and thumbnails"),
        (VerdictOutlet, "_finish", "verdict outlet (stamp, sinks, enforcement)"),
        (LocalClients, "warm_up", SETUP),
    ]
    for cls, name, stage in coros:
        setattr(cls, name, meter.wrap_async(getattr(cls, name), stage))
    _setup_in_executor(meter)
    from moderation.ingest.live_connection import Connection

    Connection._frames = meter.wrap_gen(
        Connection._frames, "video decode calls, sampling, BGR conversion (ingest thread)"
    )
    Connection._audio = meter.wrap_gen(Connection._audio, "audio decode, resample, windows (ingest thread)")


def _setup_in_executor(meter: StageMeter) -> None:
    """A family's warm-up (loading its model: the intent encoder is a real CPU model here, not a
    stand-in) runs in an executor thread, where wrapping ``LocalClients.warm_up`` on the loop does
    not see it; charged to :data:`SETUP` like the rest of the one-off work, not per stream-second."""
    from moderation.pipeline.clients import BatchFamily

    warm = BatchFamily.warm

    async def metered(self: BatchFamily) -> None:
        fn = self.warm_up
        self.warm_up = meter.wrap(fn, SETUP)
        try:
            await warm(self)
        finally:
            self.warm_up = fn

    BatchFamily.warm = metered  # type: ignore[method-assign]


def single_thread_decode() -> None:
    """Benchmark option: each video decoder on one thread (libavcodec's own threads off), set on
    the connection's codec context before its first packet is decoded."""
    from moderation.ingest.live_connection import Connection

    init = Connection.__init__

    def patched(self: Any, src: Any, opened: Any, video: Any, audio: Any) -> None:
        init(self, src, opened, video, audio)
        if video is not None:
            video.codec_context.thread_count = 1
            video.codec_context.thread_type = "SLICE"

    Connection.__init__ = patched  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------
# Threads the meter cannot enter


def _task_cpu(tid: int) -> tuple[str, float] | None:
    try:
        raw = Path(f"/proc/self/task/{tid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return name, (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


class TaskSampler(threading.Thread):
    """Every ``every`` s, the CPU time of each thread of this process (``/proc/self/task``), so that
    threads which end before the trial does (libavcodec's decoder threads) are still counted."""

    def __init__(self, every: float = 0.5) -> None:
        super().__init__(name="node-scale-sampler", daemon=True)
        self.every = every
        self.seen: dict[int, tuple[str, float]] = {}
        self.python: set[int] = set()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            self.sample()

    def sample(self) -> None:
        self.python |= {t.native_id for t in threading.enumerate() if t.native_id is not None}
        try:
            tids = [int(x) for x in os.listdir("/proc/self/task")]
        except OSError:
            return
        for tid in tids:
            got = _task_cpu(tid)
            if got is not None:
                self.seen[tid] = got

    def stop(self) -> dict[str, float]:
        """Stop; CPU seconds of the threads Python did not start, by thread name."""
        self._halt.set()
        self.join(5)
        self.sample()
        out: defaultdict[str, float] = defaultdict(float)
        for tid, (name, cpu) in self.seen.items():
            if tid not in self.python:
                out[name] += cpu
        return dict(out)


# ---------------------------------------------------------------------------------------------
# Stand-in families


@dataclass
class StandIn:
    """Stand-in batch function of one family: sleep as the accelerator would, return empty results."""

    family: str
    fixed_ms: float
    per_item_ms: float
    meter: StageMeter
    cpu_preprocess: bool = False

    def __call__(self, items: Sequence[Any]) -> list[Any]:
        from moderation.messages import OcrResult, VisionResult

        self.meter.enter("stand-in inference call (batch thread)")
        try:
            if self.cpu_preprocess and self.family == "vision" and items:
                self.meter.enter("vision preprocessing on the CPU (--cpu-preprocess)")
                try:
                    _cpu_preprocess([f.image for f in items])
                finally:
                    self.meter.exit()
            time.sleep((self.fixed_ms + self.per_item_ms * len(items)) / 1000.0)
            if self.family == "vision":
                return [VisionResult(f.stream, f.t) for f in items]
            if self.family == "ocr":
                return [OcrResult(f.stream, f.t, (), (f.image.shape[1], f.image.shape[0])) for f in items]
            if self.family == "synthetic":
                return [() for _ in items]
            return [[] for _ in items]  # asr: no speech
        finally:
            self.meter.exit()


def _cpu_preprocess(images: list[Any]) -> None:
    """The unfused CPU path of :mod:`moderation.infer.vision` (NudeNet letterbox, open_nsfw resize
    with its JPEG round trip), for a node whose models take preprocessed tensors."""
    from moderation.infer.vision import NudeNetDetector, _open_nsfw_resized

    NudeNetDetector.preprocess(SimpleNamespace(input_size=320), images)  # type: ignore[arg-type]
    for im in images:
        _open_nsfw_resized(im, True)


def standin_families(
    cfg: Any, latency: dict[str, tuple[float, float]], meter: StageMeter, cpu_preprocess: bool
) -> dict[str, Any]:
    """One :class:`BatchFamily` per family, with the pipeline's own batching settings."""
    from moderation.pipeline.clients import BatchFamily

    out: dict[str, Any] = {}
    for fam, (fixed, per) in latency.items():
        b = getattr(cfg.batching, fam)
        fn = StandIn(fam, fixed, per, meter, cpu_preprocess)
        # ASR gets its own thread as in the product (moderation.infer.priority); the rest share
        # the event loop's default executor, as the real vision/OCR batch calls do.
        ex = ThreadPoolExecutor(1, thread_name_prefix="standin-asr") if fam == "asr" else None
        out[fam] = BatchFamily(fam, fn, lambda: None, b.max_batch, b.max_wait_ms, ex, "standin", "standin")  # type: ignore[arg-type]
    return out
