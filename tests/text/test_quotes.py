"""Quoted parts of a line (moderation/text/quotes.py)."""

from __future__ import annotations

from moderation.text.quotes import inside, quoted_spans


def _quoted(text: str) -> list[str]:
    return [text[a:b] for a, b in quoted_spans(text)]


def test_each_pair_of_marks_is_one_quote() -> None:
    assert _quoted("又是“日赚八百”那套，还有「秒到账」，笑死") == ["日赚八百", "秒到账"]
    assert _quoted('他发的"稳赢计划"我截图了') == ["稳赢计划"]


def test_a_line_without_words_of_its_own_quotes_nothing() -> None:
    assert quoted_spans("“今晚开奖”") == []  # the whole line in quotes: nothing is commented on
    assert quoted_spans("“今晚开奖”！！") == []


def test_unclosed_and_naming_quotes_are_not_quotes() -> None:
    assert quoted_spans("他说“跟我走就行，别问") == []  # never closed
    assert _quoted("搜“星辰娱乐”就能找到，别问我") == []  # a name to look up
    assert _quoted("进去填邀请码「8866」，然后说是我推荐的") == []


def test_inside_needs_the_whole_span() -> None:
    spans = [(2, 6)]
    assert inside(spans, 2, 6) and inside(spans, 3, 5)
    assert not inside(spans, 1, 4) and not inside(spans, 5, 8)
