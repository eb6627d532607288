"""Games that pay out money (fish-shooting and red-packet "minesweeper" rooms), Taiwan's numbers-game
bookies, a gift's pay-off claimed by DM, and an English threat to stop unless gifts come."""

from __future__ import annotations

import pytest

from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher

_M = KeywordMatcher(Lexicon.load())


def _categories(text: str) -> set[str]:
    return {h.category for h in _M.match(text) if h.weight >= 0.5}


@pytest.mark.parametrize(
    "text",
    [
        "红包扫雷群招人，一块起押，中雷赔1.5倍",
        "扫雷红包群，踩雷赔双倍",
        "捕鱼游戏可以兑现，新人送子弹",
        "网上打鱼能提现，秒到账",
        "街机捕鱼上下分找客服",
        "組頭收539簽牌，要下的找我",
        "签赌找我，赔率高",
    ],
)
def test_cash_out_games_and_bookies_are_gambling(text: str) -> None:
    assert "gambling" in _categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "我小时候玩街机捕鱼",
        "扫雷游戏我通关了",
        "这个小游戏能换皮肤",
        "电玩城的币能换礼品吗",
        "警方破获一起红包扫雷赌博案",  # news of a bust: a mention
        "小游戏提现是骗局吧",  # a viewer's doubt
        "我们组头儿今天请客",  # 组头儿: a team lead (组头 must stand as a word)
    ],
)
def test_the_same_games_without_money_or_as_news_are_not(text: str) -> None:
    assert "gambling" not in _categories(text)


@pytest.mark.parametrize("text", ["🎁刷满💯个，私信发福利📸", "斗內一百的寶寶私訊領福利照"])
def test_a_gift_ask_with_a_reward_claimed_by_dm_is_tipping(text: str) -> None:
    assert "tipping_inducement" in _categories(text)


def test_a_dm_for_a_prize_address_is_not() -> None:
    assert _categories("抽到福袋的宝宝私信发地址") == set()


@pytest.mark.parametrize(
    "text",
    ["unless you guys send gifts I quit", "Send gifts or I'll end the stream", "if y'all don't donate I'm logging off"],
)
def test_an_english_threat_that_hangs_on_gifts_is_tipping(text: str) -> None:
    assert "tipping_inducement" in _categories(text)


@pytest.mark.parametrize(
    "text",
    ["if you don't like it just leave", "if you dont want to tip thats fine, stay and chat", "I don't send gifts"],
)
def test_english_conditionals_without_that_threat_are_not(text: str) -> None:
    assert "tipping_inducement" not in _categories(text)


@pytest.mark.parametrize("text", ["最后三十秒，差八千，咱家的人呢", "家 人 们 冲 一 波，差 五 千 就 赢 了"])
def test_a_shortfall_in_thousands_beside_a_rally_or_a_countdown_is_tipping(text: str) -> None:
    assert "tipping_inducement" in _categories(text)


@pytest.mark.parametrize(
    "text", ["我存款还差两万就够首付了", "还差三千步就一万步了", "还差五千", "打投最后一天，还差五万票"]
)
def test_a_shortfall_alone_is_not(text: str) -> None:
    assert "tipping_inducement" not in _categories(text)


def test_a_shortfall_leaves_the_unit_after_it_to_its_own_rule() -> None:
    hits = _M.match("还差两千音浪就上热门了，兄弟们冲一冲")
    assert any(h.term != "deficit_thousands" and h.weight >= 0.5 for h in hits)


@pytest.mark.parametrize("text", ["群里每人交二十，抢到最小那个包的人补一百", "红包接龙群，一把二十，进群私我"])
def test_red_envelope_games_for_money_are_gambling(text: str) -> None:
    assert "gambling" in _categories(text)


@pytest.mark.parametrize(
    "text", ["手气最差的发下一个红包哈，过年热闹", "红包接龙", "商场抽奖花100元最高能中1000元购物卡"]
)
def test_a_family_red_envelope_relay_or_a_shop_draw_is_not(text: str) -> None:
    assert "gambling" not in _categories(text)
