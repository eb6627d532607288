"""Live dealers, junket agents, odds paid on a bet, English tipsters and Hong Kong's legal Mark Six;
with the near misses each must leave alone."""

from __future__ import annotations

import pytest

from moderation.text.matcher import KeywordMatcher
from tests.helpers.text_hits import evidence


@pytest.mark.parametrize(
    "text",
    [
        "真人发牌的百家乐，手机就能玩",
        "贵宾厅招叠码仔，佣金日结",
        "我这有个网站，押中了一赔八",
        "下注对了直接三倍，今晚就能提",
        "tail my picks tonight, 5-0 last week",
        "lock of the day in the VIP group, join now",
        "vip picks every night, just 20 a month",
        "premium picks channel, only $15 a week",
    ],
)
def test_dealers_junkets_odds_and_tipsters_are_gambling(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "假一赔十，正品保证",
        "这次考试老师押中了三道大题，翻了三倍分",  # an exam guessed right
        "六合彩今晚搅珠，马会说头奖有八千万",  # Hong Kong's legal lottery, reported
        "I had 2 units on the over and it missed, unlucky",  # a bettor's own story: evidence, not alone
        "my private chat with the coach was great",
    ],
)
def test_guarantees_exams_legal_draws_and_bettors_stories_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" not in evidence(matcher, text), matcher.match(text)


def test_a_paid_chat_alone_is_no_tipster(matcher: KeywordMatcher) -> None:
    text = "join the vip group for 30 dollars, fan art every week"
    assert "gambling" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "拉朋友进来玩，他们充多少你拿一成",
        "每拉一个充值会员，返佣百分之三十",
        "拉三个人进群，按他们的充值给你提成",
        "让平半，水位零点八八，懂的来",  # a bookmaker's line and its odds together
        "赌球输光了的别慌，跟着我两天回本",  # a loser told not to panic: a pitch
    ],
)
def test_deposit_commissions_handicap_tips_and_comfort_for_losers_are_gambling(
    matcher: KeywordMatcher, text: str
) -> None:
    assert "gambling" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "拉新人办卡，按业绩给你提成",  # a sales job
        "主队让平半，我觉得能打出来",  # a pundit quoting the line: evidence, not alone
        "水库水位零点九米，低于警戒线",
        "我赌球输光了，大家别学我",
    ],
)
def test_sales_jobs_pundits_reservoirs_and_losses_told_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert "gambling" not in evidence(matcher, text), matcher.match(text)
