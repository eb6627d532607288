"""The fourth hand-written held-out set is labelled like the third, covers what it claims, shares
no line with the other sets and is reported by the text quality benchmark."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "benchmarks" / "data"
NAME = "text_fresh_v4.jsonl"


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _bigrams(text: str) -> set[str]:
    s = re.sub(r"\s+", "", text.lower())
    return {s[i : i + 2] for i in range(len(s) - 1)} or {s}


def test_fresh_v4_set_is_labelled() -> None:
    rows = _rows(NAME)
    bad = [r for r in rows if "category" in r]
    benign = [r for r in rows if "category" not in r]
    assert len(bad) >= 190 and len(benign) >= 290
    assert all(set(r) == {"text", "category", "evasion", "split"} for r in bad)
    per_cat = Counter(r["category"] for r in bad)
    assert set(per_cat) == {"vulgar", "gambling", "tipping_inducement"} and min(per_cat.values()) >= 60
    assert {r["split"] for r in rows} == {"fresh4"}
    evasions = Counter(r["evasion"] for r in bad)
    classes = {"plain", "slang", "implicit", "homophone", "split", "pinyin", "traditional", "emoji", "mixed"}
    assert set(evasions) == classes
    assert evasions["implicit"] >= 35
    assert all(set(r) == {"text", "context", "split"} for r in benign)
    contexts = Counter(r["context"] for r in benign)
    wanted = {"gaming", "cooking", "sports", "music", "shopping", "news", "regulatory", "counter", "daily", "reviews"}
    assert set(contexts) == wanted
    assert contexts["news"] + contexts["regulatory"] >= 40 and contexts["counter"] >= 35
    assert len({r["text"] for r in rows}) == len(rows)


def test_fresh_v4_set_is_new() -> None:
    """No line repeats or nearly repeats (character-bigram Jaccard ≥ 0.6) a line of another corpus,
    so its numbers measure chat that no other set already covers."""
    mine = [_bigrams(r["text"]) for r in _rows(NAME)]
    for p in sorted(DATA.glob("text_*.jsonl")):
        if p.name == NAME:
            continue
        for other in (_bigrams(r["text"]) for r in _rows(p.name)):
            close = [m for m in mine if len(m & other) >= 0.6 * len(m | other)]
            assert not close, p.name


def test_fresh_v4_is_a_benchmark_split() -> None:
    from benchmarks.text_quality import FRESH_SETS, intent_sets

    name, _seed, note = FRESH_SETS["fresh4"]
    assert name == NAME and (DATA / name).is_file() and "held out" in note
    assert len({seed for _n, seed, _note in FRESH_SETS.values()}) == len(FRESH_SETS)
    assert any({r.get("split") for r in rows} == {"fresh4"} for rows in intent_sets(smoke=False).values())
