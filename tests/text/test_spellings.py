"""Spellings that stand one character of a term in for something else: its pinyin initial
("s情"), a digit read as a letter inside a pinyin word ("1iwu"), a number written with the letter o
("8oo"), and a disguised word put in quotes to point it out ("“堵球”")."""

from __future__ import annotations

import re

import pytest

from moderation.text.initials import initial_variants, word_initial_variants
from moderation.text.lexicon import Lexicon, LexiconEntry
from moderation.text.lexicon_index import _fold_leet
from moderation.text.matcher import KeywordMatcher
from moderation.text.needles import literal_words


def _evidence(matcher: KeywordMatcher, text: str) -> set[str]:
    """The categories ``text`` holds evidence of (hits of weight above 0)."""
    return {h.category for h in matcher.match(text) if h.weight > 0}


def _entry(term: str, lang: str = "zh") -> LexiconEntry:
    return LexiconEntry(term, "gambling", lang, 0.9, None, (), "test")


def test_each_character_of_a_term_may_be_its_initial() -> None:
    got = initial_variants([_entry("赌场"), _entry("时时彩")])
    assert got["d场"] == got["赌c"] == "赌场"
    assert got["s时彩"] == got["时sh彩"] == got["时时c"] == "时时彩"
    # one character at a time: a key is never latin letters alone
    assert "dc" not in got and all(any("\u4e00" <= c <= "\u9fff" for c in k) for k in got)


def test_english_terms_long_terms_and_terms_spelled_so_already_get_none() -> None:
    got = initial_variants([_entry("casino", "en"), _entry("真人视讯平台"), _entry("傻逼"), _entry("傻b")])
    assert not any(v in ("casino", "真人视讯平台") for v in got.values())
    assert "傻b" not in got  # a term as written stays that term
    assert got["s逼"] == "傻逼"


def test_a_pattern_spells_out_its_literal_runs_and_plain_branches() -> None:
    words = literal_words(re.compile(r"(?:不刷|不送)(?:礼物|火箭)就?(?:下播|关播)[^,.]{0,3}(?:游艇|嘉年华)+"))
    assert {"不刷", "不送", "礼物", "火箭", "下播", "关播", "游艇", "嘉年华"} <= words
    assert not any("就" in w for w in words if len(w) > 1)  # an optional 就 ends the runs around it
    assert literal_words(re.compile(r"[0-9]+个")) == {"个"}


def test_pattern_words_get_initial_spellings_but_not_dictionary_words_or_shared_ones() -> None:
    freq = {"k歌": 5, "这个": 61310}
    got = word_initial_variants(["游艇", "嘉年华", "下播", "可歌", "私聊", "骚聊", "一个", "这个"], freq)
    assert got["游t"] == got["y艇"] == "游艇"
    assert got["嘉年h"] == "嘉年华" and got["下b"] == "下播"
    assert "k歌" not in got  # a dictionary word as written (K歌)
    assert "s聊" not in got  # 私聊 or 骚聊: either
    assert not any(c.isdigit() for k in got for c in k)  # "1个" is a count
    assert "z个" not in got  # an everyday word is nobody's disguise (and z个 may be 砸个)
    assert word_initial_variants(["真人视讯平台", "gift"], {}) == {}


@pytest.mark.parametrize(
    ("text", "term"),
    [("榜1大哥 再来1个游t", "gift_count"), ("b1大哥 再来1个游艇", "gift_count")],
)
def test_a_gift_name_spelled_with_an_initial_is_read_by_its_pattern(
    matcher: KeywordMatcher, text: str, term: str
) -> None:
    assert term in {h.term for h in matcher.match(text) if h.weight > 0}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("s情片 五块一部", "vulgar"),
        ("今晚开个d场 带你们玩", "gambling"),
        ("时时c 五星计划 稳", "gambling"),
        ("l聊 一对一 十分钟", "vulgar"),
    ],
)
def test_an_initial_in_place_of_a_character_is_read(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in _evidence(matcher, text), text


@pytest.mark.parametrize("text", ["this情况好复杂", "b站的up主更新了", "c位出道的那个", "我是i人你是e人"])
def test_letters_that_run_into_words_or_stand_for_themselves_are_not_terms(matcher: KeywordMatcher, text: str) -> None:
    assert not _evidence(matcher, text), text


def test_a_one_in_a_pinyin_word_may_be_an_l() -> None:
    # 1 as i keeps a word pinyin (j1an), 1 as l where only that does (1iwu, 1ei); English keeps 1 as i
    assert _fold_leet("j1an 1iwu 1ei") == "jian liwu lei"
    assert _fold_leet("w1n b1g") == "win big"
    assert _fold_leet("ca5ino") == "casino"


def test_a_number_written_with_o_stays_a_number() -> None:
    assert _fold_leet("8oo 1oo% 5o") == "800 100% 50"
    assert _fold_leet("b0cai") == "bocai"


def test_leet_pinyin_with_an_l_reaches_the_term(matcher: KeywordMatcher) -> None:
    hits = matcher.match("百家1e 今晚开局")
    assert any(h.term == "百家乐" and h.weight > 0 for h in hits)


@pytest.mark.parametrize(
    "text",
    [
        "想玩“堵球”的私我，今晚稳",  # a variant in scare quotes
        "有没有“杜场”的链接，带我一个",
    ],
)
def test_a_disguised_word_in_quotes_is_pointed_out_not_quoted(matcher: KeywordMatcher, text: str) -> None:
    # evidence (ambiguous or plain, by what else the line says), never a mention
    assert any(h.category == "gambling" and h.weight > 0 for h in matcher.match(text)), text


@pytest.mark.parametrize(
    "text",
    [
        "新闻里说的“赌球”团伙被抓了，大家别碰",  # the term as written, quoted in a report
        "他一直说“加我带你赌球稳赚”，我直接拉黑了",  # a whole pitch quoted
    ],
)
def test_a_term_quoted_as_written_stays_a_mention(matcher: KeywordMatcher, text: str) -> None:
    assert not _evidence(matcher, text), text


def test_the_real_lexicon_spells_its_terms_by_initials(lexicon: Lexicon) -> None:
    got = initial_variants(lexicon.entries)
    assert got and all(v in {e.term for e in lexicon.entries} for v in got.values())


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("“力勿”送一送，今晚冲", "tipping_inducement"),  # a gift name by sound, in quotes
        ("整个“加年华”，马上给你“卫心”", "tipping_inducement"),
        ("有没有“落聊”的，价格好说", "vulgar"),
    ],
)
def test_a_homophone_alone_in_quotes_reads_as_the_word(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in _evidence(matcher, text), text


@pytest.mark.parametrize("text", ["财政“下拨”了救灾款", "这道菜叫“蚂蚁上树”", "他的外号叫“小飞侠”"])
def test_quoted_ordinary_words_stay_what_they_are(matcher: KeywordMatcher, text: str) -> None:
    assert not _evidence(matcher, text), text


@pytest.mark.parametrize(
    "text",
    [
        "刷三个“极光之翼”，我就私聊你",  # a gift name no dictionary lists, after a gift verb and its count
        "送一艘「深海巨鲸号」就给你开专属语音",
        "砸十个“2027烟花秀”，今晚陪你聊",
    ],
)
def test_an_invented_name_where_a_gift_stands_reads_as_a_gift(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in _evidence(matcher, text), text


@pytest.mark.parametrize(
    "text",
    [
        "主播来个“七里香”吧",  # a song requested
        "送一个“惊喜”给大家，抽奖开始",  # a dictionary word: what the streamer gives the room
        "今天要刷十个“深渊副本”才能毕业",  # what a game has players grind
        "我送了三朵“小红花”给老师",
    ],
)
def test_quoted_songs_words_and_game_grinds_are_no_gift(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in _evidence(matcher, text), text


def test_respelling_keeps_spans_and_joins_the_quote_to_its_clause(matcher: KeywordMatcher) -> None:
    text = "送个“获箭”吧"
    out = matcher.sounds.respell(text)
    assert len(out) == len(text) and "火箭" in out and "“" not in out
    hit = next(h for h in matcher.match(text) if h.weight > 0)
    assert "获箭" in text[hit.span[0] : hit.span[1]]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("🚀🚀🚀 = 私人📹，今晚有效", "tipping_inducement"),  # a gift traded for private media
        ("🛥️一个换📱", "tipping_inducement"),
        ("🧧💣群，三元一包", "gambling"),  # a red envelope with a mine
        ("🎲大小单双 跟着买", "gambling"),
    ],
)
def test_gift_contact_and_game_symbols_read_as_words(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in _evidence(matcher, text), text


@pytest.mark.parametrize("text", ["🧧新年快乐，发红包啦", "刚拍的📸跑车照片好看吗", "✈️上📱要开飞行模式", "🎲桌游之夜"])
def test_those_symbols_in_ordinary_lines_are_no_evidence(matcher: KeywordMatcher, text: str) -> None:
    assert not _evidence(matcher, text), text


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("送一架飞机，给你看我的私人照", "tipping_inducement"),  # a gift counted by its own measure word
        ("刷三辆跑车，今晚不下", "tipping_inducement"),
        ("看了三小时，一颗小心心都舍不得送", "tipping_inducement"),  # shamed for not sending the least gift
        ("舰长可以加我的v群，福利多多", "tipping_inducement"),  # a paid rank traded for private contact
        ("成人无码合集，私信发你", "vulgar"),
    ],
)
def test_gift_measure_words_stinginess_and_rank_perks(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in _evidence(matcher, text), text


@pytest.mark.parametrize(
    "text",
    [
        "我一朵花都没有收到过，有点难过",  # nobody shamed
        "他一个礼物都没送过，也天天来捧场",
        "舍不得孩子套不着狼",  # 不得 inside an everyday word is no prohibition...
        "送一辆自行车给我侄子",
    ],
)
def test_those_words_in_ordinary_lines_are_no_evidence(matcher: KeywordMatcher, text: str) -> None:
    assert not _evidence(matcher, text), text


def test_a_prohibition_still_frames_its_sentence(matcher: KeywordMatcher) -> None:
    # ...while 不得 itself still makes a rule out of the sentence
    assert all(h.context == "counter" for h in matcher.match("直播间不得诱导打赏"))


def test_a_pinyin_sentence_may_hold_chat_initialisms(matcher: KeywordMatcher) -> None:
    hits = matcher.match("pk zui hou shi miao, da ge men shua ge huo jian")
    assert any(h.category == "tipping_inducement" and h.weight > 0 for h in hits)
    assert not matcher.match("ok wo zhi dao le, xie xie da jia")


def test_latin_pinyin_counts_as_written_and_a_han_homophone_as_a_guess(matcher: KeywordMatcher) -> None:
    # the writer spelled the word: same weight as in characters; a Han homophone is discounted
    han = next(h for h in matcher.match("百家乐走起") if h.term == "百家乐")
    latin = next(h for h in matcher.match("baijiale 走起") if h.term == "百家乐")
    homophone = next(h for h in matcher.match("白家乐走起") if h.term == "百家乐")
    assert latin.via == homophone.via == "pinyin"
    assert latin.weight == han.weight and homophone.weight == pytest.approx(han.weight * matcher.pinyin_weight)


@pytest.mark.parametrize(
    "text",
    [
        "天天哭穷求礼物的主播，我已经取关了",  # a viewer telling what a streamer does
        "逼新人刷礼物的公会，真该被封",
        "打赏主播是自愿的，量力而行",  # giving said to be voluntary
    ],
)
def test_tipping_told_of_a_third_party_or_as_voluntary_is_no_ask(matcher: KeywordMatcher, text: str) -> None:
    assert not [h for h in matcher.match(text) if h.weight > 0 and h.category == "tipping_inducement"], text


def test_a_describer_leaves_other_categories_alone(matcher: KeywordMatcher) -> None:
    # an offer named by who offers it is still an offer
    assert any(h.category == "vulgar" and h.weight > 0 for h in matcher.match("有没有裸聊的主播，私我"))


def test_a_contact_handle_after_a_look_alike_add_corroborates(matcher: KeywordMatcher) -> None:
    # 加薇 is 加微 (add on WeChat), and the id after it is a contact: the ambiguous 跟单 now counts
    hits = matcher.match("要跟单的加薇 abc2233")
    assert any(h.category == "gambling" and h.context == "plain" for h in hits)
    # a Telegram link is a lure like a web address
    assert matcher.context.has_lure(matcher.normalizer("群在 t.me/xyz").text)


def test_a_digit_may_stand_for_the_character_it_sounds_like() -> None:
    got = initial_variants([_entry("六合彩"), _entry("无码资源"), _entry("私处"), _entry("快三")])
    assert got["6合彩"] == "六合彩" and got["5码资源"] == "无码资源" and got["快3"] == "快三"
    # a leading digit of a two-character term reads as a count: none
    assert "4处" not in got


@pytest.mark.parametrize(
    ("text", "category"), [("今晚6合彩开什么，私我", "gambling"), ("5码视频合集，主页自取", "vulgar")]
)
def test_digit_spellings_are_read(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in _evidence(matcher, text), text


@pytest.mark.parametrize("text", ["这是第4处伤口", "快3点了还不睡", "今天跑了3公里"])
def test_numbers_stay_numbers(matcher: KeywordMatcher, text: str) -> None:
    assert not _evidence(matcher, text), text


@pytest.mark.parametrize(
    "text",
    [
        "研究发现网赌平台的赔率都被后台改过",  # a finding reported
        "那个州上个月通过了体育博彩合法化",
        "天天喊人刷火箭，烦死了",  # a viewer's verdict on the room
        "我同学玩网赌欠了几十万，大家引以为戒",  # a loss told as a warning
    ],
)
def test_findings_complaints_and_losses_told_are_mentions(matcher: KeywordMatcher, text: str) -> None:
    assert not _evidence(matcher, text), text


@pytest.mark.parametrize(
    ("text", "category"),
    [("没刷lw的就别在公屏说话了", "tipping_inducement"), ("棋牌游戏可以tx，秒到账", "gambling")],
)
def test_platform_initialisms_read_as_their_words(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in _evidence(matcher, text), matcher.match(text)


def test_an_initialism_inside_a_latin_word_is_left_alone(matcher: KeywordMatcher) -> None:
    assert _evidence(matcher, "the lwp library and the dgx box") == set()
