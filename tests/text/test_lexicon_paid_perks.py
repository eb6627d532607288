"""Gifts traded for private perks in any wording, gifts bought off the platform, and viewers rebuked
for watching without paying; with the near misses each rule must leave alone."""

from __future__ import annotations

import pytest

from moderation.text.matcher import KeywordMatcher
from tests.helpers.text_hits import evidence


@pytest.mark.parametrize(
    "text",
    [
        "赞助满两千的加我私人号",  # 赞助, not 打赏
        "ds满300的进粉丝福利群",  # the initials of 打赏
        "🎁满888💎的私我",  # emoji for the gift and the unit
        "今晚排前五的私聊我",  # a rank reached by gifts, then the perk
        "冲到前三的找我拿联系方式",
        "donate $20 and I'll follow you back",
        "donate 100 bucks n ill dm you",
    ],
)
def test_a_gift_threshold_with_a_private_perk_is_tipping(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "我们班排前三的都去了清华",
        "进前三的队伍可以加分",
        "榜一送什么礼物",  # a question about the title
        "I donated 50 and they sent a thank you card",
        "赞助满意度调查已经发出",
    ],
)
def test_ranks_and_donations_without_a_perk_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "代充抖币七五折，秒到账",
        "外部充值通道九折，记得充完刷给我",
        "私下充值更便宜，八折到账",
        "不方便在平台刷的直接转我",
        "不走平台的私下转我微信，一样算你的",
    ],
)
def test_gifts_bought_off_the_platform_are_tipping(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "平台外的交易不受保护，别转账",
        "低价钻石项链清仓",
        "游戏充值打八折，618活动",
        "充值到账慢的话联系平台客服",
    ],
)
def test_discounts_and_platform_warnings_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "看了一晚上一分钱不出的，心里没点数吗",
        "不赞助的就不要一直讲话",
        "一毛不拔的都出去",
        "小心心都不送还好意思看",
        "一直看不出力的，我都记住名字了",
        "成晚坐喺度白睇，一粒星都唔送，你好意思咩",  # Cantonese: 白睇 白看, 唔送 不送
        "光看不给的，脸皮真厚",
        "进来半小时一个🎁都没有",
        "If you don't donate you're just freeloading, get out of my stream",
        "想要我私下照片的，看你们今晚的表现",  # a private perk against a show of support
    ],
)
def test_viewers_rebuked_for_watching_without_paying_is_tipping(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "不打赏也没关系，别一直刷屏就行",  # a concession: a welcome
        "我是白嫖党，不好意思啊主播",  # an apology
        "看了一晚上没看懂，滚回去复习",
        "不送的朋友也欢迎，别一直潜水",
        "唔該晒，多謝大家，唔送禮物都可以睇",  # Cantonese thanks and a welcome
        "今天一个礼物都没有收到",  # told, not put to anyone
        "I never donate to streams, bye",  # the speaker's own habit
        "私人定制的视频，看你们的需求",
    ],
)
def test_a_welcome_or_an_apology_is_not(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["内衣脱掉给我们看看", "👙脱了让兄弟们👀一下"])
def test_a_garment_named_first_then_taken_off_for_a_look_is_vulgar(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["衣服脱了挂门口，看下雨没", "裤子拉链坏了，看一下", "外套脱了吧，看你热的"])
def test_clothes_taken_off_for_other_reasons_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    ["钻石充值找我，打七折，比平台划算多了", "私下儲值九折，私訊我", "私聊我充值更便宜", "top up找我8折，比平台便宜"],
)
def test_a_discounted_top_up_sold_privately_is_tipping(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "会员充值打八折，今天最后一天",
        "游戏充值打八折，平台限时活动",
        "话费充值九折优惠，到店办理",
        "储值卡送朋友很方便",
    ],
)
def test_a_shops_top_up_discount_is_not(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "top 1 gifter tonight can video call me",
        "top2 = pvt chat, top3拿照片",
        "whoever gets me to the top of the leaderboard wins a private show",
        "大哥drop两个rocket我就开cam",
        "send me 3 lions and make my night",
    ],
)
def test_places_on_the_board_and_named_gifts_traded_in_english_are_tipping(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "top 1 gets the trophy and a photo with the team",
        "top 3 can dm me for coaching tips",
        "I finally got top 1 in ranked",
        "drop一个like吧，谢谢",
    ],
)
def test_tournament_places_and_likes_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "小朋友可以用爸爸妈妈的手机支持我哦",
        "拿你爸妈的支付宝也能打赏的，密码问一下就行",
        "想要我的微信？那就看你的诚意了",
    ],
)
def test_a_parents_phone_invited_and_contact_held_out_for_sincerity_are_tipping(
    matcher: KeywordMatcher, text: str
) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "新闻：孩子拿爸妈的手机刷了五万，平台退款了",
        "未成年人不要拿爸妈的手机充值打赏",
        "想要联系方式的话，去看官网就行",
    ],
)
def test_reports_warnings_and_a_website_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "平台要抽三成，直接转给我更划算",
        "paypal me directly, the platform takes half",
        "一直看又不打赏，脸皮很厚啊",
        "考核没过底薪就没了，求刷",
    ],
)
def test_payment_around_the_platform_freeloaders_and_agency_quotas_are_tipping(
    matcher: KeywordMatcher, text: str
) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize("text", ["平台抽成太高了，我们主播也难", "公司年底考核没过，奖金没了", "一直看不懂这个规则"])
def test_platform_fees_a_staff_review_and_confusion_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)
