"""Sob-story pleas (卖惨: a hardship told to the room with a plea for gifts or money) and a guild
quota the streamer says the audience must fill; a hardship or a game guild's tasks alone are not."""

from __future__ import annotations

import pytest

from moderation.text.matcher import KeywordMatcher
from tests.helpers.text_hits import evidence


@pytest.mark.parametrize(
    "text",
    [
        "爸爸做完手术还在住院，家人们帮帮主播吧",
        "我弟弟生病了，医药费还差好多，求大家赞助一下",
        "下个月房租交不起了，礼物多少都行",
        "孩子的奶粉钱都没了，你们看着办吧",
        "家裡出事了，拜託各位捐一點",  # Traditional
        "my dog is in the hospital, every gift helps guys",
        "vet bills are killing me, please donate",
        "公会任务还差两万音浪，完不成要被罚款",
        "家族流水没达标，今天不下播了，求刷",
        "guild quota still short, help me or I get fined",
    ],
)
def test_hardship_pleas_and_guild_quotas_are_tipping(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "住院那几天同事送了一篮水果",  # a gift received, no plea
        "奶奶住院了，这周请假不播，大家见谅",
        "朋友做完手术了，求推荐康复医院",
        "房租又涨了，准备搬家",
        "我们公会任务还差两个人，快上线",  # a game guild
        "每日任务还差三个就完成了",
        "新闻：有主播以家人生病为由诱导粉丝打赏，已被平台封号",  # news of the trick
        "my grandma was in the hospital last week, she is fine now",
    ],
)
def test_a_hardship_or_a_game_task_alone_is_not(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    [
        "爸爸住院了，今晚播到天亮，大家量力而行，多少都是心意",
        "下个月房租交不起了，理性消费哈，礼物多少都行",
    ],
)
def test_an_affordability_disclaimer_inside_the_plea_does_not_make_it_a_mention(
    matcher: KeywordMatcher, text: str
) -> None:
    assert "tipping_inducement" in evidence(matcher, text), matcher.match(text)


@pytest.mark.parametrize(
    "text",
    ["打赏请量力而行，未成年人禁止打赏", "主播说了送礼物要量力而行", "刷礼物要理性消费，量力而行"],
)
def test_the_disclaimer_beside_a_gift_word_still_frames_it(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" not in evidence(matcher, text), matcher.match(text)
