"""BatchRunner: bucket padding, splitting, IOBinding path and fp16 conversion, on tiny ONNX graphs
built in the test (no model files) plus one check on the real NudeNet model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from moderation.infer.onnx import create_session
from moderation.infer.runner import BatchRunner, RunnerOptions, bucket_for, fp16_model, split_for_buckets


def _affine_model(path: Path, batch: int | str = "N") -> Path:
    """y = x @ W + b with a known W, batch dimension ``batch``."""
    w = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    b = np.array([1.0, -1.0, 0.5], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["m"]), helper.make_node("Add", ["m", "b"], ["y"])],
        "affine",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3])],
        initializer=[
            helper.make_tensor("W", TensorProto.FLOAT, w.shape, w.flatten()),
            helper.make_tensor("b", TensorProto.FLOAT, b.shape, b),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def _expected(x: np.ndarray) -> np.ndarray:
    w = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    return x @ w + np.array([1.0, -1.0, 0.5], dtype=np.float32)


def test_bucket_for_and_split() -> None:
    assert [bucket_for(n, (1, 8, 16)) for n in (1, 2, 8, 9, 16, 20)] == [1, 8, 8, 16, 16, 20]
    assert split_for_buckets(40, (1, 8, 16)) == [range(0, 16), range(16, 32), range(32, 40)]
    with pytest.raises(ValueError):
        bucket_for(0, (1, 8))
    with pytest.raises(ValueError):
        RunnerOptions(buckets=(8, 1))


@pytest.mark.parametrize("io_binding", [False, True])
def test_padded_runs_return_exact_rows(tmp_path: Path, io_binding: bool) -> None:
    sess = create_session(_affine_model(tmp_path / "a.onnx"))
    runner = BatchRunner(sess, RunnerOptions(buckets=(1, 4, 8), io_binding=io_binding, pad=True))
    rng = np.random.default_rng(0)
    for n in (1, 3, 5, 8, 19):
        x = rng.normal(size=(n, 4)).astype(np.float32)
        np.testing.assert_allclose(runner.run(x), _expected(x), rtol=1e-5, atol=1e-5)
    # Only bucket shapes reached the session: 19 = 8 + 8 + 3→4.
    assert {s[0] for s in runner.shapes_seen} <= {1, 4, 8}


def test_cpu_does_not_pad_by_default(tmp_path: Path) -> None:
    runner = BatchRunner(create_session(_affine_model(tmp_path / "a.onnx")))
    assert not runner.on_gpu and not runner.pad and not runner.io_binding
    runner.run(np.zeros((3, 4), np.float32))
    assert runner.shapes_seen == {(3, 4)}


def test_fixed_batch_one_graph_runs_single_rows(tmp_path: Path) -> None:
    runner = BatchRunner(create_session(_affine_model(tmp_path / "a.onnx", batch=1)))
    x = np.ones((5, 4), np.float32)
    np.testing.assert_allclose(runner.run(x), _expected(x), rtol=1e-5)
    assert runner.shapes_seen == {(1, 4)}


def test_row_count_mismatch_is_an_error() -> None:
    class Broken:
        def get_inputs(self):  # type: ignore[no-untyped-def]
            return [type("I", (), {"name": "x", "shape": ["N", 4]})()]

        def get_outputs(self):  # type: ignore[no-untyped-def]
            return [type("O", (), {"name": "y"})()]

        def get_providers(self) -> list[str]:
            return ["CPUExecutionProvider"]

        def run(self, names, feeds):  # type: ignore[no-untyped-def]
            return [np.zeros((1, 3), np.float32)]  # drops rows: must never shift results between streams

    with pytest.raises(RuntimeError, match="model returned 1 results for a batch of 4"):
        BatchRunner(Broken()).run(np.zeros((4, 4), np.float32))  # type: ignore[arg-type]


def test_fp16_conversion_is_cached_and_close(tmp_path: Path) -> None:
    src = _affine_model(tmp_path / "a.onnx")
    out = fp16_model(src, tmp_path / "cache")
    assert out is not None and out.is_file()
    assert fp16_model(src, tmp_path / "cache") == out  # second call reuses the cached file
    assert not list((tmp_path / "cache").glob("*.partial"))
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    (y,) = sess.run(None, {"x": x})
    assert y.dtype == np.float32  # fp32 in and out, fp16 weights inside
    np.testing.assert_allclose(y, _expected(x), rtol=1e-2, atol=1e-2)


def test_nudenet_padded_equals_unpadded() -> None:
    """Real model: zero-padding the batch (what GPU nodes do) leaves each image's result unchanged."""
    from moderation.infer.vision import NudeNetDetector

    rng = np.random.default_rng(2)
    images = [rng.integers(0, 255, size=(90 + 7 * i, 120, 3), dtype=np.uint8) for i in range(3)]
    plain = NudeNetDetector(batch_size=16)
    padded = NudeNetDetector(batch_size=16, runner=RunnerOptions(buckets=(1, 8), pad=True, io_binding=True))
    blob, _ = plain.preprocess(images)
    np.testing.assert_allclose(padded.runner.run(blob), plain.runner.run(blob), rtol=1e-4, atol=1e-3)
    assert padded.runner.shapes_seen == {(8, 3, 320, 320)}


@pytest.mark.slow
@pytest.mark.parametrize("which", ["nudenet", "open_nsfw"])
def test_fp16_copies_of_the_real_models_load_and_agree(tmp_path: Path, which: str) -> None:
    """The converter leaves the models' own Cast-to-float nodes behind; ONNX Runtime refused the
    result before fp16_model fixed them. The fp16 copy must load and give the fp32 model's output."""
    from moderation.infer.fused import fused_model_path
    from moderation.infer.vision import default_nudenet_path, default_open_nsfw_path

    src = default_nudenet_path() if which == "nudenet" else default_open_nsfw_path()
    out = fp16_model(src, tmp_path)
    assert out is not None
    shape, scale = ([2, 3, 320, 320], 1.0) if which == "nudenet" else ([2, 224, 224, 3], 100.0)
    x = np.random.default_rng(0).random(shape, dtype=np.float32) * scale
    fp16 = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    fp32 = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    name = fp32.get_inputs()[0].name
    got, want = fp16.run(None, {name: x})[0], fp32.run(None, {name: x})[0]
    assert got.dtype == np.float32
    # NudeNet's output is box pixels (0..320) and class scores; open_nsfw's probabilities.
    np.testing.assert_allclose(got, want, atol=0.5 if which == "nudenet" else 1e-3)
    # The fused graph builds on the fp16 copy too (what a GPU node with fp16 on loads).
    ort.InferenceSession(str(fused_model_path(out, which, tmp_path)), providers=["CPUExecutionProvider"])  # type: ignore[arg-type]
