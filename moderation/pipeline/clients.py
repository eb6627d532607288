"""Inference as the stream analyser sees it: one async call per model family, wherever the models run.

:class:`InferenceClients` is the only thing the stream analyser (:mod:`moderation.pipeline.analysis`)
knows about models, live or offline. Two implementations share the same batch functions
(:func:`build_family`):

* :class:`LocalClients` — :class:`moderation.infer.batcher.DynamicBatcher` per model family in
  this process; every stream and every file scanned in the process shares them, so frames of
  many streams (or files) are batched together (``moderation watch``, ``moderation scan``, a scan
  actor, benchmarks, tests). Live streams drop an item when a queue is full; a scan waits for room.
* ``RayClients`` in :mod:`moderation.cluster.actors` — the same batchers inside Ray actors.

Results are per item: a slot holds the result or the ``Exception`` that item raised, so one bad
frame (or a full batcher queue) fails only itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

import numpy as np

from moderation.config import PipelineConfig, project_root
from moderation.infer.batcher import BatchObserver, DynamicBatcher, QueueFull, in_thread
from moderation.infer.priority import background_executor
from moderation.messages import AudioWindow, OcrResult, TranscriptSegment, VideoFrame, VisionResult
from moderation.pipeline.batch_metrics import BatcherMetrics, BatcherSnapshot
from moderation.signals.synthetic import FrameScores, SyntheticScorer, scoring_enabled

log = logging.getLogger(__name__)

Family = Literal["vision", "ocr", "asr", "synthetic", "intent"]
#: Families every pool starts a batcher for when enabled in the pipeline.
FAMILIES: tuple[Family, ...] = ("vision", "ocr", "asr")
#: ... and the synthetic-content classifiers and the chat intent classifier, only when configured.
ALL_FAMILIES: tuple[Family, ...] = (*FAMILIES, "synthetic", "intent")
#: One chat line's class probabilities ({label: p}).
IntentProbs = dict[str, float]
T = TypeVar("T")
R = TypeVar("R")

Transcript = list[TranscriptSegment]


class InferenceClients(Protocol):
    """Async inference for one stream; each returns one slot per input, in order."""

    async def vision(self, frames: Sequence[VideoFrame]) -> Sequence[VisionResult | Exception]: ...

    async def ocr(self, frames: Sequence[VideoFrame]) -> Sequence[OcrResult | Exception]: ...

    async def asr(self, windows: Sequence[AudioWindow]) -> Sequence[Transcript | Exception]: ...

    async def synthetic(self, frames: Sequence[VideoFrame]) -> Sequence[FrameScores | Exception]: ...

    async def intent(self, texts: Sequence[str]) -> Sequence[IntentProbs | Exception]:
        """Chat lines → class probabilities (only called with ``intent.enabled``)."""
        ...


def age_enabled(cfg: PipelineConfig) -> bool:
    """Whether face ages are estimated: ``age.enabled`` and NudeNet (whose face boxes it reads) on."""
    return cfg.age.enabled and cfg.vision.enabled and cfg.vision.nudenet


def enabled_families(cfg: PipelineConfig) -> list[Family]:
    """The model families ``cfg`` calls at all."""
    on = {
        "vision": cfg.vision.enabled,
        "ocr": cfg.ocr.enabled,
        "asr": cfg.asr.enabled,
        "synthetic": scoring_enabled(cfg.synthetic),
        "intent": cfg.intent.enabled,
    }
    return [f for f in ALL_FAMILIES if on[f]]


@dataclass
class BatchFamily:
    """A blocking batch function (one slot per input) and its warm-up."""

    family: Family
    fn: Callable[[Sequence[Any]], Sequence[Any]]
    warm_up: Callable[[], None]
    max_batch: int
    max_wait_ms: float
    #: Where ``fn`` and ``warm_up`` run; None = the event loop's default executor. ASR on CPU gets
    #: its own lower-priority thread (:mod:`moderation.infer.priority`).
    executor: Executor | None = None
    #: Where the models run (``cpu``/``cuda``) and on what (an ONNX Runtime execution provider, or
    #: ``ctranslate2:<device>:<compute type>``): labels of the batcher's metrics.
    device: str = "cpu"
    provider: str = ""

    def batcher(self, max_queue: int, observer: BatchObserver | None = None) -> DynamicBatcher[Any, Any]:
        return DynamicBatcher(in_thread(self.fn, self.executor), self.max_batch, self.max_wait_ms, max_queue, observer)

    def metrics(self, max_queue: int) -> BatcherMetrics:
        """The observer that keeps this family's batcher histograms (give it to :meth:`batcher`)."""
        return BatcherMetrics(self.family, self.device, self.provider, max_queue)

    async def warm(self) -> None:
        """Load the models and run one tiny call, on the thread that will run the batches."""
        await asyncio.get_running_loop().run_in_executor(self.executor, self.warm_up)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False)


def per_item(fn: Callable[[Sequence[T]], Sequence[R]]) -> Callable[[Sequence[T]], list[R | Exception]]:
    """Run ``fn`` on the batch; if it raises, retry item by item so only the bad ones fail."""

    def run(items: Sequence[T]) -> list[R | Exception]:
        try:
            return list(fn(items))
        except Exception:
            if len(items) == 1:
                raise
        out: list[R | Exception] = []
        for item in items:
            try:
                out.extend(fn([item]))
            except Exception as exc:
                out.append(exc)
        return out

    return run


def _blank(stream: str = "warm-up") -> VideoFrame:
    return VideoFrame(stream, 0.0, np.zeros((64, 64, 3), np.uint8))


def _warm(fn: Callable[[Sequence[VideoFrame]], Sequence[Any]]) -> Callable[[], None]:
    def run() -> None:
        fn([_blank()])

    return run


def onnx_provider(wanted: Sequence[str] | None = None) -> str:
    """The execution provider ONNX Runtime sessions are created with first (``wanted``: an override)."""
    from moderation.infer.onnx import choose_providers

    try:
        return choose_providers(wanted)[0]
    except ValueError:  # an unusable override: the session itself will say so when it opens
        return "unknown"


def _warm_texts(fn: Callable[[Sequence[str]], Sequence[Any]]) -> Callable[[], None]:
    def run() -> None:
        fn(["warm-up"])

    return run


def build_family(
    family: Family, cfg: PipelineConfig, registry: Any = None, *, device: str = "cpu", background: bool = True
) -> BatchFamily:
    """The batch function of one model family, models resolved (hash-checked) but loaded lazily.

    ``background``: a live process. Its ASR on CPU runs at ``asr.cpu_nice`` so live frames are never
    queued behind it, and while its ASR batcher is saturated its Whisper encoder input is
    ``live.asr_context_s`` long instead of 30 s (live windows are short). An offline scan (no
    deadline on any branch) passes False: ASR at normal priority, on the 30 s input Whisper was
    trained on.
    """
    from moderation.infer.registry import Registry

    reg = registry or Registry.load(project_root() / "models")
    if family == "vision":
        from moderation.infer.vision import VisionModels

        models = VisionModels.from_registry(reg, cfg.vision)
        analyse: Callable[[Sequence[VideoFrame]], Sequence[VisionResult]] = models.analyse
        if age_enabled(cfg):  # face ages in the same batch call: no batcher or round trip of its own
            from moderation.infer.age import AgeModel, with_face_ages

            age = AgeModel.from_registry(reg, max_batch=cfg.age.max_batch, model_id=cfg.age.model)
            analyse = with_face_ages(analyse, age, cfg.age)
        fn = per_item(analyse)
        b = cfg.batching.vision
        return BatchFamily(
            family,
            fn,
            _warm(fn),
            b.max_batch,
            b.max_wait_ms,
            device=device,
            provider=onnx_provider(cfg.vision.providers),
        )
    if family == "ocr":
        from moderation.infer.ocr import load_ocr

        engine = load_ocr(reg, cfg.ocr)
        fn_ocr = per_item(engine.read)
        b = cfg.batching.ocr
        return BatchFamily(
            family,
            fn_ocr,
            _warm(fn_ocr),
            b.max_batch,
            b.max_wait_ms,
            device=device,
            provider=onnx_provider(cfg.ocr.providers),
        )
    if family == "synthetic":
        scorer = SyntheticScorer(cfg.synthetic, reg)
        fn_syn = per_item(scorer.score)
        b = cfg.batching.synthetic
        return BatchFamily(
            family, fn_syn, _warm(fn_syn), b.max_batch, b.max_wait_ms, device=device, provider=onnx_provider()
        )
    if family == "intent":
        from moderation.infer.intent import IntentModel, classify_batch

        model = IntentModel(reg)

        def classify(texts: Sequence[str]) -> list[dict[str, float]]:
            return classify_batch(texts, model)

        fn_int = per_item(classify)
        b = cfg.batching.intent
        return BatchFamily(
            family, fn_int, _warm_texts(fn_int), b.max_batch, b.max_wait_ms, device="cpu", provider="numpy"
        )
    from moderation.infer.asr_batch import load_batched_transcriber

    live = cfg.live
    bt = load_batched_transcriber(
        reg,
        cfg.asr,
        device=device,
        bucket_s=live.asr_context_s if background else None,
        bucket_from=live.asr_context_from,
    )
    executor = background_executor(cfg.asr.cpu_nice if device == "cpu" and background else 0, "asr")
    b = cfg.batching.asr
    provider = f"ctranslate2:{bt.device}:{bt.compute_type}"
    return BatchFamily(
        family, bt.transcribe_batch, bt.warm_up, b.max_batch, b.max_wait_ms, executor, device=device, provider=provider
    )


async def submit_all(batcher: DynamicBatcher[Any, Any], items: Sequence[Any], *, wait: bool = False) -> list[Any]:
    """Submit every item; a full queue fails that item with QueueFull, or with ``wait`` the call
    waits for room (backpressure: an offline scan slows its decoding instead of losing frames)."""
    if wait:
        results = await asyncio.gather(*(batcher.submit(item) for item in items), return_exceptions=True)
        return [
            r if not isinstance(r, BaseException) or isinstance(r, Exception) else RuntimeError(str(r)) for r in results
        ]
    futs: list[asyncio.Future[Any]] = []
    out: list[Any] = [None] * len(items)
    slots: list[int] = []
    for i, item in enumerate(items):
        try:
            futs.append(batcher.try_submit(item))
            slots.append(i)
        except QueueFull as exc:
            out[i] = exc
    for i, res in zip(slots, await asyncio.gather(*futs, return_exceptions=True), strict=True):
        out[i] = res if not isinstance(res, BaseException) or isinstance(res, Exception) else RuntimeError(str(res))
    return out


class LocalClients:
    """In-process DynamicBatchers per family, created on first use in the running event loop.

    ``families`` lets tests or callers inject ready :class:`BatchFamily` objects (e.g. fakes);
    otherwise :func:`build_family` builds them from ``cfg`` (and ``registry``) the first time a family
    is needed. ``shared``: a dict of families kept by the caller across event loops (a scan
    process's loaded models, :class:`moderation.pipeline.graph.Engines`); families built here are
    added to it and left open by :meth:`close`. ``backpressure``: wait for queue room instead of
    failing an item at once (offline scans); ``background_asr``: see :func:`build_family`.
    """

    def __init__(
        self,
        cfg: PipelineConfig,
        families: dict[Family, BatchFamily] | None = None,
        max_queue: int | None = None,
        *,
        registry: Any = None,
        shared: dict[Family, BatchFamily] | None = None,
        backpressure: bool = False,
        background_asr: bool = True,
    ) -> None:
        self.cfg = cfg
        self.max_queue = max_queue
        self.registry = registry
        self.backpressure = backpressure
        self.background_asr = background_asr
        self._shared = shared
        self._families: dict[Family, BatchFamily] = dict(families or {})
        self._batchers: dict[Family, DynamicBatcher[Any, Any]] = {}
        self._metrics: dict[Family, BatcherMetrics] = {}

    def family(self, family: Family) -> BatchFamily:
        if family not in self._families:
            if self._shared is not None:
                if family not in self._shared:
                    self._shared[family] = self._build(family)
                return self._shared[family]
            self._families[family] = self._build(family)
        return self._families[family]

    def _build(self, family: Family) -> BatchFamily:
        return build_family(family, self.cfg, self.registry, background=self.background_asr)

    def batcher(self, family: Family) -> DynamicBatcher[Any, Any]:
        b = self._batchers.get(family)
        if b is None:
            bound = self.max_queue or getattr(self.cfg.batching, family).max_queue  # None: batching.<family>
            fam = self.family(family)
            self._metrics[family] = fam.metrics(bound)
            b = self._batchers[family] = fam.batcher(bound, self._metrics[family])
        return b

    def batcher_metrics(self) -> list[BatcherSnapshot]:
        """Each started batcher's histograms and queue depth now (the pool's ``/metrics``)."""
        return [m.snapshot(self._batchers[f].pending) for f, m in self._metrics.items() if f in self._batchers]

    def stats(self) -> dict[str, float]:
        """Mean batch size per family (how much cross-stream batching happened)."""
        return {f: b.stats.mean_batch for f, b in self._batchers.items()}

    async def warm_up(self, families: Sequence[Family] = ALL_FAMILIES) -> None:
        """Load the models of the enabled families and run one tiny call each."""
        enabled = enabled_families(self.cfg)
        for f in families:
            if f in enabled:
                await self.family(f).warm()

    async def _submit(self, family: Family, items: Sequence[Any]) -> list[Any]:
        return await submit_all(self.batcher(family), items, wait=self.backpressure)

    async def vision(self, frames: Sequence[VideoFrame]) -> Sequence[VisionResult | Exception]:
        return await self._submit("vision", frames)

    async def ocr(self, frames: Sequence[VideoFrame]) -> Sequence[OcrResult | Exception]:
        return await self._submit("ocr", frames)

    async def asr(self, windows: Sequence[AudioWindow]) -> Sequence[Transcript | Exception]:
        return await self._submit("asr", windows)

    async def intent(self, texts: Sequence[str]) -> Sequence[IntentProbs | Exception]:
        return await self._submit("intent", texts)

    async def synthetic(self, frames: Sequence[VideoFrame]) -> Sequence[FrameScores | Exception]:
        return await self._submit("synthetic", frames)

    async def close(self) -> None:
        for b in self._batchers.values():
            await b.close()
        for fam in self._families.values():
            fam.close()
