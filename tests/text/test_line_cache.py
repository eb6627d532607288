"""The line cache: bounded, least recently used out first, emptied when word edges may have changed,
and invisible in the hits (a cached answer equals a fresh one, and callers get their own lists)."""

from __future__ import annotations

import random

from text_corpus import benign_sentences
from text_evasion import wrap, zh_variants

from moderation.messages import KeywordHit
from moderation.text import line_cache, segment
from moderation.text.lexicon import Lexicon
from moderation.text.line_cache import LineCache
from moderation.text.matcher import KeywordMatcher


def _hit(term: str) -> KeywordHit:
    return KeywordHit(term, "gambling", 1.0, (0, len(term)), term)


def test_least_recently_used_line_goes_first() -> None:
    cache = LineCache(2, lambda: 0)
    cache.put("a", [_hit("a")], 0)
    cache.put("b", [], 0)
    assert cache.get("a") == (_hit("a"),)  # "a" is now the most recently used
    cache.put("c", [], 0)
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") == ()
    assert len(cache) == 2


def test_long_texts_and_a_disabled_cache_store_nothing() -> None:
    cache = LineCache(10, lambda: 0)
    long = "下" * (line_cache.MAX_CHARS + 1)
    cache.put(long, [], 0)
    assert cache.get(long) is None and not cache.cacheable(long)
    off = LineCache(0, lambda: 0)
    off.put("a", [], 0)
    assert off.get("a") is None and len(off) == 0


def test_a_new_stamp_empties_the_cache_and_stale_answers_are_dropped() -> None:
    gen = [0]
    cache = LineCache(10, lambda: gen[0])
    cache.put("a", [], 0)
    gen[0] = 1
    assert cache.get("a") is None
    cache.put("b", [], 0)  # computed before the change: may be stale
    assert cache.get("b") is None
    cache.put("b", [], cache.stamp())
    assert cache.get_many(["a", "b"]) == [None, ()]


def test_emptying_the_clause_caches_empties_the_line_cache(matcher: KeywordMatcher) -> None:
    matcher.match("今晚百家乐走起")
    assert matcher.line_cache.get("今晚百家乐走起") is not None
    segment.clear_caches()
    assert matcher.line_cache.get("今晚百家乐走起") is None


def test_cached_answers_equal_fresh_ones(lexicon: Lexicon, uncached_matcher: KeywordMatcher) -> None:
    rng = random.Random(4)
    texts = rng.sample(benign_sentences(), 300)
    for e in lexicon.entries[:200]:
        if e.lang == "zh":
            texts += [wrap(v, "zh", rng) for v in zh_variants(e.term, True, rng)[:2]]
    texts += rng.sample(texts, 200)  # lines come back, in and across batches
    rng.shuffle(texts)
    want = [uncached_matcher.match(t) for t in texts]
    cached = KeywordMatcher(lexicon, line_cache=64)  # small: lines are evicted and matched again
    assert [cached.match(t) for t in texts] == want
    got = []
    for i in range(0, len(texts), 50):
        got += cached.match_many(texts[i : i + 50])
    assert got == want
    assert sum(1 for w in want if w) > 50


def test_callers_get_their_own_lists(matcher: KeywordMatcher) -> None:
    first = matcher.match("来玩百家乐")
    assert first
    first.clear()
    again = matcher.match("来玩百家乐")
    assert again and again is not matcher.match("来玩百家乐")
    a, b = matcher.match_many(["来玩百家乐", "来玩百家乐"])
    assert a == b == again and a is not b
