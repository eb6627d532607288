"""Train the chat intent head (``models/intent/chat-intent.json``) and write its manifest.

The head reads Universal Sentence Encoder multilingual v3 embeddings: one ReLU hidden layer of
``HIDDEN`` units under a softmax (``--hidden 0``: a multinomial logistic regression straight on the
embedding), trained with numpy only (full-batch steps, L2 penalty, classes weighted by their inverse
frequency so the benign majority does not drown the smallest category). It trains on two sources:

* the ``dev`` split of ``benchmarks/data/text_{benign,violating}.jsonl``, minus the spelling-game
  evasion classes (``SPELLING``). That corpus is generated from templates around lexicon terms, so
  on its own it teaches the head little about wording that names no term;
* every line of the hand-written sets in ``HAND_SETS``: ``text_intent_train.jsonl`` (live-room
  chat written for training: violating lines, most of them implicit or plain wording without a
  lexicon term, and benign near misses: news and platform notices about gambling, tipping and porn,
  counter-speech quoting spam, banter, fans praising gifts), ``text_intent_train2.jsonl`` (a second
  such set, written apart from the first and from every measured set: betting recruitment by
  "teacher / plan / win it back" wording, tipping pressure without a gift named (PK, rank, sob
  stories), solicitation by innuendo, abuse, in-group slang, Traditional script and Chinese-English
  mixes; against them ranked-game talk, board games, the Rockets, spinach, lottery news, thanks to
  gifters, viewers declining to tip, reports of spam, medical and art wording, live-shop orders),
  ``text_intent_train3.jsonl`` (everyday short viewer chat the head had scored as violating, and more
  violating lines without a standard banned term), ``text_intent_train4.jsonl`` (violating lines
  from many kinds of speaker, at least half implicit or in-group slang: PK begging, betting
  "teachers" and plan sellers, private-game organisers, sellers of sex and porn by innuendo, in
  Cantonese, Taiwanese and Northeastern wording, Traditional script, Chinese-English, pinyin
  initials and emoji; against them hard benign near misses: ranked and board games, odds and
  lottery results as news, live-shop orders, gift battles told as news, body, dating and film talk,
  platform rules, counter-speech, and many 2-8 character chat lines), ``text_intent_train5.jsonl``
  (weighted toward vulgar wording — innuendo, solicitation, porn sales, "private show" offers, body
  comments — against benign lines sharing its words: fitness, swimwear, dating, medical, art, pets,
  cooking; it once stayed out of training because, folds by set, it cut vulgar recall 48 → 35 % under
  the gradient-descent n-gram head; under the L-BFGS head it raises it), ``text_intent_train6.jsonl``
  (weighted toward tipping pressure that names no gift or 打赏 — PK countdowns, hour-list pushes, sob
  stories, guild threats, fan-club lights, paid calls, invented gift names and emoji — with betting
  recruitment and vulgar lines in every spelling class; against them hard benign near misses and
  short chat, some of it in Traditional, pinyin, Cantonese and spaced-out forms so that an unusual
  spelling is not learnt as a violation), ``text_intent_train8.jsonl`` to ``text_intent_train11.jsonl``
  (four sets written apart from each other, the lexicons and every measured set, each weighted toward
  one class against its own near misses: tipping pressure naming no gift or price against thanks,
  declining viewers, fan-chart pushes and live-shop countdowns; vulgar innuendo, solicitation and
  abuse against fitness, swimwear, sexual health and friendly swearing; gambling worded around plans,
  teachers, rebates and cash-out games against ranked games, family mahjong, lottery news and stocks;
  chat of English-speaking and bilingual rooms. ``--validate --with`` them, folds by set: the served
  mean at 0.85 caught 59.6 / 57.2 / 53.2 % of the other sets' gambling / tipping / vulgar against
  59.2 / 56.3 / 51.3 %, at the same 0.4 % of their benign lines, and the veto at 0.7 lost 6 caught
  violations against 14), the
  older hand-written evaluation sets ``text_intent_fresh.jsonl``, ``text_vulgar_fresh.jsonl`` and
  ``text_fresh_v2.jsonl``, which newer held-out sets have replaced as measures, and the development
  sets ``text_dev_v6.jsonl`` to ``text_dev_v8.jsonl`` (room chat in proportion: thousands of short
  everyday lines and hard benign lines sharing words with spam; their misses had been read for rule
  fixes, so they measured nothing held out. ``--validate --with`` them, folds by set, trained in every
  fold: the served mean at 0.85 caught 56.4 / 54.0 / 48.6 % of the other sets' gambling / tipping /
  vulgar against 55.9 / 52.3 / 48.6 %, with 0.6 % of their benign lines against 0.9 %). Their lines
  weigh ``--hand-weight`` times a corpus line, because one hand-written line carries more distinct
  wording than one template fill.

What ``benchmarks/text_quality.py --intent`` measures it on stays out: the corpus ``heldout`` split
and the newest hand-written sets (every ``text_fresh_v*.jsonl`` from v3 on, and each development
set not trained on, from ``text_dev_v9.jsonl`` on;
``tests/benchmarks/test_intent_train_set.py`` checks that no training line is, or nearly is, one of
theirs). ``--validate`` cross-validates instead of writing: each hand-written set is one fold (or, with
``--folds line``, five folds by a hash of the text), predicted by heads trained on the corpus and
the other folds, and recall and benign false positives are printed per threshold over all out-of-
fold predictions, for the encoder head alone and for its mean with the character n-gram head (what
is served), then the share of violating and of benign lines each ``intent.veto_score`` bar would
veto, and what each bar does to the lines the keyword rules alone put in a verdict (false verdicts
vetoed, caught violations lost), for both ``intent.veto_reading`` choices. Folds by set keep a
writer's words out of training, as a new room's chat is: folds by line let the n-gram half recognise
a writer and put its bar too low. The head's shape, its L2 penalty, the hand-line weight and the
``intent.min_score`` and ``intent.veto_score`` defaults were chosen that way, never on the
evaluation sets (though the move to folds by set followed a benchmark run in which the bar chosen by
line folds doubled the benign verdicts of the held-out sets).

The result is deterministic (a fixed-seed or zero start, a fixed number of full-batch steps,
weights rounded to 5 significant digits), so rerunning it on the same data and encoder reproduces
the file and its hash in ``models/chat-intent.yaml``, barring last-bit differences between BLAS builds.

Run: ``python scripts/train_intent.py`` (a minute or two: it embeds ~7,700 lines on one core);
``--validate`` trains five heads (a few minutes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from moderation.infer.char_ngrams import NgramHead, buckets, softmax  # noqa: E402
from moderation.infer.intent import BENIGN, ENCODER_ID, HEAD_ID, MAX_CHARS, _numpy_encoder  # noqa: E402
from moderation.infer.registry import Registry  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
LABELS = (BENIGN, "gambling", "tipping_inducement", "vulgar")
HEAD_PATH = Path("intent") / "chat-intent.json"  # relative to models/
#: Weight of one hand-written line against one corpus line (chosen with ``--validate``: at 3 the
#: out-of-fold benign false positives fell against 1 at the same recall; 5 changed nothing. For the
#: hidden-layer head 3 again beat 1 and tied 6).
HAND_WEIGHT = 3.0
#: Hidden units of the head (0 trains the linear head). Chosen with ``--validate`` once the second
#: hand-written set was in: out of fold, at the benign false-positive rate of the linear head at 0.9
#: (1.8 %), one 128-unit ReLU layer catches 39-52 % of each category against 24-40 %.
HIDDEN = 128
#: Training settings per head kind, where the command line leaves them out (for the hidden layer,
#: ``--validate`` put L2 3e-4 ahead of 1e-3 and 3e-3 and level with 1e-4; 300 Adam steps).
LINEAR_DEFAULTS = {"l2": 1e-4, "iters": 2000, "lr": 2.0}
MLP_DEFAULTS = {"l2": 3e-4, "iters": 300, "lr": 3e-3}
#: The n-gram half (:mod:`moderation.infer.char_ngrams`): 2^16 buckets (2^18 did no better out of
#: fold), its L2 penalty and a bound on L-BFGS steps. Out of fold by set, less penalty caught more
#: at equal benign rates down to about 3e-6, then hardly more: the served mean (bar 0.85, about 1 %
#: benign) caught 53 / 51 / 50 % of gambling / tipping / vulgar at 3e-6 and 56 / 52 / 52 % at 1e-6;
#: at 1e-5 the bar 0.8 gave 57 / 54 / 53 % at 1.3 %. The gradient-descent head this replaced, at 0.8:
#: 42 / 44 / 48 % at 1.6 %.
NGRAM_DIM = 1 << 16
NGRAM_DEFAULTS = {"l2": 3e-6, "iters": 500}

MANIFEST = """\
# Head over use-multilingual-v3 embeddings: P(benign | gambling | tipping_inducement | vulgar)
# for one chat line. Written by scripts/train_intent.py (corpus dev split + its HAND_SETS).
id: {id}
kind: text-classifier
description: Chat intent classifier head ({kind}, {shape} classes).
files:
  - path: {path}
    sha256: {sha}
    size: {size}
    role: model
input:
  notes: L2-normalised 512-dim embeddings from models/use-multilingual-v3.yaml (the head file names it),
    and the line itself for the n-gram half when the file carries one (moderation/infer/char_ngrams.py).
output:
  shape: [batch, {n}]
  format: probabilities
labels: [{labels}]
category_map:
{cmap}
license: Apache-2.0 (trained here on the project's own data)
source: scripts/train_intent.py
"""


#: Evasion classes left out of training: spelling games the matcher's normaliser undoes (pinyin,
#: separators, leetspeak, initialisms, obfuscated URLs). Their embeddings are mostly noise, and on
#: the held-out split a head trained without them is as sensitive at a lower benign false-positive
#: rate (0.4 % against 0.8 % at threshold 0.8) — the classifier's job is wording, not spelling.
SPELLING = frozenset(
    {"separators", "tone_pinyin", "pinyin", "runon_pinyin", "leet", "homophone", "initialism", "url", "ocr_nospace"}
)


#: Written for training but not trained on: ``text_intent_train7.jsonl`` (six everyday domains from
#: both sides, benign and violating in the same words: fan charts against gift pushes for the room's
#: rank, dating against hookup offers, crude but friendly speech against abuse, games for points
#: against money games, personal histories against "win it back" recruitment, body and fitness talk
#: against sexual comments). Trained in every fold and scored in none it moved the other sets' recall
#: at 0.85 from 56 / 52 / 49 % to 57 / 52 / 49 % at the same 0.8 % benign; with it in training the
#: development sets' recall moved -1.7, -2.8, +1.8 and +1.4 points (dev6, dev7, dev8, fresh3,
#: categories summed) and their benign verdicts by one line, so it does not earn its place yet.
#: ``text_intent_train12.jsonl`` to ``text_intent_train15.jsonl`` (Hong Kong, Taiwan, Macau and
#: Malaysian rooms and mainland regional voices; short chat whose benign lines look spammy or crude;
#: ten kinds of room from both sides; violations and ordinary chat in the same evasive spellings)
#: neither: trained in every fold and scored in none they moved the other sixteen sets from 59.5 /
#: 55.2 / 51.1 % at 0.5 % benign to 61.8 / 57.4 / 52.6 % at 0.6 % (bar 0.85), a step along the same
#: curve (0.80 without them: 65.8 / 61.8 / 58.6 % at 0.9 %), not a better one, and on dev9 (not
#: trained on) recall rose by 6 points summed with two more benign lines in a verdict.
#: ``text_intent_train16.jsonl`` (asks for free follows, likes, comments and shares, benign, against
#: asks that need money) neither: trained on, it cut the false verdicts of the streamer-speech set
#: (``benchmarks/speech_intent.py``, bar 0.9) from 15 to 10 of 741 segments, but out of fold it moved
#: the other sixteen sets from 59.5 / 55.2 / 51.1 % to 59.1 / 54.8 / 51.3 % at the same 0.5 % benign,
#: and the served pipeline reads chat, not speech, by default.
NOT_TRAINED = (
    "text_intent_train7.jsonl",
    "text_intent_train12.jsonl",
    "text_intent_train13.jsonl",
    "text_intent_train14.jsonl",
    "text_intent_train15.jsonl",
    "text_intent_train16.jsonl",
)
HAND = "text_intent_train.jsonl"
#: Every hand-written set the head trains on (the first one written for it).
HAND_SETS = (
    HAND,
    "text_intent_train2.jsonl",
    "text_intent_train3.jsonl",
    "text_intent_train4.jsonl",
    "text_intent_train5.jsonl",
    "text_intent_train6.jsonl",
    "text_intent_fresh.jsonl",
    "text_vulgar_fresh.jsonl",
    "text_fresh_v2.jsonl",
    "text_dev_v6.jsonl",
    "text_dev_v7.jsonl",
    "text_dev_v8.jsonl",
    "text_intent_train8.jsonl",
    "text_intent_train9.jsonl",
    "text_intent_train10.jsonl",
    "text_intent_train11.jsonl",
)


def load_rows(exclude: frozenset[str] = SPELLING) -> list[tuple[str, str]]:
    """(text, label) of every corpus dev-split line outside ``exclude``; violating lines carry their category."""
    rows: list[tuple[str, str]] = []
    for name in ("text_benign.jsonl", "text_violating.jsonl"):
        for r in _jsonl(DATA / name):
            if r["split"] == "dev" and r.get("evasion") not in exclude:
                rows.append((r["text"], r.get("category", BENIGN)))
    return rows


#: Character-bigram Jaccard similarity at or above which a training line counts as a measured line reworded.
NEAR = 0.6


def _bigrams(text: str) -> frozenset[str]:
    s = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())
    return frozenset(s[i : i + 2] for i in range(len(s) - 1)) or frozenset({s})


def near(a: frozenset[str] | set[str], b: frozenset[str] | set[str], bar: float = NEAR) -> bool:
    """Whether two bigram sets are near: ``|a ∩ b| ≥ bar · |a ∪ b|`` (the pairwise test)."""
    return len(a & b) >= bar * len(a | b)


class NearIndex:
    """Bigram sets of many lines, queried for any near one (:func:`near`) through an inverted index:
    only lines sharing a bigram can be near (a bigram set is never empty), and the shared count
    decides each exactly, since ``|a ∪ b| = |a| + |b| - |a ∩ b|``. Checking thousands of lines
    against thousands then compares no pair that shares nothing."""

    def __init__(self, grams: Iterable[frozenset[str] | set[str]], bar: float = NEAR) -> None:
        self.bar = bar
        self.sizes: list[int] = []
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, g in enumerate(grams):
            self.sizes.append(len(g))
            for bg in g:
                self.postings[bg].append(i)

    def has_near(self, g: frozenset[str] | set[str]) -> bool:
        """Whether any indexed set is near ``g``."""
        shared: Counter[int] = Counter()
        for bg in g:
            shared.update(self.postings.get(bg, ()))
        n = len(g)
        return any(k >= self.bar * (n + self.sizes[i] - k) for i, k in shared.items())


def measured_sets() -> list[str]:
    """The hand-written sets the intent benchmark measures on: every ``text_fresh_v*.jsonl`` and
    ``text_dev_v*.jsonl`` not trained on (a development set's numbers are read, never trained on)."""
    names = [*DATA.glob("text_fresh_v*.jsonl"), *DATA.glob("text_dev_v*.jsonl")]
    return sorted(p.name for p in names if p.name not in HAND_SETS)


def load_hand() -> list[tuple[str, str]]:
    """(text, label) of every line of the hand-written training sets, less any line that equals or
    nearly equals a line of a measured set (short chat lines recur across sets written apart; training
    on one would make the benchmark measure memory)."""
    return [(text, label) for text, label, _ in load_hand_sets()]


def load_hand_sets(names: Sequence[str] = HAND_SETS) -> list[tuple[str, str, str]]:
    """:func:`load_hand`'s lines (of ``names``) with the name of the set each came from (its writer)."""
    measured = NearIndex(
        _bigrams(r["text"]) for name in measured_sets() if name not in names for r in _jsonl(DATA / name)
    )
    rows = [(r["text"], r.get("category", BENIGN), name) for name in names for r in _jsonl(DATA / name)]
    return [(text, label, name) for text, label, name in rows if not measured.has_near(_bigrams(text))]


FOLDS = 5


def fold(text: str) -> int:
    """Cross-validation fold of a hand-written line, by a hash of its text: stable across reorderings."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % FOLDS


def _jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def train(
    x: np.ndarray, y: np.ndarray, n_cls: int, l2: float, iters: int, lr: float, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced softmax regression by full-batch gradient descent (convex: the start does not matter).

    ``weight`` scales single lines (the hand-written ones); classes are then balanced on the
    weighted counts, so a line's weight shifts emphasis within its class, not between classes.
    """
    d = x.shape[1]
    w = np.zeros((d, n_cls), dtype=np.float64)
    b = np.zeros(n_cls, dtype=np.float64)
    sample_w = _class_balanced(y, n_cls, weight)
    onehot = np.eye(n_cls)[y]
    for _ in range(iters):
        g = (softmax(x @ w + b) - onehot) * sample_w[:, None]
        w -= lr * (x.T @ g + l2 * w)
        b -= lr * g.sum(axis=0)
    return w, b


def _class_balanced(y: np.ndarray, n_cls: int, weight: np.ndarray | None) -> np.ndarray:
    """Per-line loss weights summing to 1: ``weight`` per line, then classes balanced on the weighted counts."""
    line_w = np.ones(len(y)) if weight is None else weight.astype(np.float64)
    class_w = line_w.sum() / (n_cls * np.bincount(y, weights=line_w, minlength=n_cls))
    sample_w = line_w * class_w[y]
    return sample_w / sample_w.sum()


def train_mlp(
    x: np.ndarray,
    y: np.ndarray,
    n_cls: int,
    hidden: int,
    l2: float,
    iters: int,
    lr: float,
    weight: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One ReLU hidden layer under the softmax, by full-batch Adam on the same class-balanced loss as
    :func:`train`; returns ``(hidden_w, hidden_b, w, b)``.

    Not convex, so the start matters: He-scaled normal weights from a fixed seed (PCG64 draws the
    same numbers everywhere) and a fixed number of full-batch steps keep it deterministic.
    """
    d = x.shape[1]
    rng = np.random.default_rng(seed)
    params = [
        rng.standard_normal((d, hidden)) * np.sqrt(2.0 / d),
        np.zeros(hidden),
        rng.standard_normal((hidden, n_cls)) * np.sqrt(1.0 / hidden),
        np.zeros(n_cls),
    ]
    sample_w = _class_balanced(y, n_cls, weight)
    onehot = np.eye(n_cls)[y]
    m1 = [np.zeros_like(q) for q in params]
    m2 = [np.zeros_like(q) for q in params]
    beta1, beta2 = 0.9, 0.999
    for step in range(1, iters + 1):
        hw, hb, w, b = params
        pre = x @ hw + hb
        h = np.maximum(pre, 0.0)
        g = (probabilities(h, w, b) - onehot) * sample_w[:, None]
        gh = (g @ w.T) * (pre > 0)
        grads = (x.T @ gh + l2 * hw, gh.sum(axis=0), h.T @ g + l2 * w, g.sum(axis=0))
        for i, gr in enumerate(grads):
            m1[i] = beta1 * m1[i] + (1 - beta1) * gr
            m2[i] = beta2 * m2[i] + (1 - beta2) * gr * gr
            params[i] -= lr * (m1[i] / (1 - beta1**step)) / (np.sqrt(m2[i] / (1 - beta2**step)) + 1e-8)
    hw, hb, w, b = params
    return hw, hb, w, b


def probabilities(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, hidden_w: np.ndarray | None = None, hidden_b: np.ndarray | None = None
) -> np.ndarray:
    """Class probabilities of a linear head, or of a hidden-layer one when ``hidden_w``/``hidden_b`` are given."""
    if hidden_w is not None and hidden_b is not None:
        x = np.maximum(x @ hidden_w + hidden_b, 0.0)
    return softmax(x @ w + b)


def validation_report(
    p: np.ndarray,
    y: np.ndarray,
    thresholds: tuple[float, ...] = (0.5, 0.7, 0.8, 0.9, 0.95, 0.96, 0.97, 0.99),
    vetoes: tuple[float, ...] = (0.8, 0.9, 0.95, 0.97, 0.98, 0.99),
) -> str:
    """Recall per category and benign false-positive rate of the head alone, per threshold; then, per
    veto bar, the share of violating lines that P(benign) would veto and of benign lines that it would."""
    lines = ["threshold | " + " | ".join(LABELS[1:]) + " | benign FP"]
    for t in thresholds:
        flagged = p[:, 1:] >= t  # (n, categories)
        recall = [flagged[y == k, k - 1].mean() for k in range(1, len(LABELS))]
        fp = flagged[y == 0].any(axis=1).mean()
        lines.append(f"{t:.2f} | " + " | ".join(f"{r:.3f}" for r in recall) + f" | {fp:.3f}")
    lines.append("veto bar | violating vetoed | benign vetoing")
    for v in vetoes:
        lines.append(f"{v:.2f} | {(p[y > 0, 0] >= v).mean():.3f} | {(p[y == 0, 0] >= v).mean():.3f}")
    return "\n".join(lines)


def rule_verdicts(texts: Sequence[str]) -> list[set[str]]:
    """Categories each line alone opens a verdict in under the keyword rules and the default policy
    (the text-quality benchmark's own reading, :func:`benchmarks.text_quality.verdict_categories`)."""
    from benchmarks.text_quality import verdict_categories
    from moderation.config import load_pipeline
    from moderation.text.lexicon import Lexicon
    from moderation.text.matcher import KeywordMatcher

    match, policy = KeywordMatcher(Lexicon.load()), load_pipeline("default").policy
    return [verdict_categories(text, match, policy) for text in texts]


def veto_report(
    readings: dict[str, np.ndarray],
    y: np.ndarray,
    rules: Sequence[set[str]],
    bars: tuple[float, ...] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98),
) -> str:
    """What each ``intent.veto_score`` bar does to the lines the rules put in a verdict: of the benign
    ones (false verdicts) how many it vetoes, of the violating ones the rules caught how many it loses,
    for each reading of P(benign) (``readings``: name → out-of-fold probabilities, column 0 benign)."""
    false = np.array([y[i] == 0 and bool(rules[i]) for i in range(len(y))])
    caught = np.array([y[i] > 0 and LABELS[y[i]] in rules[i] for i in range(len(y))])
    names = list(readings)
    lines = [
        f"rule verdicts: {false.sum()} benign lines (false), {caught.sum()} violating lines caught",
        "veto bar | " + " | ".join(f"{n}: false vetoed, caught lost" for n in names),
    ]
    for bar in bars:
        cells = [f"{(r[false, 0] >= bar).sum()}, {(r[caught, 0] >= bar).sum()}" for r in readings.values()]
        lines.append(f"{bar:.2f} | " + " | ".join(cells))
    return "\n".join(lines)


def corroboration_report(
    p: np.ndarray,
    y: np.ndarray,
    texts: Sequence[str],
    rules: Sequence[set[str]],
    settings: tuple[tuple[float, float | None], ...] = (
        (0.85, None),
        (0.85, 0.8),
        (0.85, 0.7),
        (0.85, 0.6),
        (0.85, 0.5),
        (0.83, None),
        (0.8, None),
    ),
) -> str:
    """Each line as the default pipeline decides it (rules, the served mean's signals, the veto), for
    pairs of ``intent.min_score`` and ``intent.corroborated_score``: recall per category and the share
    of benign lines in a verdict, out of fold (``p``: the served mean, columns as :data:`LABELS`;
    ``rules``: :func:`rule_verdicts` of ``texts``)."""
    from moderation.config import load_pipeline
    from moderation.messages import ChatMessage
    from moderation.signals.intent import classifiable, intent_signals, rules_reading, vetoed_lines
    from moderation.text.lexicon import Lexicon
    from moderation.text.matcher import KeywordMatcher

    match, pipe = KeywordMatcher(Lexicon.load()), load_pipeline("default")
    base = pipe.intent.model_copy(update={"enabled": True})
    keep = [i for i, t in enumerate(texts) if classifiable(t, base)]
    msgs = [ChatMessage("oof", float(i), "viewer", texts[i]) for i in keep]
    rows = [{label: float(p[i, k]) for k, label in enumerate(LABELS)} for i in keep]
    lines = ["min_score | corroborated_score | " + " | ".join(LABELS[1:]) + " | benign in a verdict"]
    for bar, corroborated in settings:
        cfg = base.model_copy(update={"min_score": bar, "corroborated_score": corroborated})
        sigs = intent_signals(msgs, rows, cfg, rules_reading(match))
        flagged: dict[int, set[str]] = defaultdict(set)
        for sig in sigs:
            if sig.category in LABELS[1:]:
                flagged[int(sig.t)].add(sig.category)
        vetoed = {int(t) for _, _, t in vetoed_lines(sigs, cfg)}
        got = [
            (rules[i] - set(cfg.veto_categories) if i in vetoed else rules[i]) | flagged[i] for i in range(len(texts))
        ]
        recall = [np.mean([LABELS[k] in got[i] for i in np.flatnonzero(y == k)]) for k in range(1, len(LABELS))]
        benign = np.mean([bool(got[i]) for i in np.flatnonzero(y == 0)])
        lines.append(f"{bar:.2f} | {corroborated} | " + " | ".join(f"{r:.3f}" for r in recall) + f" | {benign:.4f}")
    return "\n".join(lines)


def embed(texts: list[str], models: Path) -> np.ndarray:
    """L2-normalised encoder embeddings, 256 lines per call, on one thread (as the worker runs it)."""
    encoder = _numpy_encoder(Registry.load(models).resolve(ENCODER_ID), threads=1)
    texts = [t[:MAX_CHARS].strip() or " " for t in texts]
    return np.concatenate([np.asarray(encoder.encode(texts[i : i + 256])) for i in range(0, len(texts), 256)])


Head = tuple[np.ndarray, ...]
#: A sparse matrix of hashed n-gram features as ``(rows, cols, values, n_rows)``, one entry per
#: distinct bucket of a line (cheap to select rows from; :func:`_csr` makes the matrix for products).
Sparse = tuple[np.ndarray, np.ndarray, np.ndarray, int]


def ngram_features(texts: list[str], dim: int) -> Sparse:
    """Each line's buckets (:func:`moderation.infer.char_ngrams.buckets`), each weighing 1/sqrt(count)."""
    ids = [buckets(t, dim) for t in texts]
    counts = np.array([len(b) for b in ids])
    rows = np.repeat(np.arange(len(texts)), counts)
    cols = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    vals = np.repeat(1.0 / np.sqrt(np.maximum(counts, 1)), counts)
    return rows, cols, vals, len(texts)


def _take(x: Sparse, keep: np.ndarray) -> Sparse:
    """The rows of ``x`` where ``keep`` (a boolean mask over rows) holds, renumbered."""
    rows, cols, vals, _ = x
    new_index = np.cumsum(keep) - 1
    sel = keep[rows]
    return new_index[rows[sel]], cols[sel], vals[sel], int(keep.sum())


def _csr(x: Sparse, dim: int) -> Any:
    """``x`` as a SciPy CSR matrix of ``dim`` columns, for the products of training and scoring."""
    from scipy.sparse import csr_matrix

    rows, cols, vals, n = x
    return csr_matrix((vals, (rows, cols)), shape=(n, dim))


def train_ngram(
    x: Sparse, y: np.ndarray, n_cls: int, dim: int, l2: float, iters: int, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The n-gram half: the class-balanced, L2-penalised softmax regression of :func:`train` over
    sparse features, minimised by L-BFGS to its optimum (``iters`` bounds the steps; 70-250 reach the
    gradient tolerance, more the smaller the penalty). The problem is strictly convex, so the head does not depend on
    where a step count happened to stop: plain gradient descent at a fixed step count did, and
    dropping six of 6,283 hand-written lines moved its out-of-fold benign rate at 0.5 from 17 to 24 %."""
    from scipy.optimize import minimize

    features = _csr(x, dim)
    sample_w = _class_balanced(y, n_cls, weight)
    onehot = np.eye(n_cls)[y]
    k = dim * n_cls

    def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:k].reshape(dim, n_cls), theta[k:]
        z = features @ w + b
        z -= z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -float((sample_w * (onehot * log_p).sum(axis=1)).sum()) + 0.5 * l2 * float((w * w).sum())
        g = (np.exp(log_p) - onehot) * sample_w[:, None]
        grad_w = np.asarray(features.T @ g) + l2 * w
        return loss, np.concatenate([grad_w.ravel(), g.sum(axis=0)])

    res = minimize(
        loss_and_grad, np.zeros(k + n_cls), jac=True, method="L-BFGS-B", options={"maxiter": iters, "gtol": 1e-7}
    )
    return res.x[:k].reshape(dim, n_cls), res.x[k:]


def ngram_probabilities(x: Sparse, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return softmax(_csr(x, w.shape[0]) @ w + b)


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, args: argparse.Namespace) -> Head:
    """``(w, b)`` of a linear head, or ``(w, b, hidden_w, hidden_b)`` when ``args.hidden`` is set."""
    if args.hidden:
        hw, hb, w, b = train_mlp(x, y, len(LABELS), args.hidden, args.l2, args.iters, args.lr, weight)
        return w, b, hw, hb
    return train(x, y, len(LABELS), args.l2, args.iters, args.lr, weight)


def _rounded(a: np.ndarray) -> list[Any]:
    """Nested lists at 5 significant digits: enough for the probabilities, and a stable file."""
    return [_rounded(r) for r in a] if a.ndim > 1 else [float(f"{v:.5g}") for v in a]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=HIDDEN, help="hidden units (0: a linear head)")
    ap.add_argument("--l2", type=float, default=None, help="L2 penalty on the weights")
    ap.add_argument("--iters", type=int, default=None, help="full-batch steps")
    ap.add_argument("--lr", type=float, default=None, help="step size (gradient descent; Adam with --hidden)")
    ap.add_argument("--hand-weight", type=float, default=HAND_WEIGHT, help="weight of a hand-written line")
    ap.add_argument(
        "--validate",
        action="store_true",
        help=f"{FOLDS}-fold cross-validation over the hand-written lines; writes nothing",
    )
    ap.add_argument(
        "--folds",
        choices=("set", "line"),
        default="set",
        help="--validate folds: one per hand-written set (a line's writer is never seen in training: what "
        "a new room's chat meets), or five by a hash of the line (writers shared across folds, which flatters "
        "the n-gram half: it learns a writer's words)",
    )
    ap.add_argument("--ngram-dim", type=int, default=NGRAM_DIM, help="n-gram buckets (0: encoder head only)")
    ap.add_argument(
        "--with",
        dest="candidates",
        action="append",
        default=[],
        metavar="FILE",
        help="--validate: a candidate set under benchmarks/data trained in every fold and never scored, so the "
        "report says what adding it would do to the other sets (repeatable)",
    )
    ap.add_argument(
        "--dump",
        type=Path,
        default=None,
        metavar="NPZ",
        help="--validate: also write the out-of-fold probabilities (mean, each head), labels, texts, set names",
    )
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    args = ap.parse_args()
    defaults = MLP_DEFAULTS if args.hidden else LINEAR_DEFAULTS
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)

    if args.candidates and not args.validate:
        ap.error("--with is a --validate option (to train on a set, add it to HAND_SETS)")
    for name in args.candidates:
        if name in HAND_SETS or not (DATA / name).is_file():
            ap.error(f"--with {name}: not a set under {DATA} outside HAND_SETS")
    corpus, hand_sets = load_rows(), load_hand_sets()
    extra = [(text, label) for text, label, _ in load_hand_sets(tuple(args.candidates))] if args.candidates else []
    hand = [(text, label) for text, label, _ in hand_sets]
    n_base = len(corpus)
    corpus = corpus + extra  # candidates train in every fold, like the corpus, and are never scored
    rows = corpus + hand
    x = embed([t for t, _ in rows], args.models).astype(np.float64)
    y = np.array([LABELS.index(label) for _, label in rows])
    weight = np.array([1.0] * n_base + [args.hand_weight] * (len(rows) - n_base))
    dim, ng = args.ngram_dim, NGRAM_DEFAULTS
    xg = ngram_features([t for t, _ in rows], dim) if dim else None
    if args.validate:
        if args.folds == "set":
            folds = np.array([-1] * len(corpus) + [HAND_SETS.index(name) for _, _, name in hand_sets])
        else:
            folds = np.array([-1] * len(corpus) + [fold(t) for t, _ in hand])
        p = np.zeros((len(rows), len(LABELS)))
        pg = np.zeros((len(rows), len(LABELS)))
        for k in sorted(set(folds.tolist()) - {-1}):
            keep, out = folds != k, folds == k
            p[out] = probabilities(x[out], *fit(x[keep], y[keep], weight[keep], args))
            if xg is not None:
                wg, bg = train_ngram(_take(xg, keep), y[keep], len(LABELS), dim, **ng, weight=weight[keep])
                pg[out] = ngram_probabilities(_take(xg, out), wg, bg)
        hand_part = slice(len(corpus), None)
        how = f"one fold per set ({len(set(folds.tolist())) - 1} sets)" if args.folds == "set" else f"{FOLDS} folds"
        print(f"cross-validation over {len(hand)} hand-written lines, {how} (out of fold)")
        print("encoder head alone:\n" + validation_report(p[hand_part], y[hand_part]))
        if xg is not None:
            both = (p[hand_part] + pg[hand_part]) / 2
            print("mean of the encoder head and the n-gram head (what is served):")
            print(validation_report(both, y[hand_part], thresholds=(0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)))
            print("the veto on the lines the keyword rules put in a verdict (intent.veto_score, intent.veto_reading):")
            readings = {"mean": both, "encoder": p[hand_part]}
            rules = rule_verdicts([t for t, _ in hand])
            print(veto_report(readings, y[hand_part], rules))
            print("each line as the default pipeline decides it (intent.min_score, intent.corroborated_score):")
            print(corroboration_report(both, y[hand_part], [t for t, _ in hand], rules))
            if args.dump is not None:
                np.savez_compressed(
                    args.dump,
                    p=both,
                    encoder=p[hand_part],
                    ngram=pg[hand_part],
                    y=y[hand_part],
                    text=np.array([t for t, _ in hand]),
                    set=np.array([name for _, _, name in hand_sets]),
                    labels=np.array(LABELS),
                )
        return
    head_arrays = fit(x, y, weight, args)
    print(
        f"corpus lines {len(corpus)}, hand-written {len(hand)}; "
        f"training accuracy {np.mean(probabilities(x, *head_arrays).argmax(1) == y):.3f}"
    )

    w, b = head_arrays[:2]
    head: dict[str, Any] = {
        "encoder": ENCODER_ID,
        "labels": list(LABELS),
        "trained_on": "benchmarks/data text_{benign,violating}.jsonl, split=dev, evasion not in "
        + ",".join(sorted(SPELLING))
        + f"; {', '.join(HAND_SETS)} (all, weight {args.hand_weight:g})",
        "lines": len(rows),
        "l2": args.l2,
        "iters": args.iters,
    }
    if args.hidden:
        head["hidden"] = {"weights": _rounded(head_arrays[2]), "bias": _rounded(head_arrays[3])}
    head.update(weights=_rounded(w), bias=_rounded(b))
    if xg is not None:
        wg, bg = train_ngram(xg, y, len(LABELS), dim, **ng, weight=weight)
        head["ngram"] = NgramHead.to_json(wg, bg)
        agree = np.mean(((probabilities(x, *head_arrays) + ngram_probabilities(xg, wg, bg)) / 2).argmax(1) == y)
        print(f"with the n-gram head ({dim} buckets): training accuracy {agree:.3f}")
    out = args.models / HEAD_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(head, separators=(",", ":")) + "\n", encoding="utf-8")
    blob = out.read_bytes()
    shape = f"512 → {args.hidden} → {len(LABELS)}" if args.hidden else f"512 → {len(LABELS)}"
    manifest = MANIFEST.format(
        id=HEAD_ID,
        kind=("softmax over one ReLU hidden layer" if args.hidden else "multinomial logistic regression")
        + ("; averaged with a softmax regression over hashed character n-grams" if xg is not None else ""),
        shape=shape,
        path=HEAD_PATH.as_posix(),
        sha=hashlib.sha256(blob).hexdigest(),
        size=len(blob),
        n=len(LABELS),
        labels=", ".join(LABELS),
        cmap="\n".join(f"  {c}: {c}" for c in LABELS if c != BENIGN),
    )
    (args.models / f"{HEAD_ID}.yaml").write_text(manifest, encoding="utf-8")
    print(f"wrote {out} ({len(blob)} bytes) and {args.models / (HEAD_ID + '.yaml')}")


if __name__ == "__main__":
    main()
