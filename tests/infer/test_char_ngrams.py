"""The n-gram half of the intent classifier: stable features, its file format, and the average with
the encoder head."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from moderation.infer.char_ngrams import NgramHead, buckets
from moderation.infer.intent import BENIGN, IntentHead
from moderation.infer.manifest import ModelError

DIM = 1 << 12
LABELS = [BENIGN, "gambling", "vulgar"]


def test_buckets_are_stable_sorted_and_distinct() -> None:
    a = buckets("加我私聊带你回本", DIM)
    assert a.dtype == np.int64
    assert list(a) == sorted(set(a.tolist()))
    assert np.array_equal(a, buckets("加我私聊带你回本", DIM))  # CRC-32, not the salted hash()
    assert ((a >= 0) & (a < DIM)).all()
    # 8 characters: 8 unigrams + 7 bigrams + 6 trigrams, fewer only on a collision
    assert 18 <= len(a) <= 21


def test_spelling_games_share_their_ngrams() -> None:
    assert np.array_equal(buckets("賭 . 博", DIM), buckets("赌博", DIM))  # Traditional, split
    assert np.array_equal(buckets("ＢＥＴ", DIM), buckets("bet", DIM))  # full width, case


def test_empty_and_blank_lines_have_no_buckets() -> None:
    assert len(buckets("", DIM)) == 0
    assert len(buckets("  ...  ", DIM)) == 0


def _ngram(weights: np.ndarray, bias: np.ndarray | None = None) -> NgramHead:
    return NgramHead(weights.astype(np.float32), np.zeros(weights.shape[1], np.float32) if bias is None else bias)


def test_json_round_trip_keeps_the_weights_to_float16() -> None:
    rng = np.random.default_rng(1)
    w = rng.normal(size=(DIM, 3))
    data = json.loads(json.dumps(NgramHead.to_json(w, np.array([0.5, -0.25, 0.0]))))
    head = NgramHead.from_json(data, 3)
    assert head.dim == DIM and head.orders == (1, 2, 3)
    assert np.allclose(head.weights, w, atol=2e-3 * np.abs(w).max())
    assert np.allclose(head.bias, [0.5, -0.25, 0.0])


@pytest.mark.parametrize(
    ("change", "message"),
    [({"dim": 1000}, "power of two"), ({"dim": DIM * 2}, "numbers"), ({"bias": [0.0]}, "bias")],
)
def test_malformed_ngram_object_is_one_clear_error(change: dict, message: str) -> None:
    data = NgramHead.to_json(np.zeros((DIM, 3)), np.zeros(3))
    data.update(change)
    with pytest.raises(ValueError, match=message):
        NgramHead.from_json(data, 3)


def test_probabilities_follow_the_weights_of_the_line_buckets() -> None:
    w = np.zeros((DIM, 3))
    w[buckets("回本", DIM), 1] = 3.0  # every n-gram of 回本 leans to gambling
    p = _ngram(w).probabilities(["带你回本", "今天吃什么", ""])
    assert np.allclose(p.sum(axis=1), 1.0)
    assert p[0].argmax() == 1
    assert np.allclose(p[1], 1 / 3) and np.allclose(p[2], 1 / 3)  # nothing known: the bias alone


def test_head_file_with_an_ngram_half_averages_both(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    enc_w = rng.normal(size=(3, 3))
    w = np.zeros((DIM, 3))
    w[buckets("回本", DIM), 1] = 6.0
    path = tmp_path / "h.json"
    data = {"encoder": "use-multilingual-v3", "labels": LABELS, "weights": enc_w.tolist(), "bias": [0.0] * 3}
    data["ngram"] = NgramHead.to_json(w, np.zeros(3))
    path.write_text(json.dumps(data), encoding="utf-8")
    head = IntentHead.load(path)
    emb = np.eye(3, dtype=np.float32)
    texts = ["带你回本", "今天吃什么", "好"]
    enc_only = head.probabilities(emb)  # without the lines, the encoder head alone
    both = head.probabilities(emb, texts)
    assert head.ngram is not None
    assert np.allclose(both, (enc_only + head.ngram.probabilities(texts)) / 2, atol=1e-6)
    assert both[0, 1] > enc_only[0, 1]
    with pytest.raises(ValueError, match="texts"):
        head.probabilities(emb, texts[:2])


def test_unreadable_ngram_half_fails_the_head_load(tmp_path: Path) -> None:
    path = tmp_path / "h.json"
    data = {"encoder": "use-multilingual-v3", "labels": LABELS, "weights": np.zeros((3, 3)).tolist(), "bias": [0.0] * 3}
    data["ngram"] = {"dim": DIM, "bias": [0.0] * 3, "weights": "not base64!"}
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="cannot be read"):
        IntentHead.load(path)
