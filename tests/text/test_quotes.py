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


def test_quotes_that_give_a_name_are_not_quotes() -> None:
    # counted or picked out: a gift, an app to play or download
    assert _quoted("大哥来个“嘉年华pro max”，我给你唱到天亮") == []
    assert _quoted("有没有玩「天际彩」的，今天放水") == []
    assert _quoted("先下载“星河”，注册就送") == []
    # a product word after the quote
    assert _quoted("跟我一起梭的“豹子堂”APP，邀请码8866") == []
    assert _quoted("资源在“桃花岛”群，暗号开车") == []
    # a name that brands an operator, digits after it skipped
    assert _quoted("“龙腾棋牌”上分下分秒到，老板们来玩") == []
    assert _quoted("老司机开车了，“蜜桃星球2026”资源，新人免费") == []


def test_quotes_of_what_someone_said_stay_quotes() -> None:
    # 那个 / 这个 point back at something said: a mention, not a count
    assert _quoted("跟大家说一下，那个“包中计划”我亲自试过，亏了三千") == ["包中计划"]
    assert _quoted("又来了，“加我带你上岸”，上岸是上天堂吧") == ["加我带你上岸"]
    assert _quoted("信了“老师带你回本”，结果又输了") == ["老师带你回本"]
