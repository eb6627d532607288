"""Creating ONNX Runtime sessions the same way everywhere.

Every ONNX model in the pipeline (NudeNet, open_nsfw, manifest-described classifiers) goes through
:func:`create_session`, so provider choice and threading are decided in one place: on a GPU node
the TensorRT or CUDA execution provider is used when the installed ``onnxruntime-gpu`` offers it,
and CI and laptops fall back to the CPU provider without any configuration. Nothing here runs at
import time; a session exists only once a caller asks for one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import onnxruntime as ort

log = logging.getLogger(__name__)

#: Preference order: the fastest provider that is installed wins.
PREFERRED_PROVIDERS: tuple[str, ...] = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "CPUExecutionProvider",
)

Dim = int | str | None
"""One input dimension as ONNX Runtime reports it: a number, a symbolic name, or unknown."""


def available_providers() -> list[str]:
    """Execution providers the installed onnxruntime build offers (a thin, patchable wrapper)."""
    return list(ort.get_available_providers())


def known_providers() -> list[str]:
    """Every execution provider name onnxruntime knows of, installed here or not."""
    return list(ort.get_all_providers())


def choose_providers(providers: Sequence[str] | None = None) -> list[str]:
    """Pick the execution providers for a session, best first.

    With ``providers=None`` this is every provider of :data:`PREFERRED_PROVIDERS` that is
    installed, ending with the CPU provider so ONNX Runtime can place operators a GPU provider
    does not support. An explicit list is an override (e.g. force CPU on a GPU node for a
    benchmark baseline, or ask for CUDA): its unavailable entries are dropped with one warning
    line naming them rather than left to ONNX Runtime, which would fail or fall back silently. If
    none of them is available here (a GPU provider asked for on a machine without one), the
    session runs on the CPU provider after that same warning: a config written for a GPU node
    still works on a laptop or in CI. A name onnxruntime does not know at all is a typo, not a
    missing GPU, and is an error naming it.
    """
    have = available_providers()
    if providers is None:
        chosen = [p for p in PREFERRED_PROVIDERS if p in have]
        return chosen or ["CPUExecutionProvider"]
    wanted = list(providers)
    if not wanted:
        raise ValueError("providers override is empty; pass None to choose automatically")
    known = set(known_providers()) | set(have)
    unknown = [p for p in wanted if p not in known]
    if unknown:
        raise ValueError(
            f"none of the requested onnxruntime providers {wanted} is available: unknown provider(s) "
            f"{unknown}; available here: {have}"
        )
    chosen = [p for p in wanted if p in have]
    dropped = [p for p in wanted if p not in have]
    if not chosen:
        chosen = ["CPUExecutionProvider"]
    if dropped:
        log.warning("onnxruntime provider(s) %s not available here; running on %s", ", ".join(dropped), chosen)
    return chosen


def session_options(intra_op_threads: int = 0) -> ort.SessionOptions:
    """Session options shared by all models.

    ``intra_op_threads`` bounds the threads one ``run`` uses (0 lets ONNX Runtime use all
    cores). Several batcher actors share a node, so each is normally given a slice of the cores
    instead of every session spinning a thread per core. Inter-op parallelism is off: the models
    are single chains of operators and parallel branches only add scheduling overhead.

    Intra-op threads do not spin-wait between operators (``session.intra_op.allow_spinning`` = 0):
    on a CPU node the pool's decode threads, other batchers and Whisper share the cores, and a
    spinning ORT pool burns them doing nothing — measured on 2 shared cores, NudeNet + open_nsfw
    at batch 1 took ~106 ms of CPU per frame spinning against ~58 ms not, and were no slower in
    wall time. (Irrelevant on GPU providers, where the CPU pool is idle anyway.)
    """
    if intra_op_threads < 0:
        raise ValueError(f"intra_op_threads must be >= 0, got {intra_op_threads}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = intra_op_threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


def create_session(
    model_path: str | Path,
    providers: Sequence[str] | None = None,
    intra_op_threads: int = 0,
    fp16: bool = False,
    cache_dir: Path | None = None,
    fuse: str | None = None,
) -> ort.InferenceSession:
    """Open ``model_path`` as an ONNX Runtime session on the best available providers.

    ``fp16`` applies on GPU providers only (see :mod:`moderation.infer.runner`): TensorRT gets
    ``trt_fp16_enable``; the CUDA provider alone gets an fp16-weight copy of the model, converted
    once into ``cache_dir``. ``fuse`` (``"nudenet:bgr"``, ``"open_nsfw:i420"``, ...) puts that
    model's preprocessing for that frame layout in front of it (:mod:`moderation.infer.fused`;
    uint8 frames in), also cached.
    A missing file is reported with its path before ONNX Runtime gets to produce a less readable
    error. If a GPU provider that is installed cannot start (no device, missing CUDA libraries),
    ONNX Runtime runs the session on the CPU; that is said in one warning line naming it.
    """
    from moderation.infer.fused import fused_model_path
    from moderation.infer.registry import default_cache_dir
    from moderation.infer.runner import fp16_model, provider_options

    path = Path(model_path)
    if not path.is_file():
        raise FileNotFoundError(f"ONNX model not found: {path}")
    chosen = choose_providers(providers)
    cache = cache_dir or default_cache_dir()
    if fp16 and "CUDAExecutionProvider" in chosen and "TensorrtExecutionProvider" not in chosen:
        path = fp16_model(path, cache) or path
    if fuse is not None:
        kind, _, layout = fuse.partition(":")
        path = fused_model_path(path, kind, cache, layout or "bgr")  # type: ignore[arg-type]
    opts = session_options(intra_op_threads)
    session = ort.InferenceSession(
        str(path), sess_options=opts, providers=chosen, provider_options=provider_options(chosen, cache, fp16)
    )
    lost = [p for p in chosen if p not in session.get_providers()]
    if lost:
        log.warning(
            "onnxruntime provider(s) %s could not start; %s runs on %s",
            ", ".join(lost),
            path.name,
            session.get_providers(),
        )
    log.info("loaded %s on %s", path.name, session.get_providers())
    return session


def input_spec(session: ort.InferenceSession, index: int = 0) -> tuple[str, list[Dim]]:
    """Name and shape of one model input, e.g. ``("images", ["batch", 3, "height", "width"])``.

    A string or ``None`` entry is a dynamic dimension; callers check the batch entry to know
    whether several images can go into one ``run``.
    """
    inputs = session.get_inputs()
    if not 0 <= index < len(inputs):
        raise IndexError(f"model has {len(inputs)} input(s); no input {index}")
    meta = inputs[index]
    return meta.name, list(meta.shape)


def has_dynamic_batch(session: ort.InferenceSession, index: int = 0) -> bool:
    """True when the first dimension of input ``index`` is not fixed to a number."""
    _, shape = input_spec(session, index)
    return bool(shape) and not isinstance(shape[0], int)
