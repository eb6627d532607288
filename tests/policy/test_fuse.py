from factories import signal

from moderation.config import CategoryPolicy, PolicyConfig
from moderation.policy.fuse import Fuser, fuse, noisy_or


def policy(**kw: object) -> PolicyConfig:
    return PolicyConfig(categories={"gambling": CategoryPolicy(**kw)})


def test_continuing_violation_is_one_growing_verdict() -> None:
    sigs = [signal(t) for t in (10.0, 12.0, 14.5, 18.0)]
    (v,) = fuse("s1", sigs, policy(merge_gap_s=5.0))
    assert (v.start, v.end) == (10.0, 18.0)
    assert len(v.signals) == 4
    assert v.category == "gambling"


def test_gap_longer_than_merge_gap_splits() -> None:
    sigs = [signal(10.0), signal(30.0)]
    verdicts = fuse("s1", sigs, policy(merge_gap_s=5.0))
    assert [v.start for v in verdicts] == [10.0, 30.0]


def test_threshold_and_min_signals() -> None:
    assert fuse("s1", [signal(1.0, score=0.3)], policy(threshold=0.5)) == []
    # two weak signals together pass the threshold (noisy-or 0.51)
    (v,) = fuse("s1", [signal(1.0, score=0.3), signal(2.0, score=0.3)], policy(threshold=0.5))
    assert abs(v.score - noisy_or([0.3, 0.3])) < 1e-9
    assert fuse("s1", [signal(1.0)], policy(min_signals=2)) == []


def test_severity_levels() -> None:
    (high,) = fuse("s1", [signal(1.0, score=0.95)], policy(threshold=0.5, high_score=0.9))
    (low,) = fuse("s1", [signal(1.0, score=0.55)], policy(threshold=0.5, high_score=0.9))
    assert high.severity == "high"
    assert low.severity == "low"


def test_disclosure_signals_never_become_verdicts() -> None:
    assert fuse("s1", [signal(1.0, category="disclosure")], PolicyConfig()) == []


def test_incremental_advance_closes_only_finished_groups() -> None:
    f = Fuser("s1", policy(merge_gap_s=5.0))
    assert f.add(signal(1.0)) == []
    assert f.advance(4.0) == []  # could still grow
    (v,) = f.advance(7.0)
    assert v.end == 1.0
    assert f.finish() == []


def test_record_shape_matches_design_contract() -> None:
    (v,) = fuse("s1", [signal(13.2, term="百家乐", text="现在开始下注百家乐", lang="zh")], policy())
    rec = v.to_record()
    assert set(rec) == {
        "stream",
        "category",
        "severity",
        "score",
        "start",
        "end",
        "wallclock_start",
        "signals",
        "clip",
        "thumbnails",
        "model_versions",
        "subject",
        "action",
    }
    assert rec["subject"] == {"kind": "streamer", "id": "s1"}
    assert rec["signals"][0] == {
        "kind": "asr.keyword",
        "t": 13.2,
        "score": 0.9,
        "term": "百家乐",
        "text": "现在开始下注百家乐",
        "lang": "zh",
    }
