"""Slang families in the lexicon patterns: every member of a family is caught, in Simplified,
Traditional and split forms, and the ordinary words that share characters with it are not.

The sentences are generated from the family's parts (verb x garment, adjective x medium ...), so a
pattern that only knew the examples it was written from fails here.
"""

from __future__ import annotations

import pytest
from text_evasion import join_sep, traditional
from text_slang import OPENS, family

from moderation.text.matcher import KeywordMatcher

FAMILIES: dict[str, tuple[str, list[str]]] = {
    "porn_medium": ("vulgar", family([["黄色", "色情", "成人"], ["电影", "影片", "直播", "网站"]], "有没有{}资源")),
    "undress_to_show": (
        "vulgar",
        family([["脱了", "撩起", "掀开"], ["衣服", "裙子", "上衣", "睡衣"], ["给大家看看", "让哥瞧瞧"]], "主播{}"),
    ),
    "expose_request": ("vulgar", family([["露个", "露一下"], ["胸", "屁股", "内裤"]], "主播{}呗")),
    "sex_work_slang": ("vulgar", family([["楼凤", "外围女", "莞式", "兼职妹"]], "本地{}，懂的来")),
    "worn_underwear": ("vulgar", family([["原味"], ["丝袜", "内裤", "袜子"]], "出{}")),
    "abuse_homophone": ("vulgar", family([["沙比", "傻比", "傻批", "煞比"]], "你个{}")),
    "mother_insult": ("vulgar", family([["操", "艹", "日"], ["你", "尼"], ["妈", "大爷", "祖宗"]], "{}的")),
    "credit_service_offer": ("gambling", family([["上下分", "上芬下芬"], ["秒到", "找我", "24小时"]])),
    "betting_market": ("gambling", family([["赌盘", "外围盘口", "足球盘口", "让球盘"]], "今晚{}已开")),
    "real_money_game": ("gambling", family([["真钱"], ["麻将", "斗地主", "炸金花"]], "{}缺一个")),
    "gambling_platform": ("gambling", family([["棋牌", "博彩", "菠菜"], ["平台", "网址", "入口"]], "靠谱{}")),
    "bet_side": ("gambling", family([["押大押小", "押庄", "押单双", "开大开小"]], "快{}，一把定输赢")),
    "wagering_requirement": ("gambling", family([["流水三倍", "3倍流水", "流水十倍"]], "首存送，{}就能提")),
    "gift_ask": ("tipping_inducement", family([["求个", "要点", "求"], ["礼物", "火箭", "嘉年华"]], "主播{}")),
    "tip_goal_reward": ("tipping_inducement", family([["刷满", "刷够"], ["一万", "十个火箭"]], "{}就给大家跳舞")),
    "chart_climb": ("tipping_inducement", family([["冲个", "冲"], ["小时榜", "人气榜", "榜首"]], "今晚{}")),
    "paid_rank": ("tipping_inducement", family([["开个", "开通"], ["贵族", "守护", "舰长"]], "{}送福利")),
    "tipper_rally": ("tipping_inducement", family([["大哥们", "家人们", "老铁们"], ["刷起来", "砸起来"]])),
    "gift_ask_split": ("tipping_inducement", family([["求礼物", "求火箭"]], "PK输了{}")),
    "rank_plea": (
        "tipping_inducement",
        family(
            [["帮", "助力", "拜托"], ["主播", "我们", "咱"], ["冲一下", "守", "抢"], ["榜", "榜首", "第一"]], "{}吧"
        ),
    ),
    "guard_plea": ("tipping_inducement", family([["守护一下", "守护一波"], ["主播", "我们家宝宝", "哥哥"]], "大家{}")),
    "pk_deficit_to_audience": (
        "tipping_inducement",
        family([["家人们", "兄弟们", "宝子们"], ["还差", "就差"], ["三百", "2000"], ["票", "分"]], "{}就能赢这把pk"),
    ),
    # a gap counted in gifts stays gift_count's, not the ambiguous points-or-votes deficit
    "deficit_in_gifts": (
        "tipping_inducement",
        family([["还差", "就差"], ["三个", "十个"], ["火箭", "嘉年华"]], "{}就赢了"),
    ),
    "gift_send_after_a_plea": (
        "tipping_inducement",
        family([["帮帮我", "求求你们"], ["刷点", "砸个"], ["礼物", "火箭"]], "大家{}"),
    ),
    "top_spot_race": ("tipping_inducement", family([["冲", "争个", "抢"], ["榜一"]], "宝子们{}啊")),
    "gift_verb_initial": ("tipping_inducement", family([["s", "z"], ["个", "一波"], ["火箭", "嘉年华"]], "家人们{}")),
    "gifts_or_stop": (
        "tipping_inducement",
        family([["没有", "不刷"], ["礼物", "打赏"], ["我就下播", "就不唱了"]]),
    ),
    "deficit_and_rally": (
        "tipping_inducement",
        family([["就差", "只差"], ["八百", "50"], ["分", "票"], ["反超", "赢"]], "{}了，老铁们冲冲冲"),
    ),
}


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for name, (cat, texts) in FAMILIES.items():
        for t in texts:
            out.append((name, cat, t))
        out.append((name, cat, traditional(texts[0])))
        out.append((name, cat, join_sep(list(texts[-1]), " ")))
    return out


@pytest.mark.parametrize(("family", "category", "text"), _cases())
def test_family_member_opens_a_verdict_alone(matcher: KeywordMatcher, family: str, category: str, text: str) -> None:
    hits = [h for h in matcher.match(text) if h.category == category and h.context == "plain"]
    assert hits, f"{family}: {text!r} not caught"
    # noisy-OR of the distinct hits, as fusion combines one viewer's distinct terms
    miss = 1.0
    for h in hits:
        miss *= 1.0 - h.weight
    assert 1.0 - miss >= OPENS[category], (family, text, [(h.term, h.weight) for h in hits])


@pytest.mark.parametrize(
    "text",
    [
        f"{who} {role} {gets} my private number"
        for who in ("top", "biggest")
        for role in ("gifter", "donor")
        for gets in ("gets", "wins")
    ],
)
def test_english_top_tipper_reward_opens_a_verdict_alone(matcher: KeywordMatcher, text: str) -> None:
    assert any(h.weight >= OPENS["tipping_inducement"] and h.context == "plain" for h in matcher.match(text))


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("黄色片状物多见于口腔溃疡", "vulgar"),
        ("形形色色的人都有", "vulgar"),
        ("河里的沙比较细", "vulgar"),
        ("他的足球盘带技术一流", "gambling"),
        ("鸡胸真大块，够吃两顿", "vulgar"),
        ("上下分开放置，别压坏了", "gambling"),
        ("租房押金一般是一个月", "gambling"),
        ("进门先脱外套挂起来", "vulgar"),
        ("这家店的原味奶茶好喝", "vulgar"),
        ("我抽到了一个小时榜单的截图", "tipping_inducement"),
        ("还差两分就赢了，这场球真刺激", "tipping_inducement"),  # a deficit in a sports score
        ("兄弟们冲啊，这波团战能赢", "tipping_inducement"),  # a rally call in a game
        ("帮我冲一下分，段位太低了", "tipping_inducement"),  # ranked games: 分, not a chart
        ("这首歌冲上榜了，恭喜", "tipping_inducement"),
        ("守护一下环境，垃圾别乱扔", "tipping_inducement"),
        ("她是上届比赛的榜一", "tipping_inducement"),  # 榜一 as a title
        ("没有礼物盒装不下这么多", "tipping_inducement"),
        ("the top donor list is public", "tipping_inducement"),
        ("xs个火箭队球衣", "tipping_inducement"),
    ],
)
def test_family_neighbours_are_not_evidence(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert [h for h in matcher.match(text) if h.category == category and h.weight > 0.1] == []


@pytest.mark.parametrize(
    ("alone", "with_lure", "category"),
    [
        ("有没有求种子的", "有没有求种子的，加群", "vulgar"),
        ("上门服务，价格实惠", "上门服务，私聊我", "vulgar"),
        ("周末约跑吗", "周末约跑吗，加我", "vulgar"),
        ("今晚包赔", "今晚包赔，私聊", "gambling"),
        ("周末出台新规", "出台吗，私我", "vulgar"),
        ("上门服务，价格实惠", "上门服务，价钱好说", "vulgar"),
    ],
)
def test_ambiguous_families_need_a_lure(matcher: KeywordMatcher, alone: str, with_lure: str, category: str) -> None:
    assert all(h.weight < 0.1 for h in matcher.match(alone) if h.category == category)
    assert any(h.weight >= 0.5 and h.context == "plain" for h in matcher.match(with_lure) if h.category == category)
