"""Preprocessing as an ONNX graph fused in front of a vision model: uint8 frames in, model out.

Why: on a GPU the models themselves run at many thousand images/s, while the CPU preprocessing in
:mod:`moderation.infer.vision` (cv2 letterbox + resize for NudeNet, PIL resize for open_nsfw) costs
around a millisecond per 720p frame and core. Fused, the session takes the decoded ``uint8`` BGR
frames ``[N, H, W, 3]`` as they are, and resizing, letterboxing, normalising and the layout change
run on the same device as the model, in the same ``run``.

The resize is written as two matrix products with the resampling weights, ``rows @ frame @ cols``
(one per axis, per channel), and the weights are graph *inputs* computed on the CPU once per frame
size. That keeps one session for every frame size, needs nothing beyond opset 17 (the models'
own), and reproduces the reference filters exactly rather than approximately:

* NudeNet: zero padding to a square at the bottom/right, then ``cv2.resize(INTER_LINEAR)``
  (two taps, half-pixel centres, no antialiasing). The padding is folded into the weights: padded
  rows and columns are zeros, so their weights are simply dropped.
* open_nsfw: PIL's antialiased bilinear resize to 256x256 (a triangle filter widened by the
  scale factor), the centre crop folded in by keeping only the weights of the cropped rows and
  columns; the result is rounded to ``uint8`` after each pass as PIL does. PIL's JPEG round trip
  cannot be expressed in a graph, so the fused path matches the CPU path with
  ``jpeg_roundtrip=False`` (tests check both: equal to the former, close to the latter).

Matrix products with dense weights do more arithmetic than a gather-based resize (about 2 GFLOP
per 720p frame), which a GPU does in microseconds; on the CPU provider the fused graph still runs
(for CI and as a fallback) but the cv2/PIL path is faster there and stays the default.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import onnxruntime as ort

from moderation.infer.fused_i420 import CHROMA_COLS, CHROMA_ROWS, chroma_weights, i420_size, i420_to_bgr_nodes
from moderation.infer.runner import GPU_PROVIDERS, BatchRunner, RunnerOptions

if TYPE_CHECKING:  # onnx comes with the gpu/dev extras; imported where a graph is built
    from onnx import ModelProto, NodeProto

Kind = Literal["nudenet", "open_nsfw"]
KINDS: tuple[Kind, ...] = ("nudenet", "open_nsfw")
Layout = Literal["bgr", "i420"]
"""Frames into the fused graph: ``bgr`` ``[N, H, W, 3]``, or ``i420`` ``[N, H*3/2, W]``
(:mod:`moderation.infer.fused_i420`)."""
LAYOUTS: tuple[Layout, ...] = ("bgr", "i420")

FRAMES = "frames"
"""Name of the fused graph's frame input: ``uint8 [N, H, W, 3]`` BGR."""
ROWS = "resize_rows"
"""``float32 [out_h, H]``: vertical resampling weights for the frames' height."""
COLS = "resize_cols"
"""``float32 [W, out_w]``: horizontal resampling weights for the frames' width."""

NUDENET_SIDE = 320
OPEN_NSFW_RESIZE = 256
OPEN_NSFW_CROP = 224
OPEN_NSFW_MEAN_BGR = (104.0, 117.0, 123.0)


def cv2_linear_weights(n_in: int, n_out: int, n_src: int | None = None) -> np.ndarray:
    """``[n_out, n_in]`` weights of ``cv2.resize(INTER_LINEAR)`` from ``n_src`` to ``n_out`` pixels,
    keeping only the first ``n_in`` source pixels (the rest are zero padding, ``n_src >= n_in``).

    Same sampling positions and edge clamping as OpenCV: ``x = (i + 0.5) * n_src / n_out - 0.5``,
    two taps, a position before the first pixel reads the first, one at or past the last reads
    the last.
    """
    src = n_in if n_src is None else n_src
    if n_in < 1 or n_out < 1 or src < n_in:
        raise ValueError(f"bad resize: {n_in} of {src} source pixels to {n_out}")
    w = np.zeros((n_out, src), dtype=np.float64)
    fx = (np.arange(n_out) + 0.5) * (src / n_out) - 0.5
    sx = np.floor(fx).astype(np.int64)
    frac = fx - sx
    low = sx < 0
    frac[low], sx[low] = 0.0, 0
    high = sx >= src - 1
    frac[high], sx[high] = 0.0, src - 1
    rows = np.arange(n_out)
    np.add.at(w, (rows, sx), 1.0 - frac)
    np.add.at(w, (rows, np.minimum(sx + 1, src - 1)), frac)
    return w[:, :n_in].astype(np.float32)


def pil_bilinear_weights(n_in: int, n_out: int) -> np.ndarray:
    """``[n_out, n_in]`` weights of PIL's ``Image.resize(..., BILINEAR)`` along one axis.

    Pillow's ``precompute_coeffs``: when shrinking, the triangle filter is widened by the scale
    factor (antialiasing), each output pixel's taps are normalised to sum to 1.
    """
    if n_in < 1 or n_out < 1:
        raise ValueError(f"bad resize: {n_in} to {n_out} pixels")
    scale = n_in / n_out
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale
    w = np.zeros((n_out, n_in), dtype=np.float64)
    for i in range(n_out):
        center = (i + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), n_in)
        x = np.arange(xmin, xmax)
        k = np.clip(1.0 - np.abs((x - center + 0.5) / filterscale), 0.0, None)
        total = k.sum()
        if total:
            w[i, xmin:xmax] = k / total
    return w.astype(np.float32)


@lru_cache(maxsize=32)
def resize_weights(kind: Kind, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rows [out_h, height], cols [width, out_w])`` for frames of ``height`` x ``width``,
    cached: a node sees a handful of frame sizes."""
    if kind == "nudenet":
        side = max(height, width)
        rows = cv2_linear_weights(height, NUDENET_SIDE, side)
        cols = cv2_linear_weights(width, NUDENET_SIDE, side)
    elif kind == "open_nsfw":
        o = (OPEN_NSFW_RESIZE - OPEN_NSFW_CROP) // 2
        rows = pil_bilinear_weights(height, OPEN_NSFW_RESIZE)[o : o + OPEN_NSFW_CROP]
        cols = pil_bilinear_weights(width, OPEN_NSFW_RESIZE)[o : o + OPEN_NSFW_CROP]
    else:
        raise ValueError(f"unknown preprocessing kind {kind!r}; expected one of {KINDS}")
    rows.setflags(write=False)
    cols_t = np.ascontiguousarray(cols.T)
    cols_t.setflags(write=False)
    return rows, cols_t


def _preprocess_nodes(kind: Kind, out: str, layout: Layout = "bgr") -> list[NodeProto]:
    """Nodes from :data:`FRAMES` / :data:`ROWS` / :data:`COLS` to the model input ``out``."""
    from onnx import TensorProto, helper

    def const(name: str, values: Sequence[float], shape: Sequence[int]) -> NodeProto:
        return helper.make_node(
            "Constant", [], [name], value=helper.make_tensor(name + "_v", TensorProto.FLOAT, list(shape), list(values))
        )

    def rounded(src: str, dst: str) -> list[NodeProto]:  # floor(x + 0.5): both cv2 and PIL round half up
        return [
            helper.make_node("Add", [src, "pre/half"], [dst + "_h"]),
            helper.make_node("Floor", [dst + "_h"], [dst]),
        ]

    if layout == "i420":  # resized BGR as whole numbers, NHWC; then the model's own layout
        nodes = i420_to_bgr_nodes(FRAMES, ROWS, COLS, "pre/u8")
        if kind == "nudenet":
            return [
                *nodes,
                helper.make_node("Transpose", ["pre/u8"], ["pre/nchw8"], perm=[0, 3, 1, 2]),
                const("pre/scale", [1.0 / 255.0], []),
                helper.make_node("Mul", ["pre/nchw8", "pre/scale"], [out]),
            ]
        return [
            *nodes,
            const("pre/mean", OPEN_NSFW_MEAN_BGR, [3]),
            helper.make_node("Sub", ["pre/u8", "pre/mean"], [out]),
        ]
    nodes = [
        const("pre/half", [0.5], []),
        helper.make_node("Cast", [FRAMES], ["pre/f"], to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["pre/f"], ["pre/nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("MatMul", ["pre/nchw", COLS], ["pre/h"]),  # [N, 3, H, out_w]
    ]
    if kind == "nudenet":
        # OpenCV keeps the horizontal pass in fixed point and rounds once, at the end.
        nodes += [helper.make_node("MatMul", [ROWS, "pre/h"], ["pre/v"])]  # [N, 3, out_h, out_w]
        nodes += rounded("pre/v", "pre/u8")
        nodes += [const("pre/scale", [1.0 / 255.0], []), helper.make_node("Mul", ["pre/u8", "pre/scale"], [out])]
    else:
        # PIL stores the horizontal pass as uint8 and rounds again after the vertical one.
        nodes += rounded("pre/h", "pre/h8")
        nodes += [helper.make_node("MatMul", [ROWS, "pre/h8"], ["pre/v"])]
        nodes += rounded("pre/v", "pre/u8")
        nodes += [
            helper.make_node("Transpose", ["pre/u8"], ["pre/nhwc"], perm=[0, 2, 3, 1]),
            const("pre/mean", OPEN_NSFW_MEAN_BGR, [3]),
            helper.make_node("Sub", ["pre/nhwc", "pre/mean"], [out]),
        ]
    return nodes


def fuse_preprocessing(model: ModelProto, kind: Kind, layout: Layout = "bgr") -> ModelProto:
    """A copy of ``model`` (an ``onnx.ModelProto`` with one image input) whose input is replaced by
    :data:`FRAMES` in ``layout``, the resize weights (:data:`ROWS`, :data:`COLS`, and the chroma
    ones for I420) and the preprocessing of ``kind``; outputs and opset unchanged. The graph is
    checked with ``onnx.checker``."""
    import onnx
    from onnx import TensorProto, helper

    if kind not in KINDS or layout not in LAYOUTS:
        raise ValueError(f"unknown preprocessing {kind!r} / {layout!r}; expected one of {KINDS} / {LAYOUTS}")
    fused = onnx.ModelProto()
    fused.CopyFrom(model)
    graph = fused.graph
    inits = {i.name for i in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in inits]
    if len(real_inputs) != 1:
        raise ValueError(f"expected a model with one image input, got {[i.name for i in real_inputs]}")
    image_input = real_inputs[0].name
    taken = {n for node in graph.node for n in (*node.input, *node.output)} | inits
    clash = {FRAMES, ROWS, COLS, CHROMA_ROWS, CHROMA_COLS} & taken | {n for n in taken if n[:4] in ("pre/", "yuv/")}
    if clash:
        raise ValueError(f"model already uses names {sorted(clash)}; cannot fuse preprocessing")
    kept = [i for i in graph.input if i.name != image_input]
    del graph.input[:]
    frame_shape: list[str | int] = ["batch", "height", "width", 3] if layout == "bgr" else ["batch", "rows", "width"]
    chroma = [
        helper.make_tensor_value_info(CHROMA_ROWS, TensorProto.FLOAT, ["out_h", "half_height"]),
        helper.make_tensor_value_info(CHROMA_COLS, TensorProto.FLOAT, ["half_width", "out_w"]),
    ]
    graph.input.extend(
        [
            helper.make_tensor_value_info(FRAMES, TensorProto.UINT8, frame_shape),
            helper.make_tensor_value_info(ROWS, TensorProto.FLOAT, ["out_h", "height"]),
            helper.make_tensor_value_info(COLS, TensorProto.FLOAT, ["width", "out_w"]),
            *(chroma if layout == "i420" else []),
            *kept,
        ]
    )
    pre = _preprocess_nodes(kind, image_input, layout)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend([*pre, *nodes])
    onnx.checker.check_model(fused)
    return fused


def fused_model_path(model_path: Path, kind: Kind, cache_dir: Path, layout: Layout = "bgr") -> Path:
    """``model_path`` with ``kind``'s preprocessing fused in front, built once and cached in
    ``cache_dir`` (the name carries a hash of the source model; written to a temporary name and
    renamed, so a half-written file is never loaded)."""
    import onnx

    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()[:12]
    target = cache_dir / f"{model_path.stem}-fused-{kind}-{layout}-{digest}.onnx"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    fused = fuse_preprocessing(onnx.load(str(model_path)), kind, layout)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".partial")
    os.close(fd)
    try:
        onnx.save(fused, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def group_by_size(images: Sequence[np.ndarray]) -> list[list[int]]:
    """Indices of ``images`` grouped by ``(height, width)``, in first-seen order: one fused run
    takes frames of one size."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, im in enumerate(images):
        groups.setdefault((int(im.shape[0]), int(im.shape[1])), []).append(i)
    return list(groups.values())


def fused_layout(session: ort.InferenceSession) -> Layout | None:
    """The frame layout a fused ``session`` takes (its first input is :data:`FRAMES`), else None."""
    names = [i.name for i in session.get_inputs()]
    if not names or names[0] != FRAMES:
        return None
    return "i420" if CHROMA_ROWS in names else "bgr"


def open_session(
    model_path: Path,
    kind: Kind,
    providers: Sequence[str] | None,
    intra_op_threads: int,
    options: RunnerOptions,
) -> ort.InferenceSession:
    """The session a vision model runs on: fused preprocessing when ``options.fused_preprocess``
    says so, or (None) when a GPU provider was chosen, or always for I420 input; fp16 per
    ``options``."""
    from moderation.infer.onnx import choose_providers, create_session

    chosen = choose_providers(providers)
    fuse = options.fused_preprocess
    if fuse is None:
        fuse = options.fused_input == "i420" or any(p in GPU_PROVIDERS for p in chosen)
    spec = f"{kind}:{options.fused_input}" if fuse else None
    return create_session(model_path, chosen, intra_op_threads, fp16=options.fp16, fuse=spec)


@lru_cache(maxsize=32)
def fused_weights(kind: Kind, layout: Layout, height: int, width: int) -> dict[str, np.ndarray]:
    """The weight inputs of a fused graph for pictures of ``height`` x ``width`` (read-only, so
    the runner keeps them on the device)."""
    rows, cols = resize_weights(kind, height, width)
    if layout == "bgr":
        return {ROWS: rows, COLS: cols}
    c_rows, c_cols = chroma_weights(rows, cols)
    return {ROWS: rows, COLS: cols, CHROMA_ROWS: c_rows, CHROMA_COLS: c_cols}


def check_image(image: object, where: str = "image") -> np.ndarray:
    """Return ``image`` if it is a non-empty BGR ``uint8`` array ``(H, W, 3)``, else raise.

    Checked up front, per image, so a bad frame from one stream is named in the error instead of
    surfacing as an opaque OpenCV or ONNX Runtime failure for a whole cross-stream batch.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{where}: expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"{where}: expected dtype uint8 (BGR), got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{where}: expected shape (H, W, 3) BGR, got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{where}: empty image of shape {image.shape}")
    return image


def check_frames(images: Sequence[np.ndarray], layout: Layout | None) -> list[np.ndarray]:
    """``images`` checked for the frames a session takes: BGR unless it was fused for I420."""
    if layout == "i420":
        return [im for i, im in enumerate(images) if i420_size(im, f"image {i}")]
    return [check_image(im, f"image {i}") for i, im in enumerate(images)]


def frame_size(frame: np.ndarray, layout: Layout) -> tuple[int, int]:
    """``(height, width)`` of the picture in ``frame`` (already checked for ``bgr``)."""
    return (int(frame.shape[0]), int(frame.shape[1])) if layout == "bgr" else i420_size(frame)


def fused_batches(
    runner: BatchRunner, kind: Kind, images: Sequence[np.ndarray], batch_size: int, layout: Layout = "bgr"
) -> Iterator[tuple[list[int], np.ndarray]]:
    """``(indices, first output)`` per run of up to ``batch_size`` same-size frames from ``images``
    (checked), stacked as they are: the graph does the rest."""
    for group in group_by_size(images):
        weights = fused_weights(kind, layout, *frame_size(images[group[0]], layout))
        for start in range(0, len(group), batch_size):
            idx = group[start : start + batch_size]
            frames = np.stack([images[i] for i in idx])
            yield idx, runner.run(frames, weights)
