"""chat.keyword signals: same matcher as speech/OCR, user and text kept, spam de-duplicated."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from moderation.config import PipelineConfig, load_pipeline, project_root
from moderation.messages import ChatMessage, KeywordHit
from moderation.policy.rules import rule_for
from moderation.signals.chat import ChatSignals, chat_signals
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher


@pytest.fixture(scope="module")
def match() -> KeywordMatcher:
    return KeywordMatcher(Lexicon.load())


def msg(t: float, user: str, text: str) -> ChatMessage:
    return ChatMessage("s", t, user, text)


def test_signal_carries_user_and_text(match: KeywordMatcher) -> None:
    sigs = chat_signals([msg(3.0, "bob", "来玩百家樂，稳赚")], match)
    (sig,) = [s for s in sigs if s.term == "百家乐"]
    assert (sig.kind, sig.category, sig.term, sig.user, sig.t) == ("chat.keyword", "gambling", "百家乐", "bob", 3.0)
    rec = sig.to_record()
    assert rec["user"] == "bob" and rec["text"] == "来玩百家樂，稳赚"
    assert chat_signals([msg(1.0, "amy", "今天的菜真好吃"), msg(2.0, "amy", "")], match) == []


def test_spam_is_one_signal_per_window(match: KeywordMatcher) -> None:
    spam = [msg(float(t), "bot", "百家乐 加微信") for t in range(0, 30)]  # one user, every second
    sigs = chat_signals(spam, match, dedup_window_s=10.0)
    assert sorted({s.t for s in sigs}) == [0.0, 10.0, 20.0]
    swarm = [msg(5.0 + i * 0.1, f"user{i}", "百家乐  加微信") for i in range(40)]  # many users, same line
    assert {s.t for s in chat_signals(swarm, match)} == {5.0}
    variants = [msg(1.0, "eve", "百家乐!!"), msg(2.0, "eve", "百 家 乐???")]  # one user, reworded
    assert len([s for s in chat_signals(variants, match) if s.term == "百家乐"]) == 1


def test_distinct_users_and_messages_stay_distinct(match: KeywordMatcher) -> None:
    tracker = ChatSignals(match.match, dedup_window_s=10.0)
    a = tracker.observe(msg(1.0, "a", "百家乐开始了"))
    b = tracker.observe(msg(1.5, "b", "百家乐来下注"))
    c = tracker.observe(msg(2.0, "a", "百家乐开始了"))
    assert a and b and not c and tracker.suppressed >= 1


@pytest.mark.parametrize("preset", sorted(p.stem for p in (project_root() / "pipelines").glob("*.yaml")))
def test_chat_keyword_counts_for_gambling_and_tipping_in_every_preset(preset: str) -> None:
    cfg: PipelineConfig = load_pipeline(preset)
    for category in ("gambling", "tipping_inducement"):
        policy = cfg.policy.categories[category]
        if policy.enabled:
            rule = rule_for(policy, "chat.keyword")
            assert rule is not None and rule.weight > 0, (preset, category)


def test_news_and_rules_quoted_in_chat_are_not_evidence(match: KeywordMatcher) -> None:
    feed = [
        msg(1.0, "amy", "新闻说警方破获了一个跨境网络赌博团伙"),
        msg(2.0, "bob", "直播间规定：不得诱导未成年人打赏"),
        msg(3.0, "cat", "打赏记录在哪里看啊"),
    ]
    assert chat_signals(feed, match) == []
    (sig,) = [s for s in chat_signals([msg(4.0, "dan", "百家乐加微信 zz88661 带你回血")], match) if s.term == "百家乐"]
    assert sig.score > 0.5


class _Batching:
    """A matcher that records whether lines came one by one or as batches."""

    def __init__(self, inner: KeywordMatcher) -> None:
        self.inner = inner
        self.singles = 0
        self.batches: list[int] = []

    def __call__(self, text: str) -> list[KeywordHit]:
        self.singles += 1
        return self.inner.match(text)

    def match_many(self, texts: Sequence[str]) -> list[list[KeywordHit]]:
        self.batches.append(len(texts))
        return self.inner.match_many(texts)


def _feed() -> list[ChatMessage]:
    """Repeats by one user, a swarm of one line, rewordings, empty and blank lines, benign chat."""
    rng = random.Random(4)
    lines = [
        "百家乐 加微信",
        "百 家 乐???",
        "今天的菜真好吃",
        "",
        "   ",
        "刷火箭走一波",
        "新闻说警方破获赌博团伙",
        "baijiale 带你回血",
        "主播好漂亮",
        "上分下分找我",
        "ca5ino 888",
    ]
    users = ["amy", "bob", "bot", "dan", "eve"]
    return [msg(t * 0.7, rng.choice(users), rng.choice(lines)) for t in range(300)]


@pytest.mark.parametrize("size", [1, 7, 64, 300])
def test_observe_many_equals_observe_in_order(match: KeywordMatcher, size: int) -> None:
    feed = _feed()
    one = ChatSignals(match.match, dedup_window_s=10.0)
    want = [s for m in feed for s in one.observe(m)]
    spy = _Batching(match)
    many = ChatSignals(spy, dedup_window_s=10.0)
    got = [s for i in range(0, len(feed), size) for s in many.observe_many(feed[i : i + size])]
    assert got == want and many.suppressed == one.suppressed
    assert spy.singles == 0 and sum(spy.batches) == sum(1 for m in feed if m.text.strip())
    assert len(want) > 5 and one.suppressed > 5  # signals and suppressed repeats both occur


def test_observe_many_without_a_batch_matcher(match: KeywordMatcher) -> None:
    feed = _feed()[:80]
    one, many = ChatSignals(match.match), ChatSignals(lambda text: match.match(text))
    assert many.observe_many(feed) == [s for m in feed for s in one.observe(m)]


def test_chat_signals_batches_and_sorts(match: KeywordMatcher) -> None:
    feed = _feed()
    spy = _Batching(match)
    shuffled = feed[:]
    random.Random(1).shuffle(shuffled)
    assert chat_signals(shuffled, spy) == chat_signals(feed, match.match)
    assert spy.singles == 0 and len(spy.batches) > 1
