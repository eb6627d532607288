"""Synthetic-content tracker: a manifest-driven ONNX classifier (a tiny model built here with
onnx.helper, registered through a real manifest and Registry), loops, and disclosure labels."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper

from moderation.config import SyntheticConfig
from moderation.infer.manifest import ModelError
from moderation.infer.registry import Registry
from moderation.messages import KeywordHit, OcrResult, TextLine, VideoFrame
from moderation.samplegen import Background
from moderation.signals.synthetic import ManifestClassifier, SyntheticScorer, SyntheticTracker


def tiny_classifier(path: Path, dynamic_batch: bool = True) -> Path:
    """[N,3,8,8] → [N,2] = (1 - mean, mean): "synthetic" probability is the mean brightness."""
    batch: str | int = "batch" if dynamic_batch else 1
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])
    y = helper.make_tensor_value_info("prob", TensorProto.FLOAT, [batch, 2])
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["m4", "shape"], ["p"]),
        helper.make_node("Sub", ["one", "p"], ["q"]),
        helper.make_node("Concat", ["q", "p"], ["prob"], axis=1),
    ]
    inits = [
        helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 1]),
        helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]),
    ]
    graph = helper.make_graph(nodes, "tiny_synth", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def registry_with(
    tmp_path: Path, model_id: str = "tiny-synth", dynamic_batch: bool = True, kind: str = "onnx-classifier"
) -> Registry:
    onnx_path = tiny_classifier(tmp_path / f"{model_id}.onnx", dynamic_batch)
    data = onnx_path.read_bytes()
    manifest = {
        "id": model_id,
        "kind": kind,
        "description": "test: mean brightness as synthetic probability",
        "files": [{"path": onnx_path.name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}],
        "input": {"name": "x", "layout": "NCHW", "color": "RGB", "resize": "stretch", "size": [8, 8], "scale": 1 / 255},
        "output": {"format": "probabilities", "score_label": "synthetic"},
        "labels": ["real", "synthetic"],
        "category_map": {"synthetic": "synthetic_unlabeled"},
        "license": "test",
        "source": "built in tests/signals/test_synthetic.py",
    }
    (tmp_path / f"{model_id}.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    return Registry.load(tmp_path, cache_dir=tmp_path / "cache")


def frame(t: float, level: int, stream: str = "s1") -> VideoFrame:
    return VideoFrame(stream=stream, t=t, image=np.full((90, 160, 3), level, np.uint8))


@pytest.mark.parametrize("dynamic", [True, False])
def test_manifest_classifier_scores_from_the_manifest_alone(tmp_path: Path, dynamic: bool) -> None:
    clf = ManifestClassifier.load(registry_with(tmp_path, dynamic_batch=dynamic), "tiny-synth")
    scores = clf.score([np.full((50, 70, 3), v, np.uint8) for v in (0, 128, 255)])
    assert np.allclose(scores, [0.0, 128 / 255, 1.0], atol=1e-3)
    assert clf.category == "synthetic_unlabeled"


def test_wrong_kind_is_refused(tmp_path: Path) -> None:
    reg = registry_with(tmp_path, kind="onnx-detector")
    with pytest.raises(ModelError, match="not an onnx-classifier"):
        ManifestClassifier.load(reg, "tiny-synth")


def test_tracker_emits_model_signals_above_the_configured_score(tmp_path: Path) -> None:
    cfg = SyntheticConfig(classifiers=("tiny-synth",), classifier_min_score=0.8)
    frames = [frame(0.0, 20), frame(1.0, 240), frame(2.0, 250)]
    scores = SyntheticScorer(cfg, registry_with(tmp_path)).score(frames)
    assert [[(s.model, round(s.score, 2)) for s in f] for f in scores] == [
        [("tiny-synth", 0.08)],
        [("tiny-synth", 0.94)],
        [("tiny-synth", 0.98)],
    ]
    sigs = SyntheticTracker("s1", cfg).observe(frames, scores=scores)
    assert [(s.kind, s.t, s.category) for s in sigs] == [
        ("synthetic.model.tiny-synth", 1.0, "synthetic_unlabeled"),
        ("synthetic.model.tiny-synth", 2.0, "synthetic_unlabeled"),
    ]
    assert sigs[0].score == pytest.approx(240 / 255, abs=1e-3)


def test_classifiers_without_a_registry_are_an_error() -> None:
    with pytest.raises(ModelError, match="no model registry"):
        SyntheticScorer(SyntheticConfig(classifiers=("x",)), None)


def test_tracker_finds_loops_and_reports_the_tail_at_finish() -> None:
    bg = Background(320, 180, seed=5)
    tracker = SyntheticTracker("s1", SyntheticConfig())
    sigs = []
    for start in range(0, 30, 10):
        chunk = [VideoFrame("s1", float(t), bg.frame(t % 4.0)) for t in range(start, start + 10)]
        sigs += tracker.observe(chunk)
    sigs += tracker.finish()
    assert sigs and {s.kind for s in sigs} == {"synthetic.loop"}
    assert max(s.end or s.t for s in sigs) == 29.0


def test_disabled_tracker_is_silent() -> None:
    bg = Background(320, 180, seed=5)
    tracker = SyntheticTracker("s1", SyntheticConfig(enabled=False))
    assert tracker.observe([VideoFrame("s1", float(t), bg.frame(t % 4.0)) for t in range(30)]) == []


def test_tracker_turns_ocr_labels_into_disclosure_signals() -> None:
    def match(text: str) -> list[KeywordHit]:
        i = text.find("AI生成")
        return [KeywordHit("AI生成", "disclosure", 1.0, (i, i + 4), "AI生成")] if i >= 0 else []

    ocr = [OcrResult("s1", 2.0, (TextLine("AI生成", 0.95, (10, 10, 120, 40)),), frame_size=(640, 360))]
    (sig,) = SyntheticTracker("s1", SyntheticConfig(), match).observe([], ocr)
    assert (sig.kind, sig.category, sig.t) == ("disclosure.label", "disclosure", 2.0)
