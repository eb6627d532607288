"""The optimised matcher gives exactly the hits of the straightforward reference path.

The shortcuts (no offset maps for lines without a candidate, a homophone-only pinyin automaton for
lines without latin letters, pinyin duplicates of text hits dropped before resolution) must never
change a hit; this compares every field of every hit over the benchmark corpora and generated
evasion variants of every lexicon term.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from text_corpus import benign_sentences
from text_evasion import en_variants, wrap, zh_variants
from text_reference import ReferenceMatcher

from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"


def _texts(lexicon: Lexicon) -> list[str]:
    texts = []
    for p in sorted(DATA.glob("text_*.jsonl")):
        texts += [json.loads(line)["text"] for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(11)
    texts += rng.sample(benign_sentences(), 400)
    for e in lexicon.entries:
        vs = zh_variants(e.term, True, rng) if e.lang == "zh" else en_variants(e.term, rng)
        texts += [wrap(v, e.lang, rng) for v in rng.sample(vs, min(4, len(vs)))]
    # leetspeak, mixed scripts and separators around Han text reach every shortcut
    texts += ["b0cai 平台", "百.家.乐 baijiale", "bai jia le 走起", "白家乐 来了", "ca5ino 888", "实时菜价"]
    return texts


def _key(hits: list) -> list[tuple]:
    return [(h.term, h.category, h.weight, h.span, h.matched, h.via, h.context) for h in hits]


@pytest.fixture(scope="module")
def reference(lexicon: Lexicon) -> ReferenceMatcher:
    return ReferenceMatcher(lexicon)


def test_optimised_matcher_equals_reference(
    matcher: KeywordMatcher, reference: ReferenceMatcher, lexicon: Lexicon
) -> None:
    texts = _texts(lexicon)
    assert len(texts) > 2000
    diffs = [(t, _key(matcher.match(t)), _key(reference.match(t))) for t in texts]
    diffs = [d for d in diffs if d[1] != d[2]]
    assert not diffs, f"{len(diffs)} texts differ, first: {diffs[0]}"
    # the comparison covers hits of every kind, not only empty results
    vias = {h.via for t in texts for h in matcher.match(t)}
    assert {"text", "pinyin", "pattern"} <= vias
