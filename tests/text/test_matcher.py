"""KeywordMatcher behaviour: spans, pinyin rules, de-duplication, counter-speech, English boundaries."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from moderation.text.lexicon import DEFAULT_DIR, Lexicon
from moderation.text.matcher import KeywordMatcher


def _terms(matcher: KeywordMatcher, text: str) -> list[tuple[str, str, str]]:
    return [(h.term, h.matched, h.via) for h in matcher.match(text)]


def test_spans_index_the_original(matcher: KeywordMatcher) -> None:
    text = "现在开始 下.注 百家樂！"
    hits = matcher.match(text)
    assert [(h.term, text[h.span[0] : h.span[1]]) for h in hits] == [("下注", "下.注"), ("百家乐", "百家樂")]
    assert all(h.matched == text[h.span[0] : h.span[1]] for h in hits)


@pytest.mark.parametrize("text", ["baijiale", "bai jia le", "BaiJiaLe", "白家乐", "摆佳乐", "百jia乐", "bai3jia1le4"])
def test_pinyin_and_homophones(matcher: KeywordMatcher, text: str) -> None:
    hits = matcher.match(f"来玩{text}吧")
    assert [(h.term, h.via) for h in hits] == [("百家乐", "pinyin")]
    # a Han homophone is a guess and weighs less; pinyin written in latin letters is the word spelled
    homophone = all("\u4e00" <= c <= "\u9fff" for c in hits[0].matched)
    assert (hits[0].weight < 0.95) if homophone else (hits[0].weight == 0.95)


def test_same_term_via_text_and_pinyin_reported_once(matcher: KeywordMatcher) -> None:
    assert _terms(matcher, "百家乐") == [("百家乐", "百家乐", "text")]


def test_overlapping_terms_prefer_longest(matcher: KeywordMatcher) -> None:
    assert _terms(matcher, "榜一大哥今天好帅") == [("榜一大哥", "榜一大哥", "text")]


def test_short_homophones_do_not_fire_alone(matcher: KeywordMatcher) -> None:
    # 夏竹 (xia zhu) sounds like 下注 but two-syllable homophones are everywhere in normal Chinese:
    # alone, such a candidate is not even reported; beside an unrelated hit it is ambiguous
    assert matcher.match("夏竹是我的同学") == []
    assert matcher.match("年度大赏今晚揭晓") == []
    # ...and, needing corroboration itself, it corroborates nothing (冲榜 stays ambiguous)
    assert all(h.weight < 0.1 for h in matcher.match("夏竹说今晚冲榜"))
    # ...while two-syllable pinyin written in latin letters, as a whole word, still does
    assert _terms(matcher, "来 xiazhu 了") == [("下注", "xiazhu", "pinyin")]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("今晚落聊吗，私我", "裸聊"),  # same reading, other characters, with a lure
        ("夏住了，跟我买，稳赚不赔", "下注"),  # ...with another hit
        ("伯彩那边私聊我", "博彩"),
    ],
)
def test_short_homophones_count_with_corroboration(matcher: KeywordMatcher, text: str, term: str) -> None:
    (hit,) = [h for h in matcher.match(text) if h.term == term]
    assert hit.via == "pinyin" and hit.context == "plain" and hit.weight >= 0.5, matcher.match(text)


def test_short_homophones_need_word_edges(matcher: KeywordMatcher) -> None:
    # 下主 in 一下主播 crosses the word 一下: not a spelling of 下注, even with a lure
    assert [h for h in matcher.match("关注一下主播，加我微信") if h.term == "下注"] == []


def test_pinyin_needs_syllable_boundaries(matcher: KeywordMatcher) -> None:
    assert matcher.match("xiazhuang") == []  # 下注 must not fire inside xia|zhuang
    assert matcher.match("shuangfeng") == []  # nor 上分 across s|huang


@pytest.mark.parametrize(
    "text",
    [
        "拒绝赌博，远离网赌",
        "以下注意事项",
        "今天排位上分好难",
        "股市开盘上涨",
        "say no to gambling, stop gambling",
        "以下分为三类",
        "未成年人禁止打赏",
        "主播说不要刷礼物",
    ],
)
def test_counter_speech_and_benign_contexts(matcher: KeywordMatcher, text: str) -> None:
    assert [h for h in matcher.match(text) if h.category != "disclosure"] == []


def test_counter_speech_only_covers_its_span(matcher: KeywordMatcher) -> None:
    hits = matcher.match("拒绝赌博，但是来网赌吧")
    assert [h.term for h in hits] == ["网赌"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the alphabet song", []),
        ("I bet you can't", []),
        ("casinos are closed", ["casino"]),
        ("Place Your Bets now", ["place your bets"]),
        ("best online-casino ever", ["online casino"]),
        ("scuntthorpe", []),
        ("go to the sportsbook", ["sportsbook"]),
        ("c a s i n o", ["casino"]),
    ],
)
def test_english_word_boundaries(matcher: KeywordMatcher, text: str, expected: list[str]) -> None:
    assert [h.term for h in matcher.match(text)] == expected


def test_disclosure_and_variants(matcher: KeywordMatcher) -> None:
    assert [(h.term, h.category) for h in matcher.match("本视频由 A I 生成")] == [("由AI生成", "disclosure")]
    assert [h.term for h in matcher.match("想要的加薇信")] == ["加微信"]


def test_matcher_reloads_lexicon(tmp_path: Path) -> None:
    for f in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    m = KeywordMatcher(Lexicon.load(tmp_path))
    assert m.match("来玩新赌法") == []
    assert m.match_many(["来玩新赌法", "你好"]) == [[], []]
    p = tmp_path / "gambling.yaml"
    p.write_text(p.read_text(encoding="utf-8") + "  - {term: 新赌法, lang: zh, weight: 0.9}\n", encoding="utf-8")
    os.utime(p, ns=(p.stat().st_mtime_ns + 10**9,) * 2)
    assert m.reload_if_changed() is True
    assert [h.term for h in m.match("来玩新赌法")] == ["新赌法"]
    # the batch path's prefilter follows the reload too
    assert [[h.term for h in hits] for hits in m.match_many(["来玩新赌法", "你好"])] == [["新赌法"], []]


def test_two_phrases_of_one_ambiguous_pattern_corroborate_each_other(tmp_path: Path) -> None:
    for f in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    p = tmp_path / "gambling.yaml"
    family = (
        "  - {name: test_family, regex: '(?:甲乙丙|丁戊己)', weight: 0.7, ambiguous: true, anchors: [甲乙丙, 丁戊己]}\n"
    )
    p.write_text(p.read_text(encoding="utf-8").replace("patterns:\n", "patterns:\n" + family, 1), encoding="utf-8")
    m = KeywordMatcher(Lexicon.load(tmp_path))
    two = [(h.matched, h.context, h.weight) for h in m.match("甲乙丙，丁戊己")]
    assert two == [("甲乙丙", "plain", 0.7), ("丁戊己", "plain", 0.7)]
    same = m.match("甲乙丙，甲乙丙")  # one phrase said twice is one piece of evidence
    assert same and all(h.context == "ambiguous" for h in same)


def test_building_a_matcher_loads_the_pinyin_syllables(lexicon: Lexicon) -> None:
    """The syllable table is built with the matcher, not inside the first match that needs it
    (a live stream's first QR code or caption would wait about half a second for it)."""
    from moderation.text import pinyin

    pinyin._syllables.cache_clear()
    KeywordMatcher(lexicon)
    assert pinyin._syllables.cache_info().currsize == 1


def test_a_long_document_is_matched_clause_by_clause(matcher: KeywordMatcher) -> None:
    # A transcript or room introduction of many sentences: the hits are those of its sentences,
    # pinyin written into a late sentence included (found by a scan of its own clause).
    benign = ["今天天气不错", "大家晚上好", "we are playing ranked tonight", "这道菜要先焯水", "谢谢大家的支持"]
    spam = ["不刷huojian就下播", "色情shipin出售"]
    sentences = [benign[i % len(benign)] for i in range(300)] + spam + benign
    doc = "。".join(sentences)
    assert len(doc) > 2000
    found = [(h.term, doc[h.span[0] : h.span[1]]) for h in matcher.match(doc) if h.weight > 0]
    expected = [(h.term, line[h.span[0] : h.span[1]]) for line in spam for h in matcher.match(line)]
    assert expected and found == expected


def test_a_longer_ambiguous_hit_holding_an_unambiguous_one_counts_unaided(matcher: KeywordMatcher) -> None:
    """注册就送 (a sign-up bonus, unambiguous) inside the ambiguous sign-up-credit pattern
    (注册就送18块) is no weaker for being read as the longer hit; a phrase the lexicon lists as
    ambiguous with the same span as a pattern (送个礼物 and the gift pattern) stays ambiguous."""
    hits = [h for h in matcher.match("今天注册就送18块") if h.category == "gambling"]
    assert hits and max(h.weight for h in hits) >= 0.5, hits
    assert all(h.context != "ambiguous" for h in hits)
    gift = [h for h in matcher.match("送个礼物呗") if h.category == "tipping_inducement"]
    assert gift and all(h.context == "ambiguous" for h in gift), gift
