"""Gift tracker: totals over sliding windows, bursts, tipping on inducement, minors' gifts."""

from __future__ import annotations

from moderation.config import GiftsConfig
from moderation.messages import GiftEvent, Signal, Subject
from moderation.signals.gifts import GiftTracker


def gift(t: float, user: str, amount: float, name: str = "火箭") -> GiftEvent:
    return GiftEvent("s", t, user, name, amount, "CNY", amount)


def kinds(sigs: list[Signal]) -> list[tuple[str, str, str]]:
    return [(s.kind, s.category, s.subject.kind if s.subject else "") for s in sigs]


def test_user_total_over_the_limit_in_the_window_only() -> None:
    tr = GiftTracker("s", GiftsConfig(user_limit=1000, user_window_s=600, burst_count=100))
    assert tr.observe_gift(gift(0, "a", 600)) == []
    out = tr.observe_gift(gift(100, "a", 600))
    assert kinds(out) == [("gift.user_total", "tipping_abnormal", "viewer")]
    assert out[0].subject == Subject("viewer", "a") and out[0].user == "a" and out[0].score >= 0.8
    # the same sums spread beyond the window never exceed the limit
    tr2 = GiftTracker("s", GiftsConfig(user_limit=1000, user_window_s=600, burst_count=100))
    assert tr2.observe_gift(gift(0, "a", 600)) == []
    assert tr2.observe_gift(gift(700, "a", 600)) == []


def test_room_total_is_the_rooms_and_throttled() -> None:
    cfg = GiftsConfig(room_limit=1000, user_limit=10**6, burst_count=100, signal_every_s=60)
    tr = GiftTracker("s", cfg)
    out: list[Signal] = []
    for i in range(30):
        out += tr.observe_gift(gift(i, f"u{i}", 50))
    assert kinds(out) == [("gift.room_total", "tipping_abnormal", "room")]
    assert out[0].subject == Subject("room", "s") and out[0].t == 20  # 21st gift: 1050 > 1000
    out = tr.observe_gift(gift(81, "late", 50))
    assert [s.kind for s in out] == ["gift.room_total"]  # a minute later: the condition still holds


def test_burst_of_cheap_gifts() -> None:
    tr = GiftTracker("s", GiftsConfig(burst_count=10, burst_window_s=30))
    slow = [tr.observe_gift(gift(i * 5.0, "a", 1, "玫瑰")) for i in range(12)]  # 12 in 55 s: no burst
    assert not any(slow)
    out = [s for i in range(10) for s in tr.observe_gift(gift(100 + i, "b", 1, "玫瑰"))]
    assert kinds(out) == [("gift.burst", "tipping_abnormal", "viewer")] and out[0].user == "b"


def test_gifts_right_after_inducement_count_for_the_streamer() -> None:
    tr = GiftTracker("s", GiftsConfig(inducement_window_s=60, inducement_min_amount=100))
    tr.observe_gift(gift(5, "a", 500))  # before any inducement: nothing
    cue = Signal("asr.keyword", "s", 10.0, 0.9, "tipping_inducement", term="刷火箭")
    assert tr.observe_signal(cue) == []
    assert tr.observe_gift(gift(20, "a", 50)) == []  # below the minimum so far
    out = tr.observe_gift(gift(30, "a", 60))
    assert kinds(out) == [("gift.after_inducement", "tipping_abnormal", "streamer")]
    assert out[0].label == "inducement_t=10.0" and "刷火箭" in (out[0].text or "")
    assert tr.observe_gift(gift(200, "c", 500)) == []  # long after the cue


def test_counter_speech_is_no_inducement() -> None:
    tr = GiftTracker("s", GiftsConfig(inducement_min_amount=1))
    tr.observe_signal(Signal("ocr.keyword", "s", 1.0, 0.0, "tipping_inducement", term="打赏", context="counter"))
    assert tr.observe_gift(gift(2, "a", 100)) == []


def test_minor_disclosure_then_gift_and_gift_then_disclosure() -> None:
    tr = GiftTracker("s")
    said = Signal(
        "chat.keyword", "s", 3.0, 0.9, "minors", term="我才13岁", text="我才13岁，用妈妈的卡刷了火箭", user="kid"
    )
    assert tr.observe_signal(said) == []
    out = tr.observe_gift(gift(4, "kid", 1))
    assert sorted(kinds(out)) == [("gift.minor", "minors", "viewer"), ("gift.minor", "tipping_abnormal", "viewer")]
    assert all(s.score >= 0.9 and s.user == "kid" for s in out)
    assert tr.observe_gift(gift(5, "adult", 1)) == []
    tr2 = GiftTracker("s")
    tr2.observe_gift(gift(1, "kid2", 30))
    out = tr2.observe_signal(Signal("chat.keyword", "s", 8.0, 0.9, "minors", term="初二", user="kid2"))
    assert sorted(s.category for s in out) == ["minors", "tipping_abnormal"] and out[0].t == 8.0


def test_memory_is_bounded_by_the_windows() -> None:
    tr = GiftTracker("s", GiftsConfig(user_window_s=60, burst_window_s=10))
    for i in range(2000):
        tr.observe_gift(gift(float(i), f"u{i}", 1))
    assert tr.viewers <= 80
