"""Escorts offered by region, and Cantonese chat read as Mandarin; with the near misses each must
leave alone."""

from __future__ import annotations

import pytest

from moderation.text.matcher import KeywordMatcher
from tests.helpers.text_hits import evidence


@pytest.mark.parametrize(
    "text",
    [
        "外围模特空降，全市可约",
        "同城空降，价格私聊",
        "空降全国，嫩模学生任选",
        "外围学生妹，今晚有空",
        "兼职妹子可空降酒店",
    ],
)
def test_escorts_air_dropped_to_a_city_are_vulgar(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "空降兵部队今天完成了跳伞训练",
        "这首新歌空降热搜第一",
        "公司又空降了一个副总",
        "他外围三分很稳，今晚投进六个",
        "外围防守要收缩一点",
    ],
)
def test_paratroopers_hires_and_perimeter_play_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "冇打賞嘅就唔好喺度講嘢",  # those who have not tipped: don't talk here
        "唔刷禮物就咪喺度白睇",  # no gifts, then don't watch for free here
        "没送礼的就不要在这说话",
        "不打赏就别在这白看",
    ],
)
def test_freeloaders_silenced_in_cantonese_and_mandarin_are_tipping(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    ["唔好意思，我遲到咗", "冇送禮都冇所謂，大家開心就好", "没送礼的也没关系，在这说话就好", "唔好食，下次唔嚟"],
)
def test_cantonese_apologies_and_concessions_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["主播除衫啦", "靚女除一件先", "主播脱衣吧"])
def test_undressing_asked_in_cantonese_is_vulgar(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["除咗呢件衫仲有冇其他顏色", "主播除咗唱歌仲識跳舞", "靚女，呢件衫幾錢"])
def test_clothes_shopping_and_besides_in_cantonese_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" not in evidence(matcher, text), matcher.match(text)
