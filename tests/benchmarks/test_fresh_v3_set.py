"""The third hand-written held-out set is labelled like the second, covers what it claims and is
reported by the text quality benchmark."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "benchmarks" / "data"


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_fresh_v3_set_is_labelled() -> None:
    rows = _rows("text_fresh_v3.jsonl")
    bad = [r for r in rows if "category" in r]
    benign = [r for r in rows if "category" not in r]
    assert len(bad) >= 180 and len(benign) >= 280
    per_cat = Counter(r["category"] for r in bad)
    assert set(per_cat) == {"vulgar", "gambling", "tipping_inducement"} and min(per_cat.values()) >= 55
    assert {r["split"] for r in rows} == {"fresh3"}
    evasions = Counter(r["evasion"] for r in bad)
    classes = {"plain", "slang", "implicit", "homophone", "split", "pinyin", "traditional", "emoji", "mixed"}
    assert set(evasions) == classes
    assert evasions["implicit"] >= 30
    assert all(set(r) == {"text", "context", "split"} for r in benign)
    contexts = Counter(r["context"] for r in benign)
    wanted = {"gaming", "cooking", "sports", "music", "shopping", "news", "regulatory", "counter", "daily", "reviews"}
    assert set(contexts) == wanted
    assert contexts["news"] + contexts["regulatory"] >= 40 and contexts["counter"] >= 30
    assert len({r["text"] for r in rows}) == len(rows)


def test_fresh_v3_set_is_new() -> None:
    """No line is copied from another corpus, so its numbers are not the other sets' numbers again."""
    mine = {r["text"] for r in _rows("text_fresh_v3.jsonl")}
    for p in DATA.glob("text_*.jsonl"):
        if p.name != "text_fresh_v3.jsonl":
            assert not mine & {r["text"] for r in _rows(p.name)}, p.name


def test_fresh_v3_is_a_benchmark_split() -> None:
    from benchmarks.text_quality import FRESH_SETS

    name, _seed, note = FRESH_SETS["fresh3"]
    assert name == "text_fresh_v3.jsonl" and (DATA / name).is_file() and "held out" in note
    assert len({seed for _n, seed, _note in FRESH_SETS.values()}) == len(FRESH_SETS)
