"""The hand-written intent training sets: labelled like the other chat sets, aimed at wording without
lexicon terms, and disjoint from every set the intent benchmark measures on."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "benchmarks" / "data"
TRAIN = "text_intent_train.jsonl"
CATEGORIES = {"gambling", "tipping_inducement", "vulgar"}
#: Character-bigram Jaccard similarity at or above which two lines count as the same line reworded.
NEAR = 0.6


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def _bigrams(text: str) -> frozenset[str]:
    s = _norm(text)
    return frozenset(s[i : i + 2] for i in range(len(s) - 1)) or frozenset({s})


def _near(a: frozenset[str], b: frozenset[str]) -> bool:
    return len(a & b) >= NEAR * len(a | b)


def test_labels_and_shape() -> None:
    rows = _rows(TRAIN)
    bad = [r for r in rows if "category" in r]
    benign = [r for r in rows if "category" not in r]
    assert {r["split"] for r in rows} == {"intent_train"}
    assert all(set(r) == {"text", "category", "evasion", "split"} for r in bad)
    assert all(set(r) == {"text", "context", "split"} for r in benign)
    per_cat = Counter(r["category"] for r in bad)
    assert set(per_cat) == CATEGORIES and min(per_cat.values()) >= 140
    assert len(benign) >= 500
    # the point of the set: most violating lines are implicit or plain wording, in every category
    for cat in CATEGORIES:
        ev = Counter(r["evasion"] for r in bad if r["category"] == cat)
        assert ev["implicit"] >= 50 and ev["implicit"] + ev["plain"] >= per_cat[cat] / 2, cat
    contexts = Counter(r["context"] for r in benign)
    assert {"news", "regulatory", "counter", "gifts", "banter"} <= set(contexts)
    assert contexts["news"] + contexts["regulatory"] >= 60 and contexts["counter"] >= 40
    assert all(r["text"].strip() == r["text"] and r["text"] for r in rows)


def test_no_line_repeats_within_the_set() -> None:
    norms = [_norm(r["text"]) for r in _rows(TRAIN)]
    assert len(set(norms)) == len(norms)


def _trainer():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import train_intent
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return train_intent


def test_no_line_equals_or_nearly_equals_a_benchmark_line() -> None:
    """Training on a reworded copy of a measured line would make the benchmark measure memory."""
    mine = [(r["text"], _bigrams(r["text"])) for r in _rows(TRAIN)]
    for path in sorted(DATA.glob("*.jsonl")):
        if path.name == TRAIN:
            continue
        theirs = [_bigrams(r["text"]) for r in _rows(path.name)]
        close = [text for text, g in mine if any(_near(g, o) for o in theirs)]
        assert not close, (path.name, close[:5])


def test_measured_sets_are_disjoint_from_what_the_head_trains_on() -> None:
    """The sets the intent benchmark measures on share no line, nor a reworded one, with the lines the
    head trains on (the corpus held-out split is kept apart by its split label)."""
    train_intent = _trainer()
    trained = [_bigrams(t) for t, _ in train_intent.load_hand()]
    measured = train_intent.measured_sets()
    assert "text_fresh_v3.jsonl" in measured and not set(measured) & set(train_intent.HAND_SETS)
    for name in measured:
        close = [r["text"] for r in _rows(name) if any(_near(_bigrams(r["text"]), o) for o in trained)]
        assert not close, (name, close[:5])


def test_near_check_catches_a_reworded_line() -> None:
    """The similarity bar is tight enough to see a one-character edit and loose enough to pass topic words."""
    assert _near(_bigrams("今晚跟着老师下注，稳赚"), _bigrams("今晚跟着老师下注,稳赚!"))
    assert _near(_bigrams("主播今天唱得真好听"), _bigrams("主播今天唱得真好听啊"))
    assert not _near(_bigrams("主播今天唱得真好听"), _bigrams("主播今天的菜做得真香"))


def test_trainer_reads_every_hand_set_and_its_folds_are_balanced() -> None:
    train_intent = _trainer()
    hand = train_intent.load_hand()
    assert train_intent.HAND_SETS[0] == TRAIN
    every = sum(len(_rows(name)) for name in train_intent.HAND_SETS)
    assert 0.95 * every <= len(hand) <= every  # a few lines near a measured one are left out
    assert {label for _, label in hand} == set(train_intent.LABELS)
    sizes = Counter(train_intent.fold(t) for t, _ in hand)
    assert set(sizes) == set(range(train_intent.FOLDS))
    assert all(0.12 * len(hand) < n < 0.28 * len(hand) for n in sizes.values())
