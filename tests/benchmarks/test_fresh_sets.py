"""The hand-written held-out sets (fresh3 to fresh7) and the hand-written development sets (dev6 to dev9)
are labelled alike, cover what they claim, share no line with the other sets and are reported by the
text quality benchmark."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from near_dup import NearIndex
from trainer import train_intent

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "benchmarks" / "data"
CLASSES = {"plain", "slang", "implicit", "homophone", "split", "pinyin", "traditional", "emoji", "mixed"}
CONTEXTS = {"gaming", "cooking", "sports", "music", "shopping", "news", "regulatory", "counter", "daily", "reviews"}
#: split → (file, least violating, least benign, least per category, least implicit, least counter-speech)
SETS = {
    "fresh3": ("text_fresh_v3.jsonl", 180, 280, 55, 30, 30),
    "fresh4": ("text_fresh_v4.jsonl", 190, 290, 60, 35, 35),
    "fresh5": ("text_fresh_v5.jsonl", 190, 290, 60, 35, 35),
    "fresh6": ("text_fresh_v6.jsonl", 230, 390, 70, 40, 40),
    "dev6": ("text_dev_v6.jsonl", 290, 690, 90, 50, 40),
    "fresh7": ("text_fresh_v7.jsonl", 290, 610, 90, 60, 40),
    "dev7": ("text_dev_v7.jsonl", 290, 890, 90, 50, 40),
    "dev8": ("text_dev_v8.jsonl", 140, 1190, 45, 20, 40),
    "dev9": ("text_dev_v9.jsonl", 290, 690, 95, 35, 40),
}
#: development sets: their misses are read while tuning, so they must not claim to be held out
DEV_SETS = {"dev6", "dev7", "dev8", "dev9"}
#: sets that mirror everyday chat, where most lines are a few characters long, so their misses
#: show the faults real traffic meets rather than those of long, crafted sentences
SHORT_CHAT_SETS = DEV_SETS | {"fresh7"}
#: least share of such a set's benign lines that are 2–8 characters long
SHORT_SHARE = 0.4
#: sets written to a stricter short-line share than the default
SHORT_SHARE_BY_SET = {"dev7": 0.45, "dev8": 0.45, "dev9": 0.45}
#: sets written before the near-duplicate rule: they are held to "no exact copy" only
EXACT_ONLY = {"fresh3"}
#: sets the text quality benchmark does not report yet; the mark is strict, so wiring one in
#: makes its xfail an error until it is taken off this list
NOT_YET_REPORTED: set[str] = set()


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _bigrams(text: str) -> set[str]:
    s = re.sub(r"\s+", "", text.lower())
    return {s[i : i + 2] for i in range(len(s) - 1)} or {s}


@pytest.mark.parametrize("split", sorted(SETS))
def test_set_is_labelled(split: str) -> None:
    name, n_bad, n_benign, per_cat_min, implicit_min, counter_min = SETS[split]
    rows = _rows(name)
    bad = [r for r in rows if "category" in r]
    benign = [r for r in rows if "category" not in r]
    assert len(bad) >= n_bad and len(benign) >= n_benign
    assert all(set(r) == {"text", "category", "evasion", "split"} for r in bad)
    per_cat = Counter(r["category"] for r in bad)
    assert set(per_cat) == {"vulgar", "gambling", "tipping_inducement"} and min(per_cat.values()) >= per_cat_min
    assert {r["split"] for r in rows} == {split}
    evasions = Counter(r["evasion"] for r in bad)
    assert set(evasions) == CLASSES
    assert evasions["implicit"] >= implicit_min
    assert all(set(r) == {"text", "context", "split"} for r in benign)
    contexts = Counter(r["context"] for r in benign)
    assert set(contexts) == CONTEXTS
    assert contexts["news"] + contexts["regulatory"] >= 40 and contexts["counter"] >= counter_min
    assert len({r["text"] for r in rows}) == len(rows)


@pytest.mark.parametrize("split", sorted(SHORT_CHAT_SETS))
def test_set_is_mostly_short_chat(split: str) -> None:
    benign = [r["text"] for r in _rows(SETS[split][0]) if "category" not in r]
    short = [t for t in benign if 2 <= len(t) <= 8]
    assert len(short) >= SHORT_SHARE_BY_SET.get(split, SHORT_SHARE) * len(benign)
    assert all(2 <= len(r["text"]) <= 80 for r in _rows(SETS[split][0]))


@pytest.mark.parametrize("split", sorted(SETS))
def test_set_is_new(split: str) -> None:
    """No line is copied from another corpus, and (past fresh3) none nearly repeats one either
    (character-bigram Jaccard ≥ 0.6), so a set's numbers measure chat no other set already covers."""
    _assert_new(SETS[split][0], near=split not in EXACT_ONLY)


def _assert_new(name: str, *, near: bool = True) -> None:
    rows = _rows(name)
    texts = {r["text"] for r in rows}
    mine = [_bigrams(r["text"]) for r in rows]
    for p in sorted(DATA.glob("text_*.jsonl")):
        if p.name == name:
            continue
        others = _rows(p.name)
        assert not texts & {r["text"] for r in others}, p.name
        if not near:
            continue
        index = NearIndex((_bigrams(r["text"]) for r in others), 0.6)
        assert not any(index.has_near(m) for m in mine), p.name


@pytest.mark.parametrize(
    "split",
    [
        pytest.param(s, marks=pytest.mark.xfail(strict=True, reason="not reported by text_quality yet"))
        if s in NOT_YET_REPORTED
        else s
        for s in sorted(SETS)
    ],
)
def test_set_is_a_benchmark_split(split: str) -> None:
    from benchmarks.text_quality import FRESH_SETS, intent_sets

    name, _seed, note = FRESH_SETS[split]
    assert name == SETS[split][0] and (DATA / name).is_file()
    # a development set's misses are read: its note must not claim it is held out
    assert ("development set, not held out" in note) if split in DEV_SETS else ("held out" in note)
    assert len({seed for _n, seed, _note in FRESH_SETS.values()}) == len(FRESH_SETS)
    # the intent section measures every set its head does not train on, and none that it does
    reported = any({r.get("split") for r in rows} == {split} for rows in intent_sets(smoke=False).values())
    assert reported == (name not in train_intent().HAND_SETS)


#: sets with their own room contexts and leetspeak (but for dev12 to dev15) and obfuscated URLs (but for
#: fresh9, fresh10 and dev13 to dev15) among the evasions, checked apart: split → (file, least violating, least benign,
#: least per category, least contexts)
ROOM_SETS = {
    "dev10": ("text_dev_v10.jsonl", 300, 500, 100, 10),
    "dev11": ("text_dev_v11.jsonl", 250, 450, 80, 15),
    "dev12": ("text_dev_v12.jsonl", 300, 470, 95, 15),
    "dev13": ("text_dev_v13.jsonl", 190, 540, 60, 15),
    "dev14": ("text_dev_v14.jsonl", 300, 500, 95, 15),
    "dev15": ("text_dev_v15.jsonl", 290, 490, 95, 15),
    "fresh8": ("text_fresh_v8.jsonl", 300, 450, 100, 12),
    "fresh9": ("text_fresh_v9.jsonl", 275, 440, 85, 12),
    "fresh10": ("text_fresh_v10.jsonl", 270, 390, 80, 12),
}
#: room sets whose evasion classes differ from CLASSES + leet + url
ROOM_CLASSES = {
    "fresh9": CLASSES | {"leet"},
    "dev12": CLASSES | {"url"},
    "dev13": CLASSES,
    "dev14": CLASSES,
    "dev15": CLASSES,
    "fresh10": CLASSES,
}


@pytest.mark.parametrize("split", sorted(ROOM_SETS))
def test_room_set_is_labelled_new_and_reported(split: str) -> None:
    """Every category and evasion class (leetspeak and obfuscated URLs among them), room contexts for
    the benign lines, no line copied or nearly repeated from another set, and reported by the
    benchmark and its intent section as held out or as a development set, as its note says."""
    from benchmarks.text_quality import FRESH_SETS, HELD_OUT, intent_sets

    name, n_bad, n_benign, per_cat, n_contexts = ROOM_SETS[split]
    rows = _rows(name)
    bad = [r for r in rows if "category" in r]
    benign = [r for r in rows if "category" not in r]
    assert len(bad) >= n_bad and len(benign) >= n_benign and {r["split"] for r in rows} == {split}
    assert all(set(r) == {"text", "category", "evasion", "split"} for r in bad)
    assert all(set(r) == {"text", "context", "split"} for r in benign)
    assert min(Counter(r["category"] for r in bad).values()) >= per_cat
    assert set(Counter(r["evasion"] for r in bad)) == ROOM_CLASSES.get(split, CLASSES | {"leet", "url"})
    assert len({r["context"] for r in benign}) >= n_contexts
    assert len({r["text"] for r in rows}) == len(rows)
    _assert_new(name)
    file, _seed, note = FRESH_SETS[split]
    assert file == name
    if split in HELD_OUT:
        assert "held out" in note and "not held out" not in note
    else:
        assert "development set, not held out" in note
    assert any({r.get("split") for r in rows} == {split} for rows in intent_sets(smoke=False).values())
    assert name not in train_intent().HAND_SETS
