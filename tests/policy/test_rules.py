"""Each policy rule type, driven by scripted signal sequences (no models)."""

from __future__ import annotations

from factories import signal

from moderation.config import CategoryPolicy, KOfN, PolicyConfig, SignalRule
from moderation.messages import Signal
from moderation.policy.fuse import Fuser, fuse
from moderation.policy.rules import action_for, contribution, rule_for, severity_for


def pol(category: str = "gambling", **kw: object) -> PolicyConfig:
    return PolicyConfig(categories={category: CategoryPolicy(**kw)})


# ---------------------------------------------------------------- which signals count, weights


def test_only_listed_kinds_count_and_patterns_match() -> None:
    p = CategoryPolicy(signals={"qr.url": SignalRule(), "image.model.*": SignalRule(weight=0.5)})
    assert rule_for(p, "asr.keyword") is None
    assert contribution(signal(1.0, kind="asr.keyword"), p) is None
    assert contribution(signal(1.0, kind="qr.url", score=0.8), p) == 0.8
    assert contribution(signal(1.0, kind="image.model.casino", score=0.8), p) == 0.4


def test_empty_signal_table_counts_everything() -> None:
    assert rule_for(CategoryPolicy(), "anything.at.all") is not None


def test_weight_and_min_score_change_the_verdict() -> None:
    sigs = [signal(1.0, kind="ocr.keyword", score=0.9)]
    assert len(fuse("s1", sigs, pol(signals={"ocr.keyword": SignalRule()}))) == 1
    assert fuse("s1", sigs, pol(signals={"ocr.keyword": SignalRule(weight=0.4)})) == []
    assert fuse("s1", sigs, pol(signals={"ocr.keyword": SignalRule(min_score=0.95)})) == []


def test_unlisted_kind_does_not_open_or_extend() -> None:
    p = pol(signals={"qr.url": SignalRule()}, merge_gap_s=3.0)
    sigs = [signal(0.0, kind="qr.url"), *(signal(t, kind="asr.keyword") for t in (2.0, 4.0, 6.0))]
    (v,) = fuse("s1", sigs, p)
    assert (v.start, v.end, len(v.signals)) == (0.0, 0.0, 1)


# ---------------------------------------------------------------- sliding window


def test_weak_signals_add_up_only_inside_the_window() -> None:
    inside = [signal(t, score=0.3) for t in (0.0, 2.0)]
    (v,) = fuse("s1", inside, pol(window_s=5.0, threshold=0.5))
    assert abs(v.score - 0.51) < 1e-9
    apart = [signal(t, score=0.3) for t in (0.0, 6.0)]
    assert fuse("s1", apart, pol(window_s=5.0, threshold=0.5, merge_gap_s=10.0)) == []


def test_verdict_starts_at_the_first_signal_of_the_window_that_opened_it() -> None:
    sigs = [signal(t, score=0.3) for t in (10.0, 11.0, 12.0)]
    (v,) = fuse("s1", sigs, pol(window_s=5.0, threshold=0.6))
    assert v.start == 10.0 and len(v.signals) == 3


# ---------------------------------------------------------------- k of n


def test_k_of_n_blocks_a_single_frame_fluke() -> None:
    p = pol(k_of_n=KOfN(k=2, n=3, bin_s=1.0))
    assert fuse("s1", [signal(5.0, score=0.99)], p) == []


def test_k_of_n_opens_on_evidence_in_k_bins() -> None:
    p = pol(k_of_n=KOfN(k=2, n=3, bin_s=1.0))
    (v,) = fuse("s1", [signal(5.0), signal(6.5)], p)
    assert (v.start, v.end) == (5.0, 6.5)
    # two hits too far apart (bins 5 and 9) never share a 3-bin span
    assert fuse("s1", [signal(5.0), signal(9.0)], p) == []


def test_k_of_n_bin_min_score() -> None:
    p = pol(threshold=0.1, k_of_n=KOfN(k=2, n=2, bin_s=1.0, min_score=0.5))
    assert fuse("s1", [signal(1.0, score=0.3), signal(2.0, score=0.9)], p) == []
    assert len(fuse("s1", [signal(1.0, score=0.6), signal(2.0, score=0.9)], p)) == 1


# ---------------------------------------------------------------- hysteresis


def test_hysteresis_keeps_open_on_weaker_evidence() -> None:
    script = [signal(0.0, score=0.9)] + [signal(t, score=0.4) for t in (6.0, 12.0, 18.0)]
    (v,) = fuse("s1", script, pol(threshold=0.8, close_threshold=0.3, window_s=1.0, merge_gap_s=7.0))
    assert (v.start, v.end, len(v.signals)) == (0.0, 18.0, 4)


def test_without_hysteresis_weak_tail_is_not_evidence() -> None:
    script = [signal(0.0, score=0.9)] + [signal(t, score=0.4) for t in (6.0, 12.0, 18.0)]
    (v,) = fuse("s1", script, pol(threshold=0.8, window_s=1.0, merge_gap_s=7.0))
    assert (v.start, v.end, len(v.signals)) == (0.0, 0.0, 1)


def test_weak_signals_between_strong_ones_join_the_verdict() -> None:
    script = [signal(0.0, score=0.9), signal(2.0, score=0.1), signal(4.0, score=0.9)]
    (v,) = fuse("s1", script, pol(threshold=0.8, window_s=1.0, merge_gap_s=5.0))
    assert [s.t for s in v.signals] == [0.0, 2.0, 4.0]


# ---------------------------------------------------------------- duration, merge gap, count


def test_min_duration_drops_short_bursts() -> None:
    burst = [signal(t) for t in (0.0, 1.0)]
    longer = [signal(t) for t in (0.0, 2.0, 4.0, 6.0)]
    assert fuse("s1", burst, pol(min_duration_s=5.0)) == []
    (v,) = fuse("s1", longer, pol(min_duration_s=5.0))
    assert v.end - v.start == 6.0


def test_signal_end_counts_for_duration() -> None:
    (v,) = fuse("s1", [signal(0.0, end=8.0)], pol(min_duration_s=5.0))
    assert v.end == 8.0


def test_merge_gap_decides_one_or_two_verdicts() -> None:
    sigs = [signal(0.0), signal(4.0)]
    assert len(fuse("s1", sigs, pol(merge_gap_s=5.0))) == 1
    assert len(fuse("s1", sigs, pol(merge_gap_s=3.0))) == 2


def test_second_verdict_does_not_reuse_first_verdicts_evidence() -> None:
    sigs = [signal(0.0), signal(8.0)]
    first, second = fuse("s1", sigs, pol(merge_gap_s=3.0, window_s=20.0))
    assert [s.t for s in first.signals] == [0.0]
    assert [s.t for s in second.signals] == [8.0]


# ---------------------------------------------------------------- severity and action


def test_custom_severity_levels_and_actions() -> None:
    p = CategoryPolicy(
        threshold=0.3,
        severity={"minor": 0.0, "major": 0.6, "critical": 0.95},
        action="review",
        actions={"critical": "cut", "major": "warn"},
    )
    assert [severity_for(s, p) for s in (0.4, 0.7, 0.97)] == ["minor", "major", "critical"]
    assert [action_for(x, p) for x in ("minor", "major", "critical")] == ["review", "warn", "cut"]
    (v,) = fuse("s1", [signal(0.0, score=0.97)], PolicyConfig(categories={"gambling": p}))
    assert (v.severity, v.action) == ("critical", "cut")


def test_default_severity_levels() -> None:
    p = CategoryPolicy(threshold=0.5, high_score=0.9)
    assert [severity_for(s, p) for s in (0.55, 0.75, 0.95)] == ["low", "medium", "high"]


# ---------------------------------------------------------------- disclosure suppression


def synth(t: float) -> Signal:
    return signal(t, category="synthetic_unlabeled", kind="synthetic.loop")


def label(t: float) -> Signal:
    return signal(t, category="disclosure", kind="disclosure.label", score=1.0)


def test_synthetic_without_label_is_a_verdict() -> None:
    (v,) = fuse("s1", [synth(t) for t in (0.0, 5.0, 10.0)], PolicyConfig())
    assert v.category == "synthetic_unlabeled"


def test_label_near_the_verdict_suppresses_it() -> None:
    sigs = [synth(t) for t in (100.0, 105.0, 110.0)]
    for at in (50.0, 105.0, 160.0):  # before, during, after (within suppress_window_s=60)
        assert fuse("s1", [*sigs, label(at)], PolicyConfig()) == [], at
    assert len(fuse("s1", [*sigs, label(0.0)], PolicyConfig())) == 1


def test_live_fuser_waits_for_the_suppress_window_and_then_decides() -> None:
    f = Fuser("s1", PolicyConfig())
    for t in (0.0, 5.0, 10.0):
        assert f.add(synth(t)) == []
    assert f.advance(40.0) == []  # ended, but a label could still come
    assert f.add(label(55.0)) == []
    assert f.advance(200.0) == []  # suppressed
    f2 = Fuser("s1", PolicyConfig())
    for t in (0.0, 5.0, 10.0):
        f2.add(synth(t))
    (v,) = f2.advance(200.0)
    assert (v.start, v.end) == (0.0, 10.0)


def test_disclosure_signals_never_become_verdicts_and_do_not_affect_others() -> None:
    assert fuse("s1", [label(1.0), label(2.0)], PolicyConfig()) == []
    assert len(fuse("s1", [signal(1.0), label(1.0)], PolicyConfig())) == 1


# ---------------------------------------------------------------- live helpers, extra categories


def test_active_reports_an_ongoing_violation() -> None:
    f = Fuser("s1", pol(merge_gap_s=5.0))
    f.add(signal(0.0))
    f.add(signal(3.0))
    (v,) = f.active()
    assert (v.start, v.end) == (0.0, 3.0)
    assert f.advance(4.0) == []


def test_out_of_order_signal_within_the_window_still_counts() -> None:
    f = Fuser("s1", pol(threshold=0.5, window_s=5.0))
    f.add(signal(3.0, score=0.3))
    f.add(signal(2.0, score=0.3))
    (v,) = f.finish()
    assert v.start == 2.0


def test_extra_category_uses_the_default_policy() -> None:
    (v,) = fuse("s1", [signal(1.0, category="fraud", kind="chat.keyword")], PolicyConfig())
    assert v.category == "fraud"
