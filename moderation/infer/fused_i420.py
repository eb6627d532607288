"""The fused preprocessing for frames in I420 (planar YUV 4:2:0), the layout decoders produce.

Why: a 720p frame is 2.76 MB as BGR but 1.38 MB as I420, and the BGR frame has to be made on the
CPU first (PyAV's ``to_ndarray(format="bgr24")`` runs swscale per frame). Shipping the decoder's own
planes halves what crosses PCIe and removes the colour conversion from the CPU.

Layout: ``uint8 [N, H * 3 / 2, W]``, as ``av.VideoFrame.to_ndarray()`` gives for ``yuv420p`` and
``cv2.COLOR_BGR2YUV_I420`` makes: H rows of Y, then the U plane (H/2 x W/2) and the V plane packed
into the remaining H/2 rows. H and W must be even.

Because resizing is linear and the colour conversion affine, the graph resizes the three planes
first (offsets removed, so the zero padding of NudeNet's letterbox is black) and converts the
small result with OpenCV's BT.601 limited-range matrix (``COLOR_YUV2BGR_I420``). OpenCV upsamples
chroma by repeating each sample over 2x2 pixels; resizing that is the same as resizing the chroma
plane with the luma weights of each pixel pair added up, which is what :func:`chroma_weights`
does. The result equals "convert on the CPU, then fuse" up to rounding and to clipping of
out-of-gamut colours, which the conversion does per pixel and the graph after resizing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from onnx import NodeProto

CHROMA_ROWS = "resize_rows_chroma"
"""``float32 [out_h, H / 2]``: vertical weights for the U and V planes."""
CHROMA_COLS = "resize_cols_chroma"
"""``float32 [W / 2, out_w]``: horizontal weights for the U and V planes."""

# OpenCV's fixed-point BT.601 coefficients (imgproc/src/color_yuv.simd.hpp), over 2**20.
_CY, _CUB, _CUG, _CVG, _CVR = (c / 2**20 for c in (1220542, 2116026, -409993, -852492, 1673527))
#: (Y - 16, U - 128, V - 128) rows → (B, G, R) columns.
YUV_TO_BGR = np.array([[_CY, _CY, _CY], [_CUB, _CUG, 0.0], [0.0, _CVG, _CVR]], dtype=np.float32)


def i420_size(frame: np.ndarray, where: str = "frame") -> tuple[int, int]:
    """``(height, width)`` of the picture in an I420 ``frame``; a clear error if it is not one."""
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"{where}: expected a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8 or frame.ndim != 2:
        raise ValueError(f"{where}: expected an I420 uint8 array (H*3/2, W), got {frame.dtype} {frame.shape}")
    rows, w = frame.shape
    h = rows * 2 // 3
    if rows % 3 or h % 2 or w % 2 or h == 0:
        raise ValueError(f"{where}: I420 needs even height and width, (H*3/2, W) rows; got shape {frame.shape}")
    return h, w


def chroma_weights(rows: np.ndarray, cols_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights for the half-resolution chroma planes from the luma ones (``rows [out, H]``,
    ``cols_t [W, out]``): each chroma sample covers two luma pixels per axis."""
    c_rows = np.ascontiguousarray(rows[:, 0::2] + rows[:, 1::2])
    c_cols = np.ascontiguousarray(cols_t[0::2] + cols_t[1::2])
    c_rows.setflags(write=False)
    c_cols.setflags(write=False)
    return c_rows, c_cols


def i420_to_bgr_nodes(frames: str, rows: str, cols: str, out: str) -> list[NodeProto]:
    """Nodes from I420 ``frames`` to resized, converted, clipped and rounded BGR ``out``
    (``float32 [N, out_h, out_w, 3]`` holding whole numbers 0..255)."""
    from onnx import TensorProto, helper, numpy_helper

    def const(name: str, value: np.ndarray) -> NodeProto:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name + "_v"))

    def dim(tensor: str, axis: int, name: str) -> list[NodeProto]:  # one dimension as a [1] int64
        return [
            helper.make_node("Shape", [tensor], [name + "_s"]),
            helper.make_node("Gather", [name + "_s", "yuv/ax" + str(axis)], [name], axis=0),
        ]

    i64 = np.int64
    return [
        const("yuv/ax0", np.array([0], i64)),
        const("yuv/ax1", np.array([1], i64)),
        const("yuv/two", np.array([2], i64)),
        const("yuv/end", np.array([np.iinfo(i64).max], i64)),
        const("yuv/y0", np.array(16.0, np.float32)),
        const("yuv/c0", np.array(128.0, np.float32)),
        const("yuv/m", YUV_TO_BGR),
        const("yuv/lo", np.array(0.0, np.float32)),
        const("yuv/hi", np.array(255.0, np.float32)),
        const("yuv/half", np.array(0.5, np.float32)),
        helper.make_node("Cast", [frames], ["yuv/f"], to=TensorProto.FLOAT),
        *dim(rows, 1, "yuv/h"),
        *dim(CHROMA_ROWS, 1, "yuv/h2"),
        *dim(CHROMA_COLS, 0, "yuv/w2"),
        *dim("yuv/f", 0, "yuv/n"),
        helper.make_node("Slice", ["yuv/f", "yuv/ax0", "yuv/h", "yuv/ax1"], ["yuv/y"]),
        helper.make_node("Slice", ["yuv/f", "yuv/h", "yuv/end", "yuv/ax1"], ["yuv/uv_rows"]),
        helper.make_node("Concat", ["yuv/n", "yuv/two", "yuv/h2", "yuv/w2"], ["yuv/uv_shape"], axis=0),
        helper.make_node("Reshape", ["yuv/uv_rows", "yuv/uv_shape"], ["yuv/uv"]),  # [N, 2, H/2, W/2]
        helper.make_node("Sub", ["yuv/y", "yuv/y0"], ["yuv/ys"]),
        helper.make_node("Sub", ["yuv/uv", "yuv/c0"], ["yuv/uvs"]),
        helper.make_node("MatMul", ["yuv/ys", cols], ["yuv/yh"]),
        helper.make_node("MatMul", [rows, "yuv/yh"], ["yuv/yv"]),  # [N, out_h, out_w]
        helper.make_node("Unsqueeze", ["yuv/yv", "yuv/ax1"], ["yuv/y4"]),
        helper.make_node("MatMul", ["yuv/uvs", CHROMA_COLS], ["yuv/ch"]),
        helper.make_node("MatMul", [CHROMA_ROWS, "yuv/ch"], ["yuv/cv"]),  # [N, 2, out_h, out_w]
        helper.make_node("Concat", ["yuv/y4", "yuv/cv"], ["yuv/yuv"], axis=1),
        helper.make_node("Transpose", ["yuv/yuv"], ["yuv/nhwc"], perm=[0, 2, 3, 1]),
        helper.make_node("MatMul", ["yuv/nhwc", "yuv/m"], ["yuv/bgr"]),
        helper.make_node("Clip", ["yuv/bgr", "yuv/lo", "yuv/hi"], ["yuv/clip"]),
        helper.make_node("Add", ["yuv/clip", "yuv/half"], ["yuv/round"]),
        helper.make_node("Floor", ["yuv/round"], [out]),
    ]
