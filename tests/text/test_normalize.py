"""Each normalisation rule, and that offsets always point back into the original string."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moderation.text.normalize import HARD, NONE, SOFT, Normalizer, latin_boundaries, normalize, term_pinyins


def _orig(nt, s: int, e: int) -> str:
    a, b = nt.span(s, e)
    return nt.original[a:b]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("百家樂", "百家乐"),  # Traditional → Simplified
        ("後來發現", "后来发现"),
        ("ＢＡＩ１２３", "bai123"),  # full-width → half-width, casefold
        ("Straße", "strasse"),  # casefold expands
        ("百\u200b家\u200d乐", "百家乐"),  # zero-width removed
        ("百.家.乐", "百家乐"),
        ("百 家 乐", "百家乐"),
        ("百*家*乐", "百家乐"),
        ("百_家|乐/了·吗", "百家乐了吗"),
        ("百，家，乐", "百家乐"),  # commas chaining three single characters: evasion
        ("b,o,c,a,i", "bocai"),
        ("对，博", "对 博"),  # one comma between two single characters: two clauses
        ("好 好 好，走 吧", "好好好 走吧"),  # spaced-out clauses: the comma between them stays
        ("赢 了，钱 呢", "赢了 钱呢"),
        ("百 ，家 ，乐", "百家乐"),  # a comma chain with spaces around its commas is still one
        ("输！赢？", "输 赢"),  # sentence punctuation is never evasive spacing
        ("彩。票", "彩 票"),
        ("裸 . 聊", "裸聊"),  # symbols and spaces are
        ("开心😂博主好棒", "开心 博主好棒"),  # between words, an unmapped pictograph is a token
        ("主播🙈赌博", "主播 赌博"),
        ("约🙈吗", "约吗"),  # ...between single characters, filler
        ("约🙈炮吗", "约炮吗"),  # ...and after a lone character: one emoji cutting a term
        ("加😘微信聊", "加微信聊"),
        ("好😂。开心博主", "好 开心博主"),  # clause punctuation in the run is still a boundary
        ("好的👍 OK", "好的 ok"),
        ("以下，注意事项", "以下 注意事项"),  # ...between words: a real boundary, kept as a space
        ("c.a.s.i.n.o", "casino"),  # spelled-out letters joined
        ("c a s i n o bonus", "casino bonus"),
        ("online-casino", "online casino"),
        ("hello,   world!", "hello world"),
        ("I am a cat", "i am a cat"),
        ("AI 生成", "ai生成"),
        ("  ...  ", ""),
    ],
)
def test_character_view(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_variants_are_normalised_and_offsets_kept() -> None:
    n = Normalizer({"薇信": "微信", "V信": "微信", "vx": "微信", "企鹅号": "qq"})
    nt = n("加薇 信，加V信，加vx，企鹅号")
    assert nt.text == "加微信 加微信 加微信 qq"
    q = nt.text.index("qq")
    assert _orig(nt, q, q + 2) == "企鹅号"
    assert n("vxyz").text == "vxyz"  # latin variant keys respect word boundaries


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("加🌹微🌹信", "加微信"),  # a mapped emoji between one-character tokens again and again: a separator
        ("百🚀家🚀乐走起", "百家乐走起"),
        ("加🌹️微🌹️信", "加微信"),  # with a variation selector
        ("送个🌹吧", "送个玫瑰吧"),  # elsewhere it is the word it spells
        ("送🌹送🌹", "送玫瑰送玫瑰"),
        ("🌹🌹谢谢大哥", "玫瑰玫瑰谢谢大哥"),
        ("加🌹微🚀信", "加玫瑰微火箭信"),  # two different emoji are two words, not one separator
    ],
)
def test_mapped_emoji_used_as_a_separator(raw: str, expected: str) -> None:
    n = Normalizer(emoji={"🌹": "玫瑰", "🚀": "火箭"})
    nt = n(raw)
    assert nt.text == expected
    assert len(nt.starts) == len(nt.text)
    assert all(0 <= a < b <= len(raw) for a, b in zip(nt.starts, nt.ends, strict=True))


@given(st.text(max_size=60))
def test_offsets_are_monotonic_and_in_range(s: str) -> None:
    nt = normalize(s)
    assert len(nt.starts) == len(nt.ends) == len(nt.text)
    for a, b in zip(nt.starts, nt.ends, strict=True):
        assert 0 <= a < b <= len(s)
    assert nt.starts == sorted(nt.starts)


def test_span_maps_to_original_text() -> None:
    raw = "快来 百.家.樂 下注"
    nt = normalize(raw)
    i = nt.text.index("百家乐")
    assert _orig(nt, i, i + 3) == "百.家.樂"


def test_pinyin_view_and_map() -> None:
    nt = normalize("我爱 BaiJia乐 123")
    assert nt.pinyin == "woaibaijiale"
    k = nt.pinyin.index("baijiale")
    a, b = nt.pinyin_span(k, k + 8)
    assert nt.original[a:b] == "BaiJia乐"


def test_pinyin_boundaries() -> None:
    nt = normalize("摆佳乐 baijiale alphabet")
    py = nt.pinyin
    assert py.startswith("baijialebaijiale")
    assert nt.pinyin_boundary(3) == HARD  # between two Han syllables
    assert nt.pinyin_boundary(1) == NONE  # inside a syllable
    assert nt.pinyin_boundary(11) == SOFT  # bai|jiale inside a latin run
    assert nt.pinyin_boundary(py.index("alphabet") + 2) == NONE  # English word: no syllable cuts


def test_latin_segmentation() -> None:
    assert {3, 6} <= latin_boundaries("baijiale")
    assert latin_boundaries("alphabet") == frozenset()


def test_term_pinyin_includes_phrase_and_char_readings() -> None:
    assert term_pinyins("百家乐") == {"baijiale"}
    assert {"chongqing", "zhongqing"} <= term_pinyins("重庆")


def test_a_weak_variant_yields_to_an_overlapping_one() -> None:
    nz = Normalizer({"d场": "赌场"}, None, {"个d": "个点", "游t": "游艇"})
    assert nz.normalize("开个d场").text == "开个赌场"  # the term's spelling wins the shared d
    assert nz.normalize("来个d").text == "来个点"  # alone, the weak one applies
    assert nz.normalize("一个游t 和一个d场").text == "一个游艇和一个赌场"
    assert nz.normalize("游typical").text == "游typical"  # latin edges as for every key
