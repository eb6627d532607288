"""Minors: a viewer's age disclosure in chat, through the real lexicon and matcher, marks their
gifts; rules texts about minors' protection are not disclosures; fusion rates it high."""

from __future__ import annotations

import pytest

from moderation.config import PolicyConfig
from moderation.messages import ChatMessage, GiftEvent, Signal
from moderation.policy.fuse import fuse
from moderation.signals.chat import ChatSignals
from moderation.signals.gifts import GiftTracker
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher


@pytest.fixture(scope="module")
def matcher() -> KeywordMatcher:
    return KeywordMatcher(Lexicon.load())


def minors(m: KeywordMatcher, text: str) -> list[str]:
    return [h.term for h in m(text) if h.category == "minors" and h.weight > 0.3]


@pytest.mark.parametrize(
    "text",
    [
        "我才13岁，用妈妈的卡刷了火箭",
        "我今年十四",
        "我初二",
        "我是小学生",
        "我未成年",
        "我才13歲，用媽媽的卡",
        "主播我十五岁",
        "偷用我爸的手机充的",
        "我上五年级",
        "wo weichengnian",
        "i'm 13 years old lol",
        "本人其实还未成年",
        "人家没成年嘛，刷不了",
    ],
)
def test_disclosures_are_found(matcher: KeywordMatcher, text: str) -> None:
    assert minors(matcher, text), text


@pytest.mark.parametrize(
    "text",
    [
        "未成年人保护法规定",
        "禁止未成年人打赏",
        "本平台未成年人模式已开启",
        "我今年18岁",
        "我25岁了",
        "我已经三十岁了",
        "正月初二回娘家",
        "我现在5点下班",
        "小学生吧你",
        # minors addressed by a rule or a warning: the speaker's age is not told
        "未成年的话千万别乱刷",
        "平台规定未成年刷的可以退",
        "未成年看直播注意时间",
    ],
)
def test_rules_texts_adults_and_dates_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert minors(matcher, text) == [], text


def test_a_minors_chat_and_gifts_become_a_high_verdict(matcher: KeywordMatcher) -> None:
    chat = ChatSignals(matcher)
    tracker = GiftTracker("room")
    signals: list[Signal] = []
    for sig in chat.observe(ChatMessage("room", 5.0, "kid", "我才13岁，用妈妈的卡刷了火箭")):
        signals.append(sig)
        signals += tracker.observe_signal(sig)
    assert {s.category for s in signals} >= {"minors"}
    for i in range(3):
        signals += tracker.observe_gift(GiftEvent("room", 6.0 + i, "kid", "火箭", 500, "coin", 50.0))
    signals += tracker.observe_gift(GiftEvent("room", 7.5, "adult", "火箭", 500, "coin", 50.0))
    gifts = [s for s in signals if s.kind == "gift.minor"]
    assert {s.category for s in gifts} == {"minors", "tipping_abnormal"} and {s.user for s in gifts} == {"kid"}
    verdicts = fuse("room", sorted(signals, key=lambda s: s.t), PolicyConfig())
    by_cat = {v.category: v for v in verdicts}
    assert by_cat["minors"].severity == "high" and by_cat["minors"].subject is not None
    assert by_cat["minors"].subject.id == "kid"
    assert by_cat["tipping_abnormal"].severity == "high"
