"""Precision: thousands of ordinary sentences produce no gambling, vulgar or tipping hits."""

from __future__ import annotations

from text_corpus import benign_sentences

from moderation.text.matcher import KeywordMatcher

_CHECKED = {"gambling", "vulgar", "tipping_inducement"}


def test_benign_corpus_has_no_hits(matcher: KeywordMatcher) -> None:
    corpus = benign_sentences()
    assert len(corpus) >= 2000
    fps = [(s, h.term, h.via) for s in corpus for h in matcher.match(s) if h.category in _CHECKED]
    print(f"benign sentences: {len(corpus)}, false positives: {len(fps)}")
    assert fps == []
