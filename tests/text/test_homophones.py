"""A pattern's words typed with a homophone of one character ("下博" for 下播, "飞鸡" for 飞机), read
back only where the spelling stands as words of its own."""

from __future__ import annotations

import pytest

from moderation.text import segment
from moderation.text.homophones import word_homophone_variants
from moderation.text.matcher import KeywordMatcher
from tests.helpers.text_hits import evidence


@pytest.fixture(scope="module")
def freq() -> dict[str, int]:
    return segment.tokenizer().FREQ


def test_each_character_may_be_a_common_character_of_its_sound(freq: dict[str, int]) -> None:
    got = word_homophone_variants(["下播", "飞机", "音浪"], freq)
    assert got["下博"] == got["夏播"] == "下播"
    assert got["飞鸡"] == "飞机"
    assert got["音狼"] == "音浪"
    # one character at a time, and never the word itself
    assert "夏博" not in got and "下播" not in got


def test_dictionary_words_their_beginnings_and_the_other_words_read_as_themselves(freq: dict[str, int]) -> None:
    got = word_homophone_variants(["睡衣", "赢了", "硬了", "飞机"], freq)
    assert "睡一" not in got  # the start of 睡一觉
    assert "硬了" not in got and "赢了" not in got  # each is a word of the list
    assert "肥鸡" not in got or freq.get("肥鸡", 0) <= 0  # a dictionary word stays itself


def test_function_characters_alone_keep_no_spelling(freq: dict[str, int]) -> None:
    got = word_homophone_variants(["私我"], freq)
    assert not any(k.endswith("我") for k in got)  # 死我 is 笑死我了, not a disguised 私我


def test_stand_ins_may_be_limited_to_an_alphabet(freq: dict[str, int]) -> None:
    got = word_homophone_variants(["飞机"], freq, frozenset("鸡"))
    assert set(got) == {"飞鸡"}


def test_a_spelling_shared_by_two_words_is_left_out(freq: dict[str, int]) -> None:
    one, two = word_homophone_variants(["舰长"], freq), word_homophone_variants(["舰长", "剑长"], freq)
    assert "箭长" in one and "箭长" not in two


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("大哥再刷个游挺吧", "tipping_inducement"),
        ("谁刷五个飞鸡我就唱歌", "tipping_inducement"),
    ],
)
def test_a_pattern_word_typed_by_sound_is_read_back(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "这家店时间长没人去",  # 间长 sounds like 舰长, but 时间 claims the 间
        "下雨天飞机延误了好久",
    ],
)
def test_a_spelling_where_two_words_meet_is_no_disguise(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [("陪睡一晚多少钱你开价", "vulgar"), ("看主播跳舞都硬了", "vulgar"), ("今天赌场又赢了三万，跟我来", "gambling")],
)
def test_terms_and_pattern_words_as_written_are_kept(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in evidence(matcher, text), matcher.match(text)
