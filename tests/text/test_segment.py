"""Word edges: the shortcut that skips segmentation must agree with jieba's segmentation."""

from __future__ import annotations

import json
import random
from pathlib import Path

from text_corpus import benign_sentences

from moderation.text import segment
from moderation.text.clauses import CLAUSE_RE
from moderation.text.matcher import KeywordMatcher

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"


def _clauses(matcher: KeywordMatcher) -> list[str]:
    texts = list(benign_sentences())
    for p in sorted(DATA.glob("text_*.jsonl")):
        texts += [json.loads(line)["text"] for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = {c for t in texts for c in CLAUSE_RE.split(matcher.normalizer(t).text) if c}
    # mixed scripts, digits, spaces and symbols inside one clause
    out |= {"abc123 上分", "a1上分b2", "上分 ok", "玩c罗上分", "上分_下分", "vip会员上分#1"}
    return sorted(out)


def test_forced_edges_are_edges_of_the_segmentation(matcher: KeywordMatcher) -> None:
    clauses = _clauses(matcher)
    assert len(clauses) > 1000
    forced = 0
    for c in clauses:
        edges = segment.word_edges(c)
        for p in range(len(c) + 1):
            if segment._forced_edge(c, p):
                forced += 1
                assert p in edges, (c, p)
    # the shortcut decides a good share of positions, or it would not be worth its cost
    assert forced > sum(len(c) + 1 for c in clauses) // 4


def test_is_word_equals_the_segmentation(matcher: KeywordMatcher) -> None:
    """``is_word`` as it was before the shortcut: edges of the segmentation only."""

    def by_edges(clause: str, start: int, end: int) -> bool:
        edges = segment.word_edges(clause)
        if start in edges and end in edges:
            return True
        if end == len(clause) - 1 and clause[end] in segment._FINAL_PARTICLES:
            return by_edges(clause[:end], start, end)
        return False

    rng = random.Random(7)
    spans = [(c, s, e) for c in _clauses(matcher) for s in range(len(c)) for e in range(s + 1, min(len(c), s + 4) + 1)]
    for c, s, e in rng.sample(spans, 20000):
        assert segment.is_word(c, s, e) == by_edges(c, s, e), (c, s, e)


def test_words_across_a_point_and_latin_runs_are_not_forced() -> None:
    segment.tokenizer()
    assert not segment._forced_edge("中华人民共和国", 2)  # inside 中华人民共和国 / 人民
    assert not segment._forced_edge("abc", 1)  # jieba joins latin letters into one word
    assert not segment._forced_edge("a1", 1)
    assert segment._forced_edge("中华", 0) and segment._forced_edge("中华", 2)
    assert segment._forced_edge("abc 上分", 3)  # a space is never inside a word
