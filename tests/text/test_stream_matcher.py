"""StreamTextMatcher: a term split across chunks is found once; nothing is reported twice."""

from __future__ import annotations

from moderation.text.matcher import KeywordMatcher
from moderation.text.stream_matcher import StreamTextMatcher


def _feed(sm: StreamTextMatcher, chunks: list[str]) -> list[list[str]]:
    return [[h.hit.term for h in sm.feed(c, i * 2.0, i * 2.0 + 2.0)] for i, c in enumerate(chunks)]


def test_split_term_found_once(matcher: KeywordMatcher) -> None:
    sm = StreamTextMatcher(matcher)
    assert _feed(sm, ["现在开始玩百家", "乐了大家快来", "好的没问题"]) == [[], ["百家乐"], []]


def test_term_inside_one_chunk_not_reported_again(matcher: KeywordMatcher) -> None:
    sm = StreamTextMatcher(matcher)
    assert _feed(sm, ["快来下注", "今天天气很好", "再来一次下注"]) == [["下注"], [], ["下注"]]


def test_english_split_and_time(matcher: KeywordMatcher) -> None:
    sm = StreamTextMatcher(matcher)
    assert sm.feed("ok everyone place your", 0.0, 2.0) == []
    hits = sm.feed("bets please", 2.0, 3.0)
    assert [h.hit.term for h in hits] == ["place your bets"]
    assert 0.0 < hits[0].t < 2.0  # the term started in the previous chunk
    assert hits[0].text[hits[0].hit.span[0] : hits[0].hit.span[1]] == "place your bets"
    assert sm.feed("nothing here", 3.0, 4.0) == []


def test_longer_term_completed_in_next_chunk_not_double_reported(matcher: KeywordMatcher) -> None:
    sm = StreamTextMatcher(matcher)
    first = _feed(sm, ["感谢榜一"])
    second = [h.hit.term for h in sm.feed("大哥的支持", 2.0, 4.0)]
    assert first == [["榜一"]] and second == []


def test_reset(matcher: KeywordMatcher) -> None:
    sm = StreamTextMatcher(matcher)
    sm.feed("百家", 0.0, 1.0)
    sm.reset()
    assert sm.feed("乐园真好玩", 5.0, 6.0) == []
