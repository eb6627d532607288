"""Lexicon patterns read in pinyin: a sentence typed in pinyin meets the same pattern families as
the Han text it spells, English and ordinary pinyin chat do not, and the rewrite keeps a pattern's
structure (optional parts stay optional, dropped characters do not block a match)."""

from __future__ import annotations

import pytest

from moderation.text.matcher import KeywordMatcher
from moderation.text.pinyin_patterns import reads_as_pinyin, to_pinyin_regex


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("da ge men shua ge huo jian ba", "tipping_inducement"),  # gift_send
        ("song liang ge you ting gei zhu bo", "tipping_inducement"),
        ("ni quan jia dou si le", "vulgar"),  # family_curse
        ("zhu bo ba yi fu tuo le gei wo men kan kan", "vulgar"),  # garment_then_undress
        ("ya da ya xiao kuai lai", "gambling"),  # bet_side
    ],
)
def test_pinyin_sentence_meets_the_pattern_families(matcher: KeywordMatcher, text: str, category: str) -> None:
    hits = [h for h in matcher.match(text) if h.category == category and h.context == "plain"]
    assert hits and max(h.weight for h in hits) >= 0.5, matcher.match(text)
    assert any(h.via == "pinyin" for h in hits)


@pytest.mark.parametrize(
    "text",
    [
        "wo men qu chi fan ba",
        "jin tian tian qi hen hao",
        "zhu bo chang ge zhen hao ting",
        "send me the link please",
        "i love this song so much",
    ],
)
def test_ordinary_chat_has_no_pattern_hit(matcher: KeywordMatcher, text: str) -> None:
    assert [h for h in matcher.match(text) if h.weight > 0.1] == []


def test_only_pinyin_sentences_are_read_as_pinyin() -> None:
    assert reads_as_pinyin("song ge pao che ba")
    assert reads_as_pinyin("ni hao, zai ma")
    assert not reads_as_pinyin("ni hao")  # too short to tell
    assert not reads_as_pinyin("send gifts please")  # English words do not segment into syllables
    assert not reads_as_pinyin("song ge 520 ba")  # a number is no syllable


def test_rewrite_keeps_optional_parts_and_drops_guards() -> None:
    rx = to_pinyin_regex("(?<![鸡鸭])胸(?:好|真)(?:大|挺)")
    assert rx is not None
    assert rx.fullmatch("xionghaoda") and rx.fullmatch("xiongzhenting")
    assert not rx.fullmatch("xionghao")
    counted = to_pinyin_regex("刷[0-9一二]+个?火箭")
    assert counted is not None
    assert counted.fullmatch("shuayigehuojian") and counted.fullmatch("shuahuojian")  # digits are dropped
    assert to_pinyin_regex("dick ?pics?") is None  # latin only: the character view has it
