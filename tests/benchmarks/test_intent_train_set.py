"""The hand-written intent training sets: labelled like the other chat sets, aimed at wording without
lexicon terms, and disjoint from every set the intent benchmark measures on."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from near_dup import NearIndex, near
from trainer import train_intent as _trainer

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "benchmarks" / "data"
TRAIN = "text_intent_train.jsonl"
#: The second hand-written training set: more implicit wording, slang and scripts, and more hard benign lines.
TRAIN2 = "text_intent_train2.jsonl"
#: The third: everyday short viewer chat (greetings, family, places, requests, shopping, reviews) that the head
#: scored as violating, and more violating lines worded without standard banned terms.
TRAIN3 = "text_intent_train3.jsonl"
#: The fourth: implicit and in-group wording from many kinds of speaker (PK begging, betting "teachers", private-game
#: organisers, sellers by innuendo, regional and mixed scripts) against hard benign near misses and short chat.
TRAIN4 = "text_intent_train4.jsonl"
#: The fifth: weighted toward vulgar wording (innuendo, solicitation, porn sales, private-show offers) in regional
#: slang, Traditional script and Chinese-English, against benign lines sharing its words (fitness, swimwear, dating,
#: medical, art, pets, cooking) and short chat.
TRAIN5 = "text_intent_train5.jsonl"
#: The sixth: weighted toward tipping pressure that names no gift (PK countdowns, list pushes, sob stories, guild
#: threats, fan-club lights), betting recruitment and vulgar lines in every spelling class, against hard benign near
#: misses and short chat, some in unusual spellings.
TRAIN6 = "text_intent_train6.jsonl"
#: The seventh: six everyday domains written from both sides (fan charts, dating, crude but friendly speech, games
#: for points, personal histories and opinions, body and fitness), so the head learns what makes a line violating
#: rather than its topic words.
TRAIN7 = "text_intent_train7.jsonl"
#: The eighth to the eleventh, each written apart from the others, the lexicons and every measured set, and each
#: weighted toward one class against its own hard near misses: tipping pressure that names no gift or price
#: (against thanks for gifts given, viewers declining, fan-chart pushes, live-shop countdowns); vulgar innuendo,
#: solicitation and abuse (against fitness, swimwear, sexual health, anatomy, friendly swearing); gambling worded
#: around plans, teachers, rebates and cash-out games (against ranked games, family mahjong, lottery news, stocks);
#: and chat from English-speaking and bilingual rooms (leetspeak, spaced letters, abbreviations).
TRAIN8 = "text_intent_train8.jsonl"
TRAIN9 = "text_intent_train9.jsonl"
TRAIN10 = "text_intent_train10.jsonl"
TRAIN11 = "text_intent_train11.jsonl"
#: The twelfth to the fifteenth, written apart in the same way: Hong Kong, Taiwan, Macau and Malaysian rooms and
#: mainland regional voices; short chat (most lines 2-14 characters, the benign ones looking spammy or crude); the
#: chat of ten kinds of room (live commerce, games, outdoor, music, dating, dance, ASMR, sports, teaching, late-night
#: talk), each from both sides; and spelling: violations spelled to get past filters against ordinary chat in the
#: same spellings, so the head learns the meaning rather than the spelling.
TRAIN12 = "text_intent_train12.jsonl"
TRAIN13 = "text_intent_train13.jsonl"
TRAIN14 = "text_intent_train14.jsonl"
TRAIN15 = "text_intent_train15.jsonl"
#: The sixteenth: asks for free engagement (follow, like, comment, share) from streamers and their moderators, benign,
#: against asks that need money (gifts, paid badges and clubs, recharges), often chained to a free ask.
TRAIN16 = "text_intent_train16.jsonl"
#: Spelling classes: most violating lines of the spelling set are spelled, not worded, around a term.
SPELLED = ("pinyin", "initialism", "homophone", "split", "traditional", "emoji", "mixed")
#: Wording classes: most violating lines of a training set are worded, not spelled, around a term.
WORDED = ("implicit", "plain")


class Shape(NamedTuple):
    """What a training set must hold."""

    split: str  # its split label
    per_category: int  # least violating lines per category
    benign: int  # least benign lines
    worded: tuple[str, ...] = WORDED  # evasion classes that make up half of each category
    news: int = 60  # least benign news and regulatory lines together
    counter: int = 40  # least benign counter-speech lines
    implicit: int = 50  # least implicit lines per category


#: Each training set and its shape. The sixth spells more (slang and regional wording count as wording there)
#: and is weighted toward tipping pressure rather than news.
SETS = {
    TRAIN: Shape("intent_train", 140, 500),
    TRAIN2: Shape("intent_train2", 180, 550),
    TRAIN3: Shape("intent_train3", 150, 1300),
    TRAIN4: Shape("intent_train4", 180, 800),
    TRAIN5: Shape("intent_train5", 150, 750),
    TRAIN6: Shape("intent_train6", 200, 550, (*WORDED, "slang", "regional"), news=25),
    TRAIN7: Shape("intent_train7", 110, 500, news=25, implicit=30),
    TRAIN8: Shape("intent_train8", 140, 600, news=30, counter=45, implicit=40),
    TRAIN9: Shape("intent_train9", 140, 600, news=30, counter=45, implicit=40),
    TRAIN10: Shape("intent_train10", 130, 600, news=30, counter=45, implicit=40),
    TRAIN11: Shape("intent_train11", 200, 600, (*WORDED, "mixed"), news=30, counter=45, implicit=40),
    TRAIN12: Shape("intent_train12", 200, 800, (*WORDED, "regional", "mixed"), news=30, counter=45, implicit=40),
    TRAIN13: Shape("intent_train13", 140, 600, news=30, counter=45, implicit=40),
    TRAIN14: Shape("intent_train14", 160, 700, news=30, counter=45, implicit=40),
    TRAIN15: Shape("intent_train15", 190, 600, SPELLED, news=30, counter=45, implicit=40),
    TRAIN16: Shape("intent_train16", 40, 600, news=25, counter=25, implicit=12),
}
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
    return near(a, b, NEAR)


@pytest.mark.parametrize("name", sorted(SETS))
def test_labels_and_shape(name: str) -> None:
    split, per_category, benign_lines, worded, news, counter, implicit = SETS[name]
    rows = _rows(name)
    bad = [r for r in rows if "category" in r]
    benign = [r for r in rows if "category" not in r]
    assert {r["split"] for r in rows} == {split}
    assert all(set(r) == {"text", "category", "evasion", "split"} for r in bad)
    assert all(set(r) == {"text", "context", "split"} for r in benign)
    per_cat = Counter(r["category"] for r in bad)
    assert set(per_cat) == CATEGORIES and min(per_cat.values()) >= per_category
    assert len(benign) >= benign_lines
    # the point of the set: most violating lines are implicit or plain wording, in every category
    for cat in CATEGORIES:
        ev = Counter(r["evasion"] for r in bad if r["category"] == cat)
        assert ev["implicit"] >= implicit and sum(ev[c] for c in worded) >= per_cat[cat] / 2, cat
    contexts = Counter(r["context"] for r in benign)
    assert {"news", "regulatory", "counter", "gifts", "banter"} <= set(contexts)
    assert contexts["news"] + contexts["regulatory"] >= news and contexts["counter"] >= counter
    assert all(r["text"].strip() == r["text"] and r["text"] for r in rows)


@pytest.mark.parametrize("name", sorted(SETS))
def test_no_line_repeats_within_the_set(name: str) -> None:
    norms = [_norm(r["text"]) for r in _rows(name)]
    assert len(set(norms)) == len(norms)


@pytest.mark.parametrize("name", sorted(SETS))
def test_no_line_equals_or_nearly_equals_a_benchmark_line(name: str) -> None:
    """Training on a reworded copy of a measured line would make the benchmark measure memory; the
    training sets are also disjoint from each other, so the second adds wording rather than repeats."""
    mine = [(r["text"], _bigrams(r["text"])) for r in _rows(name)]
    for path in sorted(DATA.glob("*.jsonl")):
        if path.name == name:
            continue
        theirs = NearIndex((_bigrams(r["text"]) for r in _rows(path.name)), NEAR)
        close = [text for text, g in mine if theirs.has_near(g)]
        assert not close, (path.name, close[:5])


def test_measured_sets_are_disjoint_from_what_the_head_trains_on() -> None:
    """The sets the intent benchmark measures on share no line, nor a reworded one, with the lines the
    head trains on (the corpus held-out split is kept apart by its split label)."""
    train_intent = _trainer()
    trained = NearIndex((_bigrams(t) for t, _ in train_intent.load_hand()), NEAR)
    measured = train_intent.measured_sets()
    newer = [p.name for p in DATA.glob("text_fresh_v*.jsonl") if int(p.stem.removeprefix("text_fresh_v")) >= 3]
    assert "text_fresh_v3.jsonl" in newer and set(newer) <= set(measured)
    assert not set(measured) & set(train_intent.HAND_SETS)
    for name in measured:
        close = [r["text"] for r in _rows(name) if trained.has_near(_bigrams(r["text"]))]
        assert not close, (name, close[:5])


def test_near_check_catches_a_reworded_line() -> None:
    """The similarity bar is tight enough to see a one-character edit and loose enough to pass topic words."""
    assert _near(_bigrams("今晚跟着老师下注，稳赚"), _bigrams("今晚跟着老师下注,稳赚!"))
    assert _near(_bigrams("主播今天唱得真好听"), _bigrams("主播今天唱得真好听啊"))
    assert not _near(_bigrams("主播今天唱得真好听"), _bigrams("主播今天的菜做得真香"))


def test_the_index_answers_as_the_pairwise_test() -> None:
    """The inverted index decides from shared-bigram counts; on real lines and one-edit rewordings it
    must agree with comparing every pair."""
    lines = [r["text"] for r in _rows(TRAIN)[:300]]
    edits = [t[:-1] + "啊" for t in lines[::7]] + [t + "！！" for t in lines[1::11]] + ["完全无关的一句话", "好"]
    grams = [_bigrams(t) for t in lines]
    index = NearIndex(grams, NEAR)
    for q in (_bigrams(t) for t in edits + lines[::13]):
        assert index.has_near(q) == any(_near(q, g) for g in grams)


def test_trainer_reads_every_hand_set_and_its_folds_are_balanced() -> None:
    train_intent = _trainer()
    hand = train_intent.load_hand()
    assert train_intent.HAND_SETS[:2] == (TRAIN, TRAIN2)
    every = sum(len(_rows(name)) for name in train_intent.HAND_SETS)
    assert 0.95 * every <= len(hand) <= every  # a few lines near a measured one are left out
    assert {label for _, label in hand} == set(train_intent.LABELS)
    sizes = Counter(train_intent.fold(t) for t, _ in hand)
    assert set(sizes) == set(range(train_intent.FOLDS))
    assert all(0.12 * len(hand) < n < 0.28 * len(hand) for n in sizes.values())


def test_hidden_layer_training_is_deterministic_and_learns() -> None:
    """Same data and seed, same head; and a separable toy problem is learnt (the gradients are right)."""
    train_intent = _trainer()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 8))
    y = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 1)
    a = train_intent.train_mlp(x, y, 4, hidden=16, l2=1e-4, iters=150, lr=1e-2)
    b = train_intent.train_mlp(x, y, 4, hidden=16, l2=1e-4, iters=150, lr=1e-2)
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    hw, hb, w, bias = a
    p = train_intent.probabilities(x, w, bias, hw, hb)
    assert np.allclose(p.sum(axis=1), 1.0) and np.mean(p.argmax(axis=1) == y) > 0.9
