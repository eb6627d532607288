"""Running one ONNX session on cross-stream batches: fixed bucket shapes, IOBinding, fp16.

The batcher hands a model whatever number of frames happened to be waiting (3, then 17, then 40).
Fed as-is, every new batch size is a new input shape: TensorRT builds (and caches) an engine per
shape, and CUDA re-tunes its convolution algorithms. So :class:`BatchRunner` pads each batch up to
the next *bucket* (1, 8, 16, 32, 64 by default) and slices the padding off the result: a handful of
shapes, each compiled once (on GPU providers; on the CPU padding would only add work). A batch
bigger than the largest bucket is split into bucket-sized runs.

On a GPU provider the run goes through IOBinding (inputs copied once to the device, outputs bound
on the device and copied back once), which avoids the per-run allocations of ``session.run``.
On the CPU provider plain ``run`` is as fast; IOBinding can still be forced to test the path.

fp16 "where the model allows": with the TensorRT provider, TensorRT picks fp16 kernels per layer
(``trt_fp16_enable``) and keeps fp32 where precision needs it. With the CUDA provider the model is
converted once to fp16 weights with fp32 inputs/outputs (``onnxconverter-common``, in the ``gpu``
extra) and cached beside the other model files; on the CPU provider fp16 would be slower and stays off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

log = logging.getLogger(__name__)

GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")

#: Batch sizes a session ever sees; each is one TensorRT engine / one set of tuned kernels.
DEFAULT_BUCKETS: tuple[int, ...] = (1, 8, 16, 32, 64)


@dataclass(frozen=True)
class RunnerOptions:
    """How a :class:`BatchRunner` feeds its session (from ``VisionConfig``)."""

    buckets: tuple[int, ...] = DEFAULT_BUCKETS
    io_binding: bool | None = None
    """None: on exactly when a GPU provider runs the session."""
    pad: bool | None = None
    """Zero-pad batches up to their bucket. None: on GPU providers only — on the CPU provider shapes
    cost nothing to change and padded rows would be real wasted work."""
    fp16: bool = True
    """Use fp16 on GPU providers (TensorRT per-layer, CUDA via a converted model); ignored on CPU."""
    fused_preprocess: bool | None = None
    """Run the preprocessing inside the session (:mod:`moderation.infer.fused`: uint8 frames in).
    None: on when a GPU provider is chosen — there the CPU resize is the bottleneck; on the CPU
    provider cv2/PIL are faster than the graph's matrix-product resize."""
    fused_input: str = "bgr"
    """Frames the fused graph takes: ``bgr`` ``(H, W, 3)`` or ``i420`` ``(H*3/2, W)``, the planes
    a decoder produces (half the bytes, no CPU colour conversion; implies fused preprocessing)."""

    def __post_init__(self) -> None:
        if self.fused_input not in ("bgr", "i420"):
            raise ValueError(f"fused_input must be 'bgr' or 'i420', got {self.fused_input!r}")
        if not self.buckets or any(b < 1 for b in self.buckets) or list(self.buckets) != sorted(set(self.buckets)):
            raise ValueError(f"buckets must be increasing positive batch sizes, got {self.buckets}")


def bucket_for(n: int, buckets: Sequence[int]) -> int:
    """Smallest bucket that holds ``n`` items (``n`` itself when above the largest bucket)."""
    if n < 1:
        raise ValueError(f"batch of {n} items")
    return next((b for b in buckets if b >= n), n)


def split_for_buckets(n: int, buckets: Sequence[int]) -> list[range]:
    """Cut ``n`` items into runs no larger than the largest bucket."""
    top = buckets[-1]
    return [range(i, min(i + top, n)) for i in range(0, n, top)]


def provider_options(providers: Sequence[str], cache_dir: Path, fp16: bool) -> list[dict[str, str]]:
    """Per-provider options in the order of ``providers``: TensorRT with fp16 and an engine cache
    (so a restarted actor does not rebuild engines for minutes), the others with defaults."""
    opts: list[dict[str, str]] = []
    for p in providers:
        if p == "TensorrtExecutionProvider":
            opts.append(
                {
                    "trt_fp16_enable": "True" if fp16 else "False",
                    "trt_engine_cache_enable": "True",
                    "trt_engine_cache_path": str(cache_dir / "trt-engines"),
                    "trt_timing_cache_enable": "True",
                }
            )
        else:
            opts.append({})
    return opts


def fp16_model(model_path: Path, cache_dir: Path) -> Path | None:
    """An fp16-weight copy of ``model_path`` (fp32 inputs and outputs), converted once and cached.

    Returns None when ``onnxconverter-common`` is not installed (it is in the ``gpu`` extra); the
    caller then runs the fp32 model. The cache name carries a hash of the source file, and the file
    is written to a temporary name and renamed, so a half-written conversion is never loaded.
    """
    try:
        import onnx
        from onnxconverter_common import float16
    except ImportError:
        log.warning("onnxconverter-common not installed; running %s in fp32", model_path.name)
        return None
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()[:12]
    target = cache_dir / f"{model_path.stem}-fp16v2-{digest}.onnx"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    source = onnx.load(str(model_path))
    own_casts = {n.name for n in source.graph.node if n.op_type == "Cast"}
    converted = float16.convert_float_to_float16(source, keep_io_types=True)
    # The converter makes every float tensor fp16 but leaves the model's own Cast-to-float nodes
    # (and the shape-inference types recorded for their outputs) at float, and ONNX Runtime then
    # refuses the graph (NudeNet 320n, open_nsfw). Those casts become casts to fp16, and the
    # stale recorded types go; the casts the converter inserted itself (around the graph's fp32
    # inputs/outputs and around operators it keeps in fp32) are left alone.
    for node in converted.graph.node:
        if node.op_type == "Cast" and node.name in own_casts:
            for attr in node.attribute:
                if attr.name == "to" and attr.i == onnx.TensorProto.FLOAT:
                    attr.i = onnx.TensorProto.FLOAT16
    converted.graph.ClearField("value_info")
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".partial")
    os.close(fd)
    try:
        onnx.save(converted, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("converted %s to fp16: %s", model_path.name, target)
    return target


class BatchRunner:
    """Runs batches of any size through one session with bucket-padded shapes; returns the first
    output with exactly one row per input row (checked, so rows never shift between streams)."""

    def __init__(
        self, session: ort.InferenceSession, options: RunnerOptions | None = None, name: str = "model"
    ) -> None:
        self.session = session
        self.name = name
        self.options = options or RunnerOptions()
        self.input_name = session.get_inputs()[0].name
        self.output_name = session.get_outputs()[0].name
        active = session.get_providers()
        self.on_gpu = any(p in GPU_PROVIDERS for p in active)
        io = self.options.io_binding
        self.io_binding = self.on_gpu if io is None else io
        self.device = "cuda" if self.on_gpu and "CUDAExecutionProvider" in active else "cpu"
        shape = session.get_inputs()[0].shape
        # A graph exported with batch fixed to 1 only ever takes single images.
        self.buckets = (1,) if shape and shape[0] == 1 else self.options.buckets
        self.pad = self.on_gpu if self.options.pad is None else self.options.pad
        self.shapes_seen: set[tuple[int, ...]] = set()
        # Side inputs (e.g. resize weights) copied to the device once: id -> (array, device value).
        self._on_device: dict[int, tuple[np.ndarray, ort.OrtValue]] = {}

    def run(self, blob: np.ndarray, extra: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """First model output for ``blob`` (batch first), computed in bucket-shaped runs.

        ``extra``: further inputs that are not batched (the same for every run), such as the
        fused preprocessing's resize weights. Read-only arrays among them are copied to the GPU
        once and reused, so a run moves only the batch."""
        n = int(blob.shape[0])
        if n == 0:
            raise ValueError("empty batch")
        side = dict(extra or {})
        parts = [self._run_bucket(blob[r.start : r.stop], side) for r in split_for_buckets(n, self.buckets)]
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if out.shape[0] != n:
            raise RuntimeError(f"{self.name}: model returned {out.shape[0]} results for a batch of {n}")
        return out

    def _run_bucket(self, blob: np.ndarray, extra: dict[str, np.ndarray]) -> np.ndarray:
        n = int(blob.shape[0])
        size = bucket_for(n, self.buckets)
        if size > n and self.pad:
            pad = np.zeros((size - n, *blob.shape[1:]), dtype=blob.dtype)
            blob = np.concatenate([blob, pad])
        blob = np.ascontiguousarray(blob)
        self.shapes_seen.add(tuple(blob.shape))
        if self.io_binding:
            out = self._run_bound(blob, extra)
        else:
            (out, *_) = self.session.run([self.output_name], {self.input_name: blob, **extra})
        out = np.asarray(out)
        if out.shape[0] != blob.shape[0]:
            raise RuntimeError(f"{self.name}: model returned {out.shape[0]} results for a batch of {blob.shape[0]}")
        return out[:n]

    def _device_value(self, array: np.ndarray) -> ort.OrtValue:
        """``array`` on the GPU; cached when read-only (a writeable array could change under us)."""
        if array.flags.writeable:
            return ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array), "cuda", 0)
        hit = self._on_device.get(id(array))
        if hit is None or hit[0] is not array:
            hit = (array, ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array), "cuda", 0))
            self._on_device[id(array)] = hit
        return hit[1]

    def _run_bound(self, blob: np.ndarray, extra: dict[str, np.ndarray]) -> np.ndarray:
        binding = self.session.io_binding()
        if self.device == "cuda":
            binding.bind_ortvalue_input(self.input_name, ort.OrtValue.ortvalue_from_numpy(blob, "cuda", 0))
            for name, value in extra.items():
                binding.bind_ortvalue_input(name, self._device_value(value))
        else:
            binding.bind_cpu_input(self.input_name, blob)
            for name, value in extra.items():
                binding.bind_cpu_input(name, np.ascontiguousarray(value))
        binding.bind_output(self.output_name, self.device)
        self.session.run_with_iobinding(binding)
        return np.asarray(binding.copy_outputs_to_cpu()[0])
