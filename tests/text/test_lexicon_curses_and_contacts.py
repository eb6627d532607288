"""Curses on a viewer's family and insults with a modifier, Taiwan's words for call girls, a night
priced, adult films, and contact numbers spelled in Chinese numerals; with the near misses each must
leave alone."""

from __future__ import annotations

import pytest

from moderation.text.matcher import KeywordMatcher
from tests.helpers.text_hits import evidence


@pytest.mark.parametrize("text", ["你全家都不得好死", "祝你全家死光", "外送茶有需要嗎，素質保證", "需要外送茶的私我"])
def test_family_curses_and_tea_slang_are_vulgar(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text", ["不得在直播间辱骂他人", "我家一家人都爱喝茶", "这家奶茶外送很快", "快餐二十块，过夜的火车上吃"]
)
def test_rules_and_tea_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["上门服务联系 Q：七七八八九九二零一", "上门服务 微信 幺三八八八六六九九"])
def test_a_contact_number_in_chinese_numerals_corroborates_an_offer(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" in evidence(matcher, text), matcher.match(text)


def test_a_number_without_a_channel_is_no_contact(matcher: KeywordMatcher) -> None:
    text = "水管维修上门服务，电话 一三八零零一三八零零零"
    assert "vulgar" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["主播能不能把领口再往下拉一点，给兄弟们看看", "把肩带拉下来给我们看看"])
def test_a_neckline_asked_lower_for_a_look_is_vulgar(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["这件衣服领口往下拉会松吗", "吊带往下拉一下，太紧了", "约不约饭？"])
def test_garment_fitting_and_a_meal_invitation_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["幹ni娘", "操ni妈，闭嘴"])
def test_a_curse_with_its_pronoun_in_pinyin_is_vulgar(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    ["你就是个没人要的烂货", "你真是个不要脸的贱人", "定点茶庄，妹子任选", "陪睡一晚两千，酒店你定", "A片合集，网盘发"],
)
def test_insults_tea_houses_priced_nights_and_adult_films_are_vulgar(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    ["这个烂货手机又坏了", "酒店一晚三百，含早餐", "A片区今天停水", "B站上有个A片段的解说", "老字号茶庄，新茶到了"],
)
def test_broken_phones_hotel_rates_and_zones_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text", ["你这个机掰人", "龟儿子，会不会打", "脱到只剩内衣", "take your top off", "drop ur OF link"]
)
def test_regional_abuse_and_undressing_to_underwear_are_vulgar(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["穿到只剩一件T恤也热", "take the trash out", "the top of the table"])
def test_a_hot_day_and_chores_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" not in evidence(matcher, text), matcher.match(text)
