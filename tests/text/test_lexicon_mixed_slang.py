"""Gift names by sound, Taiwanese tipping words, English tipping and betting words inside Chinese
lines, Taiwanese casino talk, emoji standing for a syllable and sex-work package words: each class
is caught in wordings written here, the everyday readings of its words are not evidence, and the
words that have ordinary readings count only beside a second piece of evidence."""

from __future__ import annotations

import pytest
from text_slang import OPENS, score

from moderation.text.matcher import KeywordMatcher

CAUGHT: dict[str, tuple[str, list[str]]] = {
    # tipping: gift names heard, a gift asked for by "X 来一个", Taiwanese goals, English verbs
    "gift_name_homophones": ("tipping_inducement", ["刷个火剑吧大哥", "音狼还差三千", "帮忙冲一下棒单", "送个小飞鸡"]),
    "gift_comes_one": ("tipping_inducement", ["游艇来一个，今天破纪录", "🚀来一发", "rocket来个嘛"]),
    "gift_dumped": ("tipping_inducement", ["最后五秒，礼物都砸下去"]),
    "sponsor_goal": ("tipping_inducement", ["贊助滿五百就換泳裝", "贈禮滿一百我就唱"]),
    "sponsor_top_perk": ("tipping_inducement", ["贊助榜第一名可以點歌", "赞助最多的就能连麦"]),
    "no_gift_no_show": ("tipping_inducement", ["没礼物的别想听我唱", "打赏不到位就不开播", "no tips no dance"]),
    "english_gift_verb": ("tipping_inducement", ["老板们donate一波", "家人们gift起来", "大哥send点礼物"]),
    "audience_asked_to_tip": ("tipping_inducement", ["兄弟们打赏一波", "大家打赏起来"]),
    "paid_rank_count": ("tipping_inducement", ["就差三个提督了", "再来一个舰长"]),
    "chart_brushed_through": ("tipping_inducement", ["今晚刷穿榜单"]),
    "rally_across_emoji": ("tipping_inducement", ["老铁们🔥砸起来"]),
    "currency_then_goal": ("tipping_inducement", ["抖币目标三千"]),
    "top_spot_dm_promised": ("tipping_inducement", ["榜首的大哥明天私信你"]),
    "past_tip_tier": ("tipping_inducement", ["打赏过五百的宝宝，进粉丝群"]),
    "gift_clicked": ("tipping_inducement", ["右下角礼物点一点"]),
    "gifts_in_place": ("tipping_inducement", ["票票到位了就跳舞"]),
    "audience_asked_for_gifts": ("tipping_inducement", ["姐妹们送点礼物"]),
    "badge_asked_of_one": ("tipping_inducement", ["老板挂个灯牌", "哥哥上个粉丝牌"]),
    "tier_across_emoji": ("tipping_inducement", ["打赏💰满两百的进群"]),
    "top_tipper_crowned": ("tipping_inducement", ["谁刷得最多谁就是我的男神", "谁gift最多就当我的守护"]),
    "non_tippers_barred": ("tipping_inducement", ["不打赏的朋友就别连麦", "沒送禮物的都不要點歌"]),
    # gambling: emoji syllables, Taiwanese casino words, score running, betting-site payouts
    "emoji_syllable": ("gambling", ["明天特🐴发群里", "周末下🐷群，赔率翻倍"]),
    "bookmaker_board": ("gambling", ["球版开了，要的来"]),
    "payout_promise": ("gambling", ["这个站出款秒到", "ti kuan miao dao de ping tai"]),
    "score_running_job": ("gambling", ["跑分项目日结三百"]),
    "lottery_brand": ("gambling", ["pc28包赢群"]),
    "win_cashout": ("gambling", ["这个牌局赢钱直接提现"]),
    "rebate_rate": ("gambling", ["这家反水比例最高"]),
    "recovery_across_emoji": ("gambling", ["亏了别慌，带你们📈翻本"]),
    # vulgar: homophones of nude chat, bundles of private pictures, packages, plates
    "nude_chat_homophones": ("vulgar", ["螺聊私我", "果聊一小时", "今晚果聊吗"]),
    "private_bundle": ("vulgar", ["私拍合集打包出", "网黄资源打包"]),
    "strip_show": ("vulgar", ["今晚脱衣秀九点开"]),
    "night_booked": ("vulgar", ["今晚约一夜吗"]),
    "sex_slang_site": ("vulgar", ["瑟瑟网站更新了"]),
    "mixed_english_services": ("vulgar", ["上门massage，happy ending", "adult video合集"]),
    "bio_and_side_account_lures": ("vulgar", ["无码合集链接在简介", "全裸的来我小号", "私房照dm我"]),
    "hookup_and_booked_room": ("vulgar", ["one night stand吗，房间订好了"]),
    "one_on_one_en_with_lure": ("vulgar", ["一对一cam，扫码"]),
    "reward_after_gift": ("tipping_inducement", ["砸完游艇的宝贝私信领福利", "打赏过了的发链接给你"]),
    # English tipping pressure in the room's own words
    "gift_imperative_en": ("tipping_inducement", ["fam come on drop more roses", "throw galaxies now pls"]),
    "gift_for_perk_en": (
        "tipping_inducement",
        ["gift a castle and i ll follow you", "biggest tipper this week wins a call"],
    ),
    "currency_shortfall_en": ("tipping_inducement", ["still two thousand diamonds to go"]),
}


@pytest.mark.parametrize(("family", "category", "text"), [(n, c, t) for n, (c, texts) in CAUGHT.items() for t in texts])
def test_mixed_slang_class_opens_a_verdict(matcher: KeywordMatcher, family: str, category: str, text: str) -> None:
    assert score(matcher, text, category) >= OPENS[category], (family, text, matcher.match(text))


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I bet he wins tonight", "gambling"),  # English chat: no Han around the word
        ("against all odds they won", "gambling"),
        ("bank deposit done", "gambling"),
        ("手机跑分多少", "gambling"),
        ("今天河道水位高", "gambling"),
        ("足球比赛让球了", "gambling"),
        ("周末去娱乐城唱歌", "gambling"),
        ("桑拿房好热", "vulgar"),
        ("婚庆一条龙服务", "vulgar"),
        ("旅游照片打包发我", "vulgar"),
        ("车牌号码是多少", "vulgar"),
        ("手机号私信我", "vulgar"),
        ("massage chair is nice", "vulgar"),
        ("我的🐷好可爱", "gambling"),
        ("骑🐴去了", "gambling"),
        ("我去打赏一下", "tipping_inducement"),
        ("send me the file", "tipping_inducement"),
        ("这个tip很有用", "tipping_inducement"),
        ("飞机晚点了", "tipping_inducement"),
        ("他拿了年度大赏", "tipping_inducement"),
        ("打赏过一千的主播不多", "tipping_inducement"),
        ("人到位了就开始开会", "tipping_inducement"),
        ("家人们送的礼物收到了", "tipping_inducement"),
        ("大哥换个牌子的手机吧", "tipping_inducement"),
        ("这个sub一下字幕", "tipping_inducement"),
        ("你send一下文件", "tipping_inducement"),
        ("i might send a gift to my sister", "tipping_inducement"),
        ("送完快递发你单号", "tipping_inducement"),  # a reward only after a gift
        ("刷完礼物发现没钱了", "tipping_inducement"),
        ("please send me the gift list", "tipping_inducement"),
        ("can everyone send the notes please", "tipping_inducement"),
        ("we need 3 more points to win the match", "tipping_inducement"),
        ("我不打赏，也不点歌", "tipping_inducement"),
        ("谁吃得最多谁就是我的饭友", "tipping_inducement"),
        ("个人简介里写了爱好", "vulgar"),
        ("我的小号被封了", "vulgar"),
        ("一对一video面试", "vulgar"),
        ("结果聊了很久", "vulgar"),  # 果聊 only as a word: here it sits inside 结果聊
        ("如果聊得来就约饭", "vulgar"),
        ("这部电影尺度很大", "vulgar"),
        ("你寂寞吗", "vulgar"),
        ("约一夜之间", "vulgar"),
        ("佣金日结的兼职", "gambling"),
        ("游戏里赢了能提现金币吗", "gambling"),
    ],
)
def test_everyday_uses_are_not_evidence(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert score(matcher, text, category) < 0.1, matcher.match(text)


@pytest.mark.parametrize(
    ("alone", "corroborated", "category"),
    [
        ("这个app能bet", "这个app能bet，deposit送一倍", "gambling"),
        ("周末水位高", "周末水位高，小球稳了", "gambling"),
        ("英超让球", "英超让球，跟我吃红单", "gambling"),
        ("玩棋牌的来", "玩棋牌的来，上下分秒到", "gambling"),
        ("线上娱乐城", "线上娱乐城首储送彩金", "gambling"),
        ("来大保健", "来大保健，一条龙服务", "vulgar"),
        ("会所技师", "会所技师包夜", "vulgar"),
        ("去开房", "去开房的私我", "vulgar"),
        ("视频打包卖", "视频打包卖，高清无码", "vulgar"),
        ("老司机来了", "老司机来了，车牌私信领", "vulgar"),
        ("寂寞吗", "寂寞吗？旅馆房间开好了", "vulgar"),
        ("全裸", "全裸的私房照", "vulgar"),
        ("代理佣金日结", "代理佣金日结，bet随便下", "gambling"),
    ],
)
def test_ambiguous_mixed_slang_needs_corroboration(
    matcher: KeywordMatcher, alone: str, corroborated: str, category: str
) -> None:
    assert score(matcher, alone, category) < 0.1, matcher.match(alone)
    assert score(matcher, corroborated, category) >= OPENS[category], matcher.match(corroborated)
