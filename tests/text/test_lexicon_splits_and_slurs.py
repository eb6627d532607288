"""A character written as its components side by side (拆字: 贝者 for 赌) is read as the character,
for every component pair in ``variants.yaml``, and no pair is read where two words only meet; slur
characters and contempt said to someone are vulgar, the same words said of oneself, a thing or a pet
are not."""

from __future__ import annotations

import pytest

from moderation.text.lexicon import Lexicon, LexiconEntry
from moderation.text.matcher import KeywordMatcher
from moderation.text.normalize import is_han

_LEX = Lexicon.load()
_M = KeywordMatcher(_LEX)
#: component pair -> the character it spells (two Han characters for one)
_PAIRS = {k: v for k, v in _LEX.variants.items() if len(k) == 2 and len(v) == 1 and all(map(is_han, k + v))}


def _categories(text: str) -> set[str]:
    return {h.category for h in _M.match(text) if h.weight > 0}


def _plain(text: str) -> set[str]:
    """Categories of hits that count alone (not a mention, not an uncorroborated ambiguous word)."""
    return {h.category for h in _M.match(text) if h.context == "plain" and h.weight > 0}


def test_the_table_holds_the_common_splits() -> None:
    assert {"贝者", "月兑", "衤果", "马蚤", "扌莫"} <= set(_PAIRS)
    assert len(_PAIRS) >= 25


def _plain_term(char: str) -> LexiconEntry | None:
    """The shortest unambiguous, strong zh term holding ``char`` that opens a verdict alone, if any."""
    terms = [
        e
        for e in _LEX.entries
        if e.lang == "zh" and char in e.term and not e.ambiguous and len(e.term) > 1 and e.weight >= 0.7
    ]
    for e in sorted(terms, key=lambda e: (len(e.term), e.term)):
        if e.category in _categories(f"来看{e.term}吧"):
            return e
    return None


@pytest.mark.parametrize("pair", sorted(_PAIRS))
def test_every_pair_normalises_to_its_character(pair: str) -> None:
    assert _PAIRS[pair] in _M.normalizer(f"我们{pair}吧").text
    assert _PAIRS[pair] in _M.normalizer(f"我 们 {pair} 吧").text  # among spaced-out characters


_IN_TERMS = {pair: term for pair in sorted(_PAIRS) if (term := _plain_term(_PAIRS[pair])) is not None}


def test_most_pairs_spell_a_character_of_some_term() -> None:
    assert len(_IN_TERMS) >= 15


@pytest.mark.parametrize("pair", sorted(_IN_TERMS))
def test_a_term_spelled_with_the_pair_still_matches(pair: str) -> None:
    term = _IN_TERMS[pair]
    split = term.term.replace(_PAIRS[pair], pair)
    assert term.category in _categories(f"来看{split}吧"), split
    assert term.category in _categories("来 看 " + " ".join(split) + " 吧"), split  # spaced out too


@pytest.mark.parametrize(
    "text",
    [
        "她买了一块女表，很好看",  # a ladies' watch
        "谢谢各位女支持者",  # 女 + 支持者
        "女干部带队检查",  # 女 + 干部
        "上火包括口腔溃疡",  # 上火 + 包括
        "积木其实挺贵的",  # 积木 + 其实
        "开口合作吧",  # 开口 + 合作
        "米青色的裙子",  # a real word
    ],
)
def test_words_that_only_meet_are_not_read_as_one_character(text: str) -> None:
    assert _categories(text) == set()


@pytest.mark.parametrize("text", ["你就是个绿茶婊", "心机婊别装了", "你老母臭閪", "屌你老母", "主 播 是 个 女 表 子"])
def test_slurs_built_on_a_slur_character_are_vulgar(text: str) -> None:
    assert "vulgar" in _categories(text)


@pytest.mark.parametrize("text", ["屌丝逆袭的故事", "好屌喔这个操作", "有人骂她绿茶婊，已举报"])
def test_slur_characters_in_other_senses_or_reported_are_not(text: str) -> None:
    assert "vulgar" not in _categories(text)


@pytest.mark.parametrize(
    "text",
    ["你就是个白痴", "你這個白癡實況主", "楼上那个死肥猪闭嘴吧", "智障主播别播了", "主播就是个垃圾", "你们这种人渣"],
)
def test_contempt_said_to_someone_is_vulgar(text: str) -> None:
    assert "vulgar" in _categories(text)


@pytest.mark.parametrize(
    "text", ["我真是个白痴", "这设计太弱智了", "你这垃圾手机该换了", "你是垃圾桶吗", "你个狗东西（对我家狗说的）"]
)
def test_contempt_for_oneself_things_or_pets_is_not(text: str) -> None:
    assert "vulgar" not in _plain(text)


def test_escort_outer_is_vulgar_not_only_betting() -> None:
    assert "vulgar" in _categories("同城外围，空姐模特都有，价格私聊")
    assert "vulgar" not in _plain("外围赌球的盘口")
