"""An alert's latency is measured from the evidence that made it known (for speech: the end of
the offending words), so its channel is that evidence's; without word of what was just fused, from
its first evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from moderation.messages import Signal, Verdict
from moderation.pipeline.alerts import AlertTracker

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _verdict(*signals: Signal) -> Verdict:
    ts = [s.t for s in signals]
    return Verdict("s1", "gambling", "high", 0.9, min(ts), max(ts), signals)


def _sig(kind: str, t: float) -> Signal:
    return Signal(kind, "s1", t, 0.9, "gambling", term="下注")


def test_first_heard_then_seen_is_a_speech_alert_measured_from_the_words() -> None:
    tracker = AlertTracker(lambda _c: 5.0, lambda t: T0 + timedelta(seconds=t))
    heard_then_seen = _verdict(_sig("ocr.keyword", 12.0), _sig("asr.keyword", 10.0))
    alert = tracker.see(heard_then_seen, T0 + timedelta(seconds=16), True)
    assert alert is not None
    assert alert.sources == ("frames", "speech") and alert.first == alert.trigger == "speech" and not alert.visual
    assert alert.latency_s == 6.0
    again = tracker.see(_verdict(_sig("ocr.keyword", 13.0)), T0 + timedelta(seconds=17), True)
    assert again is None  # the same violation: alerted once


def test_first_seen_is_a_visual_alert() -> None:
    tracker = AlertTracker(lambda _c: 5.0, lambda t: T0 + timedelta(seconds=t))
    alert = tracker.see(_verdict(_sig("qr.url", 40.0), _sig("asr.keyword", 41.0)), T0 + timedelta(seconds=40.3), True)
    assert alert is not None and alert.first == "frames" and alert.visual
    assert alert.latency_s is not None and abs(alert.latency_s - 0.3) < 1e-9


def test_speech_latency_runs_from_the_end_of_the_offending_words() -> None:
    tracker = AlertTracker(lambda _c: 5.0, lambda t: T0 + timedelta(seconds=t))
    said = Signal("asr.keyword", "s1", 10.0, 0.9, "gambling", term="online casino", end=14.0, words_end=11.2)
    alert = tracker.see(_verdict(said), T0 + timedelta(seconds=16), True)
    assert alert is not None and alert.first == "speech"
    assert alert.latency_s is not None and abs(alert.latency_s - 4.8) < 1e-9  # from 11.2, not 10.0
    assert alert.from_start_s == 6.0


def test_unknown_arrival_gives_no_latency() -> None:
    tracker = AlertTracker(lambda _c: 5.0, lambda t: None)
    alert = tracker.see(_verdict(_sig("asr.keyword", 3.0)), T0, True)
    assert alert is not None and alert.latency_s is None and alert.from_start_s is None


def test_a_caption_that_tips_a_weak_word_heard_earlier_is_a_visual_alert() -> None:
    tracker = AlertTracker(lambda _c: 5.0, lambda t: T0 + timedelta(seconds=t))
    weak = Signal("asr.keyword", "s1", 5.0, 0.2, "gambling", term="下注", words_end=5.5)
    caption = _sig("ocr.keyword", 16.0)
    alert = tracker.see(_verdict(weak, caption), T0 + timedelta(seconds=17), True, new=[caption])
    assert alert is not None and alert.first == "speech" and alert.trigger == "frames" and alert.visual
    assert alert.latency_s == 1.0  # from the caption's arrival, not from the weak word
    assert alert.from_first_s == 11.5  # the wait since the first, weak sign


def test_words_that_tip_a_violation_time_it_from_the_earliest_new_words() -> None:
    tracker = AlertTracker(lambda _c: 5.0, lambda t: T0 + timedelta(seconds=t))
    caption = _sig("ocr.keyword", 2.0)
    said = [
        Signal("asr.keyword", "s1", 10.0, 0.9, "gambling", term="online casino", words_end=11.0),
        Signal("asr.keyword", "s1", 12.0, 0.9, "gambling", term="baccarat", words_end=12.5),
    ]
    alert = tracker.see(_verdict(caption, *said), T0 + timedelta(seconds=15), True, new=said)
    assert alert is not None and alert.trigger == "speech" and alert.first == "frames" and not alert.visual
    assert alert.latency_s == 4.0  # from the end of the first new words


def test_a_violation_opened_by_time_alone_is_timed_from_its_last_evidence() -> None:
    tracker = AlertTracker(lambda _c: 5.0, lambda t: T0 + timedelta(seconds=t))
    alert = tracker.see(
        _verdict(_sig("image.nsfw", 1.0), _sig("image.nsfw", 3.0)), T0 + timedelta(seconds=4), True, new=[]
    )
    assert alert is not None and alert.trigger == "frames" and alert.latency_s == 1.0
