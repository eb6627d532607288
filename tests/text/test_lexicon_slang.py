"""In-group slang, emoji innuendo, regional spellings and gift-less pleas: each family is caught
from parts combined here (so a rule that only knew one wording fails), the everyday words that
share its characters are not evidence, and the slang that is also an everyday word counts only
with corroboration (another piece of evidence or a lure)."""

from __future__ import annotations

import pytest
from text_evasion import traditional
from text_slang import OPENS, family, score

from moderation.text.matcher import KeywordMatcher
from tests.helpers.text_hits import evidence

CAUGHT: dict[str, tuple[str, list[str]]] = {
    "body_homophone_emoji": (
        "vulgar",
        family([["主播", "小姐姐"], ["的凶", "🐻"], ["真大", "好软"]], "{}呀")
        + family([["🍑"], ["好翘", "真圆"]], "姐姐的{}"),
    ),
    "emoji_innuendo": ("vulgar", family([["🍆", "🍑", "👅"], ["💦"]], "今晚{}来吗")),
    "arousal_seen": ("vulgar", family([["看", "瞧"], ["主播", "小姐姐"], ["扭腰", "的腿"], ["都硬了", "湿了"]])),
    "family_curse": ("vulgar", family([["你妈", "你全家"], ["没了", "死了"]], "垃圾玩意，{}吧")),
    "mother_insult_regional": ("vulgar", family([["干你娘", "操你娘", "干恁娘"]], "{}，什么水平")),
    "sex_desire": (
        "vulgar",
        [*family([["想和", "好想跟"], ["主播", "姐姐"], ["睡觉", "上床", "开房"]]), "姐姐腿好长，想舔"],
    ),
    "porn_resources": ("vulgar", [*family([["色情", "成人", "av"], ["资源", "网盘"]], "{}全都有"), "🔞资源合集"]),
    "price_and_bid": (
        "vulgar",
        family([["主播", "美女"], ["多少钱一晚？", "一晚多少钱，"], ["我出五千", "哥给你一万"]]),
    ),
    "regional_spellings": ("vulgar", ["約砲嗎", "找个砲友", "涩情片免费看"]),
    "underwear_question": (
        "vulgar",
        [*family([["内裤", "胸罩"], ["什么颜色", "是啥颜色"]], "主播今天{}"), "几个罩杯啊"],
    ),
    "platform_slurs": ("vulgar", ["你个脑瘫", "死妈玩意", "rnm退钱", "杂种滚"]),
    "plain_sexual": ("vulgar", ["主播又在发骚", "想看奶头", "今晚睡了你", "any milfs here", "cum on stream"]),
}


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for name, (cat, texts) in CAUGHT.items():
        out += [(name, cat, t) for t in texts]
        out.append((name, cat, traditional(texts[0])))
    return out


@pytest.mark.parametrize(("family", "category", "text"), _cases())
def test_slang_family_opens_a_verdict(matcher: KeywordMatcher, family: str, category: str, text: str) -> None:
    assert score(matcher, text, category) >= OPENS[category], (family, text, matcher.match(text))


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("动物园的熊好大一只", "vulgar"),  # a bear, no addressee
        ("这桃子好大好甜🍑", "vulgar"),  # fruit alone
        ("茄子烧肉真下饭", "vulgar"),
        ("这家酒店多少钱一晚", "vulgar"),  # a hotel price, not a person's
        ("我出五百，这把吉他归我了", "vulgar"),  # a bid alone
        ("妈妈做的私房菜最好吃", "vulgar"),
        ("她出来卖菜补贴家用", "vulgar"),
        ("看看下面的评论就知道了", "vulgar"),
        ("这辆车的车灯坏了", "vulgar"),
        ("野战部队演习开始了", "vulgar"),
        ("我家狗东西又把拖鞋咬坏了", "vulgar"),
    ],
)
def test_everyday_neighbours_are_not_evidence(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert score(matcher, text, category) < 0.1, matcher.match(text)


@pytest.mark.parametrize(
    ("alone", "corroborated", "category"),
    [
        ("今晚搞黄色吗", "今晚搞黄色吗，资源群见", "vulgar"),
        ("同城有没有妹子", "同城有没有妹子，今晚打野战", "vulgar"),
        ("想看看主播的蜜桃", "想看看主播的蜜桃，穿少点", "vulgar"),
        ("来段sexy dance", "来段sexy dance，不穿的那种", "vulgar"),
        ("狗东西", "狗东西，屎一样的技术", "vulgar"),
        ("拍点私房照", "拍点私房照，私我", "vulgar"),
    ],
)
def test_ambiguous_slang_needs_corroboration(
    matcher: KeywordMatcher, alone: str, corroborated: str, category: str
) -> None:
    assert score(matcher, alone, category) < 0.1, matcher.match(alone)
    assert score(matcher, corroborated, category) >= OPENS[category], matcher.match(corroborated)


TIPPING_CAUGHT: dict[str, list[str]] = {
    "gift_send_reduplicated": family([["刷刷", "送送", "冲一波"], ["小礼物", "跑车", "hj"]], "家人们{}吧"),
    "gift_catalogue": family([["送个", "刷一波"], ["荧光棒", "鱼翅", "抖币", "宇宙之心"]], "{}支持一下"),
    "fan_club_privilege": family([["点亮灯牌", "开了舰长", "加了粉丝团"], ["的宝宝"], ["优先连麦", "可以私聊"]]),
    "rank_rally": family([["舰长", "粉丝团", "gift"], ["开起来", "砸起来"]], "兄弟们{}"),
    "top_spot_vacant": ["榜一位置还空着，大哥们", "今晚谁来坐榜一", "榜一一直没人啊"],
    "tip_plea": family([["打赏", "打尚", "斗內", "ds"], ["一下吧", "一波呗"]], "{}，主播饿了"),
    "tip_tier": [
        *family([["打赏满", "刷满", "donate满"], ["三百", "1000"], ["的进群", "就加微信"]]),
        "donate满888主播陪你连麦",
    ],
    "gift_menu": family([["一个", "3个"], ["🚀", "跑车"], ["=一首歌", "换一支舞"]]),
    "currency_goal": ["今晚目标二十万音浪", "音浪过三万我就唱十首", "数字破十万当场吃辣条"],
    "who_makes_me_top": ["谁今晚让我上热门，我就给谁唱专属歌", "谁帮我进前十谁就是我大哥"],
    "gift_plea_named_en": ["send roses pls", "send me some rockets please", "guys send lions plz"],
    "plain_pleas_en": ["gift me something guys", "please donate to the stream", "superchat me if you agree"],
    "corroborated_pleas": ["还差一点点，冲榜冲榜", "最后十秒，上票上票，全靠大哥们", "帮我进前三，家人们帮帮忙"],
}

GAMBLING_CAUGHT: dict[str, list[str]] = {
    "slang_pair": [
        *family([["上车", "带飞"], ["，"], ["串子", "稳单", "红单"]], "今晚{}走起"),
        "庄闲长龙，快来",
        "押闲十把九中",
    ],
    "slang_with_lure": family([["上车", "收米", "翻本"]], "想{}的加我"),
    "win_share": family([["跟我下", "跟着我投"], ["，"], ["赢了分红", "赢了五五分"]]),
    "signup_credit": ["注册就送88，casino秒到账", "新人先送一百体验金，私聊领"],
    "venue_and_win": ["赌场今晚又赢了两万，带你玩", "昨天在赌场输了五千，今晚翻本"],
    "fixed_and_insider": ["比分早就定好了，内部消息要的私聊", "lhc内部资料，私我"],
    "mixed_markets": ["让分盘稳单，跟我bet", "新款slot机台爆分率高"],
    "plain_betting": ["网投平台日赚千元", "今晚11选5开几号", "pk10计划准得很", "use my roobet code", "打扎金花缺人"],
    "regional_lures": ["帶單買球，每天穩賺，加賴", "老師帶你翻本，加LINE"],
}


def _flat(families: dict[str, list[str]], category: str) -> list[tuple[str, str, str]]:
    return [(name, category, t) for name, texts in families.items() for t in texts]


@pytest.mark.parametrize(
    ("family", "category", "text"),
    _flat(TIPPING_CAUGHT, "tipping_inducement") + _flat(GAMBLING_CAUGHT, "gambling"),
)
def test_gift_less_pleas_and_betting_slang_are_caught(
    matcher: KeywordMatcher, family: str, category: str, text: str
) -> None:
    assert score(matcher, text, category) >= OPENS[category], (family, text, matcher.match(text))


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("上车了，下一站人民广场", "gambling"),  # everyday slang alone stays ambiguous
        ("大神带飞，这把稳了", "gambling"),
        ("排队的长龙一眼望不到头", "gambling"),
        ("跟我下楼拿快递", "gambling"),
        ("新用户注册送10元优惠券", "gambling"),
        ("这场球赛果早就定好了吧，裁判太离谱", "gambling"),
        ("演唱会大家都点亮灯牌了", "tipping_inducement"),
        ("航母上舰的飞行员很帅", "tipping_inducement"),
        ("比赛最后十秒绝杀", "tipping_inducement"),
        ("作业还差一点点", "tipping_inducement"),
        ("门票刷一下就能进", "tipping_inducement"),
        ("电视剧里的赌场布景很豪华", "gambling"),  # a venue in a story
        ("这把游戏赢了三千金币", "gambling"),
        ("我家猫是个小畜生，又打翻杯子", "vulgar"),
        ("she graduated magna cum laude", "vulgar"),
        ("the cock crowed at dawn", "vulgar"),
        ("医生说乳头状瘤要复查", "vulgar"),
        ("周末和家人打麻将带彩吗", "gambling"),
        ("这关难到想去死", "vulgar"),
        ("谁让我第一个到的，哈哈", "tipping_inducement"),
        ("if we hit 1000 likes I will post part two", "tipping_inducement"),
    ],
)
def test_everyday_uses_are_not_evidence(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert score(matcher, text, category) < 0.1, matcher.match(text)


@pytest.mark.parametrize(
    "text", ["主播的腿真骚，想摸", "这身材也太骚了吧", "转过身去把屁股翘起来给我们看", "蜜桃撅高点让我们看看"]
)
def test_a_body_part_called_lewd_or_turned_to_the_camera_is_vulgar(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text", ["这波操作太骚了", "风骚走位，对面懵了", "宝宝屁股撅起来，护士要打针了", "腰疼得直不起来"]
)
def test_slick_plays_and_a_nurses_words_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "vulgar" not in evidence(matcher, text), matcher.match(text)
