"""Hashed character n-grams of a chat line: the lexical half of the intent classifier.

The sentence encoder reads a line's meaning but blurs its words: lines it has never seen that share
a lure ("私我", "主页", "懂的", "回本") with violating training lines do not always land near them. A
softmax regression over the line's character 1-, 2- and 3-grams reads exactly those words, and its
errors differ from the encoder head's. :mod:`moderation.infer.intent` averages the two heads'
probabilities, so a line reaches a bar only where both lean the same way (chosen by
cross-validation in ``scripts/train_intent.py``).

Features are computed on the base character view (:func:`moderation.text.normalize.normalize`:
Traditional → Simplified, full-width, case, separators between split characters), so "賭 . 博"
and "赌博" share their n-grams. N-grams are hashed with CRC-32 (stable across platforms and Python
runs, unlike :func:`hash`) into ``dim`` buckets; a line's distinct buckets each weigh
``1/sqrt(count)``, so long and short lines are on one scale. The training script imports
:func:`buckets` from here, so training and serving cannot compute different features.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from moderation.text.normalize import normalize

__all__ = ["ORDERS", "NgramHead", "buckets", "softmax"]

#: N-gram lengths read from the character view.
ORDERS = (1, 2, 3)
#: Characters of a line that are read (as the encoder's cut: a pasted essay must not stall a batch).
MAX_CHARS = 512


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits (shifted by each row's maximum, so large logits do not overflow)."""
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return p


def buckets(text: str, dim: int, orders: Sequence[int] = ORDERS) -> np.ndarray:
    """Sorted distinct bucket ids (``int64``) of ``text``'s character n-grams; ``dim`` is a power of two.

    N-grams that are only whitespace carry nothing and are skipped; an empty line has no buckets.
    """
    view = normalize(text[:MAX_CHARS]).text
    mask = dim - 1
    out: set[int] = set()
    for n in orders:
        for i in range(len(view) - n + 1):
            gram = view[i : i + n]
            if not gram.isspace():
                out.add(zlib.crc32(gram.encode("utf-8")) & mask)
    return np.fromiter(sorted(out), dtype=np.int64, count=len(out))


@dataclass(frozen=True)
class NgramHead:
    """Softmax regression over hashed n-grams: ``softmax(sum_b weights[b] / sqrt(k) + bias)`` over the
    line's ``k`` distinct buckets ``b``; the columns are the encoder head's labels, in its order."""

    weights: np.ndarray  # (dim, labels) float32
    bias: np.ndarray  # (labels,) float32
    orders: tuple[int, ...] = ORDERS

    @property
    def dim(self) -> int:
        return int(self.weights.shape[0])

    @classmethod
    def from_json(cls, data: dict[str, Any], n_labels: int) -> NgramHead:
        """Read the ``ngram`` object of a head file: ``dim``, ``orders``, ``bias`` and ``weights`` as
        base64 of little-endian float16 (half a megabyte instead of megabytes of JSON numbers)."""
        dim = int(data["dim"])
        if dim <= 0 or dim & (dim - 1):
            raise ValueError(f"ngram dim must be a power of two, got {dim}")
        raw = np.frombuffer(base64.b64decode(data["weights"]), dtype="<f2")
        if raw.size != dim * n_labels:
            raise ValueError(f"ngram weights hold {raw.size} numbers, not {dim} x {n_labels}")
        bias = np.asarray(data["bias"], dtype=np.float32)
        if bias.shape != (n_labels,):
            raise ValueError(f"ngram bias {bias.shape} does not fit {n_labels} labels")
        orders = tuple(int(n) for n in data.get("orders", ORDERS))
        return cls(raw.reshape(dim, n_labels).astype(np.float32), bias, orders)

    @staticmethod
    def to_json(weights: np.ndarray, bias: np.ndarray, orders: Sequence[int] = ORDERS) -> dict[str, Any]:
        """The ``ngram`` object :meth:`from_json` reads."""
        packed = np.ascontiguousarray(weights, dtype="<f2").tobytes()
        return {
            "dim": int(weights.shape[0]),
            "orders": list(orders),
            "dtype": "float16",
            "bias": [float(f"{v:.5g}") for v in bias],
            "weights": base64.b64encode(packed).decode("ascii"),
        }

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of class logits, one per text."""
        out = np.empty((len(texts), self.weights.shape[1]), dtype=np.float32)
        for i, text in enumerate(texts):
            ids = buckets(text or "", self.dim, self.orders)
            row = self.weights[ids].sum(axis=0) / np.sqrt(len(ids)) if len(ids) else 0.0
            out[i] = row + self.bias
        return out

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of class probabilities, one per text."""
        return softmax(self.logits(texts))
