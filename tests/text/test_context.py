"""Word-aware matching, clause context, corroboration and the evasion classes, on the real lexicon."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.text.clauses import CLAUSE_RE, SENTENCE_RE, clause_bounds
from moderation.text.context import ContextRules
from moderation.text.lexicon import DEFAULT_DIR, Lexicon, LexiconError
from moderation.text.matcher import KeywordMatcher
from tests.helpers.text_hits import evidence


def _ctx(matcher: KeywordMatcher, text: str) -> list[tuple[str, str]]:
    return [(h.term, h.context) for h in matcher.match(text)]


@pytest.mark.parametrize(
    "text",
    [
        "比赛快三分钟就结束了",  # 快三 inside 快三分钟
        "昨晚刷火箭队的集锦到两点",  # 刷火箭 inside 火箭队
        "我们小区的实时菜价公告",  # homophone of 时时彩 inside ordinary words
    ],
)
def test_terms_inside_other_words_do_not_match(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


def test_terms_still_match_as_words(matcher: KeywordMatcher) -> None:
    assert "gambling" in evidence(matcher, "今晚快三开奖，跟我买")
    assert "tipping_inducement" in evidence(matcher, "家人们刷火箭啊")
    assert "gambling" in evidence(matcher, "一起玩石石彩吧")  # homophone that only reads as the term


@pytest.mark.parametrize(
    "text",
    [
        "平台将依法从严查处组织网络赌博的直播间",
        "主播不得以任何方式诱导未成年人打赏",
        "警方昨日捣毁一个利用直播间招嫖的团伙",
        "公安机关破获一起案件，涉案人员在境外开设百家乐网站",
        "Regulators banned online casino ads on live streams",
    ],
)
def test_rules_and_news_are_counter_context(matcher: KeywordMatcher, text: str) -> None:
    hits = matcher.match(text)
    assert hits and all(h.context in ("counter", "nominal") and h.weight == 0.0 for h in hits), hits


def test_negation_applies_before_the_term_unless_broken(matcher: KeywordMatcher) -> None:
    assert _ctx(matcher, "大家千万不要碰百家乐") == [("百家乐", "counter")]
    assert _ctx(matcher, "不要错过今晚的百家乐") == [("百家乐", "plain")]
    assert _ctx(matcher, "百家乐真好玩，不要走") == [("百家乐", "plain")]  # negation after the term


@pytest.mark.parametrize("text", ["拒绝熬夜，今晚百家乐走起", "别玩手游了。来玩百家乐", "不要走开！裸聊开始了"])
def test_a_negation_does_not_reach_across_clause_punctuation(matcher: KeywordMatcher, text: str) -> None:
    # normalisation turns the punctuation between Han words into a space; that space still ends
    # the negation's clause, so a cue in one clause cannot mute a term in the next
    assert evidence(matcher, text), matcher.match(text)


def test_a_negation_cue_that_runs_into_the_term_negates_it(matcher: KeywordMatcher) -> None:
    # the cue's verb is the term's first character: 别玩 + 玩菠菜, 别刷 + 刷礼物
    for text in ("朋友们千万别玩菠菜", "奉劝各位别刷礼物了", "真心劝你别碰网赌"):
        hits = [h for h in matcher.match(text) if h.weight > 0]
        assert not hits, (text, hits)
    assert [h.term for h in matcher.match("别玩菠菜了，来我这百家乐，加微信") if h.weight > 0]  # a lure wins


@pytest.mark.parametrize(
    "text",
    [
        "网赌真的害人，输光了工资",  # condemnation
        "说什么稳赚不赔的都是骗子",
        "又有人刷约炮链接，房管封一下",  # a viewer calling the room's moderators
        "打赏要理性，冲榜不值得借钱",
    ],
)
def test_condemnation_and_reports_to_moderators_are_counter_context(matcher: KeywordMatcher, text: str) -> None:
    hits = matcher.match(text)
    assert hits and all(h.weight == 0.0 for h in hits), hits


@pytest.mark.parametrize(
    "text",
    [
        "有个人一直私聊我说加我微信带你玩百家乐，大家别信",
        "刚刚那人发了个裸聊链接。已经拉黑了",
        "对方打电话让我下注时时彩，一听就是骗子",
        "some guy keeps sending me online casino links, blocked him",
        "a stranger messaged me: add me on wechat for sugar daddy. reported",
    ],
)
def test_reported_speech_ending_in_a_warning_is_a_mention(matcher: KeywordMatcher, text: str) -> None:
    hits = matcher.match(text)
    assert hits and all(h.weight == 0.0 for h in hits), hits
    assert not matcher.context.has_lure(matcher.normalizer(text).text)


def test_a_lure_after_the_warning_still_counts(matcher: KeywordMatcher) -> None:
    text = "有人说我们是骗子？加我微信，百家乐稳赚"
    assert matcher.context.has_lure(matcher.normalizer(text).text)
    assert "gambling" in evidence(matcher, text)
    # a report without a warning is not a mention
    assert "gambling" in evidence(matcher, "有人说今晚百家乐必赢，跟我下注")


def test_nominal_use_is_notevidence(matcher: KeywordMatcher) -> None:
    assert _ctx(matcher, "我的打赏明细在哪看") == [("打赏", "nominal")]
    # a theme or style named after the thing
    assert evidence(matcher, "酒店大堂是老式赌场风格的装修") == set()
    assert evidence(matcher, "这套卡牌是赌场题材的") == set()


def test_play_money_is_a_mention(matcher: KeywordMatcher) -> None:
    assert evidence(matcher, "我们玩的德州扑克用积分下注，不涉及真钱") == set()
    assert "gambling" in evidence(matcher, "真钱下注，秒到账，加我微信")


def test_a_lure_overrides_a_counter_frame(matcher: KeywordMatcher) -> None:
    (hit,) = [h for h in matcher.match("严禁外传：百家乐内部群，加微 abc12345") if h.term == "百家乐"]
    assert hit.context == "plain" and hit.weight > 0.5


def test_latin_lures_stand_apart_from_other_letters(matcher: KeywordMatcher) -> None:
    rules = matcher.context

    def lure(text: str) -> bool:
        return rules.has_lure(matcher.normalizer.normalize(text).text)

    assert lure("www.abc123.com") and lure("去 xyz.vip 注册") and lure("abc123点com") and lure("dm me now")
    assert not lure("welcome back, read the comments") and not lure("internet is slow") and not lure("dm means")
    # so a warning in English is not turned into spam by the word "comment"
    assert evidence(matcher, "don't open the link in that comment, it is a gambling site scam") == set()


def test_a_negated_lure_is_a_warning(matcher: KeywordMatcher) -> None:
    assert not matcher.context.has_lure("大家不要私聊那个账号")
    assert matcher.context.has_lure("不要犹豫 私聊我")  # a breaker: an invitation
    assert "gambling" in evidence(matcher, "不要犹豫，私聊我进百家乐群")


def test_a_warning_after_the_topic_is_a_mention(matcher: KeywordMatcher) -> None:
    assert evidence(matcher, "那种百家乐群千万别进") == set()
    assert evidence(matcher, "群里说的时时彩计划别信") == set()
    assert "gambling" in evidence(matcher, "百家乐群今晚开，千万别错过")  # the warning is its own clause


@pytest.mark.parametrize(
    "text",
    [
        "刚才刷屏的时时彩链接，大家别点",  # the warning in a later clause of the sentence
        "这个棋牌app说白了就是网赌，别下载",
        "他玩百家乐输光了一套房",  # what it did to someone
        "那个下注平台根本提不了现",
        "网赌没有回头路的，早点收手",
        "要礼物才肯唱，取关了",  # a viewer leaving
        "又是发裸聊广告的机器人",  # the sender named as a bot
        "我没钱刷礼物，给你点个赞吧",  # the speaker declining for themselves
        "我不打赏也可以看的吧",
        "做擦边直播的那几个号都被约谈了",  # what a regulator did to a room
        "这个平台因为网络赌博广告被要求整改",
        "大家别被那种首充送彩金的私信骗了",  # a scam found out
    ],
)
def test_warnings_harms_and_refusals_are_mentions(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("正规百家乐平台，绝对不是骗局", "gambling"),  # a denied harm cue is a reassurance
        ("网赌平台没有杀猪盘，放心玩", "gambling"),
        ("百家乐今晚开桌，千万别错过", "gambling"),  # a breaker after the later-clause warning
        ("家人们刷礼物，别犹豫", "tipping_inducement"),
        ("不怕封禁，稳定出款，百家乐走起", "gambling"),  # a spammer's reassurance
        ("还有五分钟下架，最后一波刷礼物", "tipping_inducement"),  # a live shop's countdown is no frame
        ("PK输了要接受处罚，家人们刷礼物啊", "tipping_inducement"),  # nor a loser's forfeit
        ("都说是杀猪盘，我们这是正规娱乐城，出款五分钟", "gambling"),  # the warning answered
        ("别人家都是骗子，我家百家乐绝对靠谱", "gambling"),
        ("双色球计划群，跟我包中", "gambling"),  # a state lottery's name in a plan-seller's pitch
        ("外送茶服務，新到正妹，價格私訊", "vulgar"),  # 服务 after a sex-work word is what is sold
        ("你他妈的闭嘴", "vulgar"),  # the curse put to someone
    ],
)
def test_denied_harms_and_broken_warnings_stayevidence(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "别给主播刷礼物了，量力而行",  # a bare 别
        "我不赞成靠刷礼物拉人气",
        "今年三季度博彩收入同比下降两成",  # statistics
        "赌博违法，我们要做合法公民",  # a resolve, not a claim of legitimacy
        "大乐透追加投注一注是三块钱，多一块钱中了奖金更多",  # a state lottery explained
        "The odds of winning the Powerball jackpot are about one in 292 million",
        "我表哥玩网上百家乐输了三十多万，现在天天被催债",  # a story of ruin
        "榜一大哥刚才说要刷个大的，我拦住了，别乱花",  # the streamer holds a gift back
        "刚才那个送火箭的兄弟，你还在读高中，我已经帮你申请退款了",
        "歡迎啱啱入嚟嘅朋友，今晚傾吓偈，唔使送禮物㗎",  # Cantonese "no need"
        "他妈的，这关打了十遍还没过，气死我了",  # an interjection at a game
        "网上的百家乐都是骗子，我们要远离所谓正规平台",
        "13岁孩子偷用家长手机打赏主播5万余元，平台核实后全额退还",  # a sum rounded as a report writes it
        "家长起诉平台，要求退还孩子的打赏",  # a lawsuit
        "沉迷打赏的那两年，工资全搭进去了",  # a regret
        "这个游戏的赌场关卡太难打了",  # game content
    ],
)
def test_more_counter_and_nominal_frames(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


def test_a_push_to_stop_watching_for_free_still_invites(matcher: KeywordMatcher) -> None:
    assert "tipping_inducement" in evidence(matcher, "别光看了快给主播刷礼物")


def test_ambiguous_terms_need_corroboration(matcher: KeywordMatcher) -> None:
    (alone,) = matcher.match("谁来带我上分，今晚冲王者")
    assert (alone.term, alone.context) == ("上分", "ambiguous") and alone.weight < 0.1
    both = {h.term: h for h in matcher.match("上分下分找客服")}
    assert both["上分"].context == "plain" and both["上分"].weight >= 0.5  # 下分 corroborates
    lured = {h.term: h for h in matcher.match("上分加我 vx: zz88661")}
    assert lured["上分"].context == "plain"
    (linked,) = matcher.match("https bet casino 888 example register")  # a QR payload's words
    assert (linked.term, linked.context, linked.weight) == ("casino", "plain", 0.5)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("w w w . 7 7 7 c a s i n o . c o m 注册就送", "gambling"),  # spaced letters
        ("入口：www点bet8899点cc", "gambling"),  # 点 for dots
        ("新站 x p j 8 8 点 v i p", "gambling"),  # a brand initialism (新葡京) as a domain label
        ("老地址换了：h t t p s : / / q p 6 6 . t o p", "gambling"),  # 棋牌 as qp, spaced
        ("开奖直播 lhc⑧⑧．ｃｃ", "gambling"),  # 六合彩 as lhc, circled digits and full-width dots
        ("ca5ino bonus for everyone", "gambling"),  # leetspeak
        ("free p0rn here", "vulgar"),
        ("b0cai平台", "gambling"),  # leetspeak into pinyin
        ("bó cǎi 平台来了", "gambling"),  # tone marks
        ("kuailaixiazhu", "gambling"),  # run-on pinyin
        ("nmsl", "vulgar"),  # initialism
        ("加拿大28计划群", "gambling"),  # lottery product
        ("刷個穿云箭吧", "tipping_inducement"),  # 刷个 + gift, Traditional
        ("刷🚀🚀🚀", "tipping_inducement"),  # gift emoji
        ("扣扣 88889999 私聊", "tipping_inducement"),  # contact lure with a handle
        ("BESTONLINECASINOBONUS", "gambling"),  # OCR dropped the spaces
    ],
)
def test_evasion_classes(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in evidence(matcher, text), matcher.match(text)


def test_run_on_pinyin_needs_certain_syllable_cuts(matcher: KeywordMatcher) -> None:
    assert evidence(matcher, "xiazhuang") == set()  # xia|zhuang, not xiazhu|ang


def test_english_spaceless_form_needs_a_long_key(matcher: KeywordMatcher) -> None:
    assert evidence(matcher, "betnowhere") == set()  # "bet now" is too short to match inside a run


def test_invalid_pattern_names_file_line_and_reason(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "category: x\npatterns:\n  - name: broken\n    regex: '(unclosed'\n    weight: 0.5\nterms: []\n",
        encoding="utf-8",
    )
    with pytest.raises(LexiconError, match=r"x\.yaml:3: pattern 'broken': invalid regex"):
        Lexicon.load(tmp_path)


def test_a_pattern_name_used_twice_in_a_category_is_rejected(tmp_path: Path) -> None:
    pat = "  - name: twice\n    regex: '{}'\n    weight: 0.5\n"
    (tmp_path / "x.yaml").write_text(
        "category: x\npatterns:\n" + pat.format("ab") + pat.format("cd") + "terms: []\n", encoding="utf-8"
    )
    with pytest.raises(LexiconError, match=r"x\.yaml:\d+: pattern 'twice' duplicated"):
        Lexicon.load(tmp_path)


def test_context_file_is_strict(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("category: x\nterms: []\n", encoding="utf-8")
    (tmp_path / "context.yaml").write_text("framez: [不得]\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"context\.yaml: framez"):
        Lexicon.load(tmp_path)


def test_segmenter_loads_with_the_matcher_not_at_import() -> None:
    # Importing the text package loads no dictionary; building a matcher does (once), so a live
    # stream's first message is not the one that waits a second for jieba.
    code = (
        "import sys\n"
        "from moderation.text.lexicon import Lexicon\n"
        "from moderation.text.matcher import KeywordMatcher\n"
        "assert 'jieba' not in sys.modules, 'jieba loaded at import'\n"
        f"m = KeywordMatcher(Lexicon.load({str(DEFAULT_DIR)!r}))\n"
        "from moderation.text import segment\n"
        "assert segment._tokenizer is not None, 'dictionary not loaded with the matcher'\n"
        "assert m.match('快三开奖了')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_clause_final_particle_does_not_swallow_the_term_before_it() -> None:
    # 菠菜网吧 segments as 菠菜/网吧 ("internet cafe"), but a clause-final 吧 is a particle.
    m = KeywordMatcher(Lexicon.load(DEFAULT_DIR))
    assert any(h.term == "菠菜网" for h in m.match("大家菠菜网吧"))
    assert not m.match("我们去网吧打游戏")  # 网吧 inside a clause stays an internet cafe
    assert not m.match("快三点了吧")  # and a particle never turns 快三点 into 快三


def _runs_before(view: str, s: int, rx: re.Pattern[str]) -> int:
    """The clause start as a scan of every punctuation run that starts before ``s`` finds it (a run
    reaching past ``s`` ends there)."""
    a = 0
    for m in rx.finditer(view):
        if m.start() < s:
            a = min(m.end(), s)
    return a


@pytest.mark.parametrize("rx", [CLAUSE_RE, SENTENCE_RE])
def test_clause_bounds_equal_a_scan_of_every_run(rx: re.Pattern[str]) -> None:
    views = ["", "百家乐", "你好,百家乐。下注!!来", "。。百家乐", "百家乐。。", "a.b.c", "以下,注意;x", "?!…"]
    views += ["一\n二\r\n三", "以下 注意 事项", "ab 百家 cd", "百 "]
    for view in views:
        for s in range(len(view) + 1):
            for e in range(s, len(view) + 1):
                a, b = clause_bounds(view, s, e, rx)
                m = rx.search(view, e)
                assert (a, b) == (_runs_before(view, s, rx), m.start() if m else len(view)), (view, s, e)


@pytest.mark.parametrize("rx", [CLAUSE_RE, SENTENCE_RE])
def test_clause_bounds_of_a_long_text_equal_the_scan(rx: re.Pattern[str]) -> None:
    # past a few hundred characters the bounds come from a list of the text's boundaries
    rng = random.Random(7)
    pieces = ["百家乐", "下注", " ", "。", ",", "!!", "ab", "hello world", "\n", "以下 注意", "x"]
    for _ in range(5):
        view = "".join(rng.choice(pieces) for _ in range(400))
        assert len(view) > 512
        for _ in range(300):
            s = rng.randrange(len(view))
            e = rng.randint(s, min(len(view), s + 6))
            m = rx.search(view, e)
            assert clause_bounds(view, s, e, rx) == (_runs_before(view, s, rx), m.start() if m else len(view))


def test_english_cues_need_their_first_letter(lexicon: Lexicon) -> None:
    rules = ContextRules(lexicon.context, lambda x: x.casefold())
    cues = rules._frames_en
    assert cues is not None
    plain = re.compile(cues.regex.pattern)
    words = sorted(w.casefold() for w in lexicon.context.frames_en)
    texts = ["网络赌博严打", "no cue here", *(f"it is {w} now" for w in words), *(f"x{w}x" for w in words)]
    for t in texts:
        assert bool(cues.search(t)) == bool(plain.search(t))
        assert [m.span() for m in cues.finditer(t)] == [m.span() for m in plain.finditer(t)]
    assert any(cues.search(t) for t in texts)


@pytest.mark.parametrize(
    "text", ["白嫖党路过看看", "我就是个白嫖的", "榜一大哥晚上好", "谢谢榜一大哥的嘉年华", "榜一大哥威武"]
)
def test_a_tipper_title_or_a_freeloader_label_alone_is_not_inducement(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "白嫖党们动动手指刷礼物",
        "榜一大哥快刷个火箭",
        "别白嫖了",
        "不刷礼物的都是白嫖",
        "白嫖怪都给我退散",  # freeloaders sent away
        "不送礼物的就别讲话了",
        "榜一大哥在哪，救救场子",  # the top tipper summoned
        "榜一姐姐下播后有独家合影",  # a reward promised to the top spot
        "谁当上榜一就送签名照",
    ],
)
def test_a_push_with_a_tipper_title_or_a_freeloader_label_still_counts(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "感谢大哥刷的火箭，太破费了",  # thanks for a gift already given
        "多谢姐妹送的灯牌",
        "兜里没钱刷礼物，只能每天来签到",  # the speaker cannot pay
        "木有钱刷礼物，就来看看",  # in the words of other regions and of the net
        "冇錢送禮物，睇下就好",
        "房管说了不许在公屏刷礼物链接",  # 不许 negates like 不要
        "这种百家乐直播间早就该封了",  # a call for the room to be shut
        "玩网赌的没有赢家",
        "百家乐这种东西，劝你们远离",  # the advice to keep away after the topic
        "刚刚有人发了个菠菜群，大家别进",  # reported speech ending in a warning
    ],
)
def test_thanks_inability_bans_and_keep_away_advice_are_mentions(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "感谢大哥的火箭，再来一个刷礼物冲榜",  # thanks, then an ask in the same clause
        "谢谢家人们，还差一个就上榜，继续刷礼物",
        "没钱的也来刷礼物支持一下",  # the poor are asked too
    ],
)
def test_thanks_or_inability_followed_by_an_ask_staysevidence(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "又有人刷“加我带你上岸”，谁信谁傻",  # spam quoted to mock it
        "听了“老师带你回本”那一套，结果亏得更多",
        "为了冲榜刷了三万块，现在后悔死了",  # the speaker's own regret
        "一看“首充送彩金”就知道是赌博平台，快跑",  # a warning to run
        "未成年的小朋友别给主播打赏",  # advice not to give
    ],
)
def test_quoted_spam_regret_and_warnings_are_mentions(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("“稳赚不赔”的项目，有兴趣私我", "gambling"),  # a lure outside the quotes keeps the pitch
        ("百家乐网站叫“金沙”，首充送彩金", "gambling"),  # a naming quote; the pitch outside counts
        ("“百家乐今晚开桌”", "gambling"),  # the whole line quoted: nothing is commented on
        ("百家乐今晚开桌，不来你会后悔", "gambling"),  # a sales threat is no regret
    ],
)
def test_pitches_with_quotes_or_threats_stayevidence(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "公安部门要严打网络赌球",  # 严打, the short form of 严厉打击
        "主播别再喊大家刷礼物了，这叫诱导",  # the rules' name for the act
        "刷礼物支持可以，但要量力而行",
        "百家乐都是后台控制的，谁也赢不了",  # the scam exposed
        "先让你赢点再收割，这就是网赌的套路",
        "那些能提现的捕鱼游戏其实都是赌博",
        "冲榜一的大哥真是大冤种",
        "私信发菠菜链接的那个号，我已经拉黑",  # the sender blocked
    ],
)
def test_crackdowns_exposures_and_blocks_are_mentions(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


def test_a_shops_guarantee_is_not_odds(matcher: KeywordMatcher) -> None:
    assert evidence(matcher, "正品保证，假一赔十") == set()
    assert "gambling" in evidence(matcher, "冷门一赔十，今晚下注的私我")


def test_a_pitch_that_denies_the_exposure_staysevidence(matcher: KeywordMatcher) -> None:
    assert "gambling" in evidence(matcher, "我们百家乐不是后台控制的，放心下注")


@pytest.mark.parametrize(
    "text",
    [
        "什么包赢不输，骗鬼去吧",  # the rhetorical 什么 X waves the thing away
        "啥高额返水啊，都是拿你本金发的",
        "什么百家乐的，我一把都没玩过",
        "玩百家乐的都是傻子，钱白送",  # the doers called fools
        "那种网赌平台就是收智商税",
        "年轻时网赌输了房子，现在早就戒了",  # the speaker has quit
        "以前天天在群里下注，戒了好几年了",
        "开口就要刷火箭的主播，不看了",  # a viewer leaving
    ],
)
def test_dismissals_contempt_recovery_and_leaving_are_mentions(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("什么百家乐龙虎斗都有，来玩", "gambling"),  # the clause goes on: what is on offer
        ("啥返水，加我微信细聊", "gambling"),  # a lure overrides the dismissal
        ("想玩什么百家乐，私聊我开台", "gambling"),  # 什么 inside a question, not opening the clause
        ("不看了？别走，再刷两个火箭", "tipping_inducement"),  # leaving asked about before the ask
        ("早就戒了？别怂，跟着老师回血上岸", "gambling"),  # quitting mocked before the pitch
    ],
)
def test_pitches_that_only_look_dismissive_stayevidence(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "Twitch policy does not allow sharing links to unlicensed gambling sites",
        "Gambling sites are not allowed in chat",
        "sharing porn links violates community guidelines",
    ],
)
def test_english_platform_rules_are_mentions(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set()


def test_an_english_pitch_without_those_rules_staysevidence(matcher: KeywordMatcher) -> None:
    assert "gambling" in evidence(matcher, "best online casino, sign up now")


@pytest.mark.parametrize(
    "text",
    [
        "境外赌场以高额返水为诱饵，发展代理拉人参赌",  # how an authority describes the offence
        "这个涉赌平台的资金流水已被冻结",
        "非法网络赌博平台通过返利吸引玩家",
        "有人在直播间诱骗老人下载百家乐软件",
        "警示：网络赌博典型案例五则",
    ],
)
def test_an_authoritys_account_of_the_offence_is_a_mention(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


def test_a_pitch_that_calls_others_illegal_staysevidence(matcher: KeywordMatcher) -> None:
    """A lure anywhere in the line overrides the frame: spam runs down its rivals to sell itself."""
    assert "gambling" in evidence(matcher, "别玩那些非法小平台了，我们百家乐正规稳定，加微信上分")


@pytest.mark.parametrize(
    "text",
    [
        "彩票计划群，胜率百分之九十，不准包赔",  # 不准 = inaccurate: a refund promise
        "龙虎斗我跟了十把赢了八把，你们说准不准",
        "跟我下注百家乐，不准的话全额退款",
    ],
)
def test_inaccurate_is_not_a_prohibition(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" in {h.category for h in matcher.match(text) if h.context != "counter"}, matcher.match(text)


def test_a_prohibition_by_the_same_word_stays_a_frame(matcher: KeywordMatcher) -> None:
    assert evidence(matcher, "直播间不准发百家乐广告") == set()


@pytest.mark.parametrize(
    "text",
    [
        "今晚再不刷火箭冲榜，完不成我要被罚款",  # the speaker's guild fine, not a regulator's
        "公会罚款就靠你们了，刷个嘉年华吧",
        "send gifts or I quit, if I miss the quota I get fined",
    ],
)
def test_the_speakers_own_penalty_is_not_a_frame(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in {h.category for h in matcher.match(text) if h.context != "counter"}, matcher.match(
        text
    )


@pytest.mark.parametrize(
    "text",
    ["主播诱导打赏被罚款", "违反规定要被罚款，不得诱导打赏", "streamers who push gifts get fined by the regulator"],
)
def test_a_fine_someone_else_gets_stays_a_frame(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["未成年的弟弟妹妹不要充值", "未成年的小朋友们别乱刷礼物，省着点"])
def test_minors_addressed_as_a_group_disclose_no_age(matcher: KeywordMatcher, text: str) -> None:
    assert "minors" not in evidence(matcher, text), matcher.match(text)


def test_a_minor_speaking_of_themselves_still_discloses(matcher: KeywordMatcher) -> None:
    assert "minors" in evidence(matcher, "我是未成年的学生，可以刷礼物吗")


@pytest.mark.parametrize(
    "text",
    [
        "我今天就看看，不送礼物了",
        "不刷礼物也可以一直来看吗",
        "俺从来不给主播刷礼物，纯听歌",
        "不送礼物一样是好观众",
        "不给她刷火箭也没关系吧",
    ],
)
def test_a_viewer_declining_to_give_is_no_inducement(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "不刷礼物的都给我出去",  # shaming those who do not give
        "光看不送礼物的，好意思吗",
        "你们再不刷礼物我就下播",  # a condition
        "不送个火箭还想上榜",  # a taunt
        "不刷礼物的也别在这白看",  # a concession undone by a breaker
        "不下注就没机会翻本",  # refusals are for gifts only
    ],
)
def test_shaming_or_threatening_non_givers_staysevidence(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["我刚送了个小心心，主播加油", "俺今天打赏了一点，别嫌少", "我也刷个火箭庆祝一下吧"])
def test_a_viewer_telling_of_a_gift_of_his_own_is_no_inducement(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "我先刷个火箭，兄弟们跟上",  # turning to the others
        "给我刷个火箭吧",  # 我 is whom the gift is for
        "我要礼物，快点",  # asking is no giving verb
    ],
)
def test_a_speaker_asking_or_leading_the_others_staysevidence(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "飞行棋我下注两颗棋子，输了就回家",
        "三国杀里押注主公必死",
        "这把用欢乐豆下注，输了也无所谓",
        "狼人杀下注预言家是真的",
        "今晚开黑上分，有没有钻石段位的兄弟带飞一下",  # 上分 in ranked play is rank, not credit
    ],
)
def test_a_bet_in_a_game_played_for_no_money_is_a_move(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "桌游下注，一局一百",  # real money named
        "欢乐豆下注，赢了可以提现",
        "狼人杀下注，加我微信进群",  # a lure overrides
        "今晚下注稳赚",  # no game
        "斗地主开黑，上分下分找客服",  # 下分 cashes credit out
    ],
)
def test_a_game_with_real_money_or_a_lure_stays_gambling(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "包赢包赚的好事，能轮得到你吗",
        "评论区说能提现的棋牌都是托",
        "私信说加微信领福利的是冒充的",
        "那个博彩软件是木马",
    ],
)
def test_a_claim_knocked_down_after_it_is_a_mention(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


@pytest.mark.parametrize("text", ["正规百家乐平台，不是骗人的", "稳赚不赔的彩票计划，绝对不是骗你的"])
def test_a_knock_down_denied_is_no_mention(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("free spins for everyone, sign up with my invite code", "gambling"),
        ("one night stand tonight, hit me up", "vulgar"),
        ("best slots bonus, whatsapp me", "gambling"),
        ("彩票内部计划，有需要的私", "gambling"),
    ],
)
def test_english_channels_and_invite_codes_are_lures(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "don't click the link, that casino site is a scam",  # the cue is typed with its apostrophe
        "楼上那个加微信领彩金的是骗子，大家别点",  # a warning after the lure points at it
    ],
)
def test_a_lure_warned_against_is_a_mention(matcher: KeywordMatcher, text: str) -> None:
    assert evidence(matcher, text) == set(), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    ["下班发工资了，送个小心心", "主播辛苦了，刷个玫瑰表示一下", "送个棒棒糖，祝福主播生日快乐"],
)
def test_a_gift_with_the_givers_own_reason_is_his_own(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "送个小礼物吧，主播辛苦了",  # 吧 asks
        "大家刷个玫瑰，祝福主播生日快乐",  # turns to the room
        "刷个火箭，谢谢老板",  # thanks the tippers in advance
        "送火箭的宝宝我都会私信感谢主播",  # the givers, spoken of
    ],
)
def test_a_subjectless_gift_that_asks_staysevidence(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["那个女主播成天要礼物，烦死了", "隔壁直播间一直在喊刷火箭，吵得很"])
def test_a_complaint_about_someone_elses_asking_is_a_mention(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["我月薪三千，看到大哥们刷嘉年华只能默默鼓掌", "好羡慕有人随手刷火箭"])
def test_gifts_a_viewer_saw_others_give_are_a_mention(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    ["看到大哥刷火箭了，兄弟们跟上", "想看到大家刷火箭", "看着你们刷礼物真开心，继续"],  # rally, wish, cheer on
)
def test_a_sight_turned_into_a_call_stays_evidence(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


def test_a_habit_told_to_rally_the_room_staysevidence(matcher: KeywordMatcher) -> None:
    text = "主播一直要礼物，大家快送火箭"
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("输了的朋友别上火，私我，三天帮你把本金捞回来", "gambling"),
        ("亏进去多少我都有办法帮你追回来", "gambling"),  # 办法 alone is no regulation
        ("新人首周输多少赔多少", "gambling"),
    ],
)
def test_losses_offered_back_or_refunded_areevidence(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    ["这把输了，跟我组队下把翻盘", "排位掉分了，带你们开黑回血", "依据网络直播营销管理办法，主播不得诱导用户下注"],
)
def test_games_won_back_and_regulations_stay_mentions(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["正规百家乐，不违法", "下注秒到账，绝对不骗人"])
def test_a_frame_cue_denied_by_a_bare_negation_is_no_frame(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["我邻居玩百家乐输了三十万", "他赌球赌到倾家荡产", "同事网赌把房子都卖了"])
def test_a_story_of_ruin_after_the_topic_is_a_mention(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" not in evidence(matcher, text), matcher.match(text)


def test_a_ruin_with_a_way_out_offered_staysevidence(matcher: KeywordMatcher) -> None:
    text = "网赌输了几十万的兄弟，加我微信带你回本"
    assert "gambling" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("join our betting group, daily picks", "gambling"),
        ("show us your legs, nobody is here for the music", "vulgar"),
        ("what's your price for one night", "vulgar"),
    ],
)
def test_english_chat_vocabulary(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert category in evidence(matcher, text), matcher.match(text)


def test_an_english_warning_after_the_topic_is_a_mention(matcher: KeywordMatcher) -> None:
    text = "those fixed match sellers took my money, stay away"
    assert "gambling" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["朋友赌球输了房子，前车之鉴", "他玩百家乐把房子输了，血的教训啊"])
def test_a_home_lost_and_the_lesson_drawn_are_a_story(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["百家乐真人荷官，输光了包赔", "线上百家乐，输光全赔"])
def test_a_loss_the_operator_makes_good_is_a_pitch(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["我这里不搞刷火箭换私聊那一套", "打赏的钱不如给自己买点好吃的"])
def test_a_practice_dismissed_or_money_better_spent_is_a_mention(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["光点赞不如刷个火箭", "刷满一万就私聊，老规矩"])
def test_a_gift_asked_for_after_the_cue_stays_evidence(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


def test_a_lure_exposed_as_a_funnel_is_a_mention(matcher: KeywordMatcher) -> None:
    text = "所谓“彩票稳赚技巧”，都是引流到赌博网站的"
    assert "gambling" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("福袋三分钟后开，点关注加粉丝团就能参与，不用花钱", "tipping_inducement"),
        ("赔率上主队大热，我觉得要爆冷，纯聊天不下注", "gambling"),
    ],
)
def test_a_thing_offered_free_or_only_talked_about_is_a_mention(
    matcher: KeywordMatcher, text: str, category: str
) -> None:
    assert category not in evidence(matcher, text), matcher.match(text)


def test_just_chatting_before_a_lure_stays_a_pitch(matcher: KeywordMatcher) -> None:
    text = "纯聊天，想下注的加我"
    assert "gambling" in evidence(matcher, text), matcher.match(text)


def test_a_freeloader_told_not_to_request_songs_is_no_warning(matcher: KeywordMatcher) -> None:
    text = "刷一个火箭我就给你唱歌，没刷的别点歌了"  # 别点歌, not 别点 (don't click)
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["这种领彩金的链接千万别点开", "楼上那个加V看私密视频的是引流号，别点"])
def test_a_link_warned_against_or_exposed_as_a_funnel_is_a_mention(matcher: KeywordMatcher, text: str) -> None:
    assert not evidence(matcher, text), matcher.match(text)
