"""Streamer risk tiers: decisions → score → tier → sampling fps and preset; both stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation.config import RiskConfig, load_pipeline
from moderation.policy.risk import (
    DecisionCounts,
    MemoryRiskStore,
    RiskPolicy,
    RiskStore,
    RiskTracker,
    SqliteRiskStore,
)


def test_new_streamer_is_normal_and_confirmations_raise_the_tier() -> None:
    policy = RiskPolicy(RiskConfig())
    assert policy.assign("a", DecisionCounts()).tier == "normal"
    tiers = [policy.assign("a", DecisionCounts(confirmed=n)).tier for n in (0, 2, 5, 10)]
    assert tiers == ["normal", "elevated", "high", "high"]


def test_dismissals_lower_the_score_but_not_below_zero() -> None:
    policy = RiskPolicy(RiskConfig())
    assert policy.assign("a", DecisionCounts(dismissed=4)).tier == "low"
    assert policy.score(DecisionCounts(dismissed=100)) == 0.0
    # four false positives cancel one confirmed violation at the default weights
    assert policy.score(DecisionCounts(confirmed=3, dismissed=4)) == policy.score(DecisionCounts(confirmed=2))
    assert DecisionCounts(confirmed=1, dismissed=3).false_positive_rate == 0.75


def test_tier_maps_to_sampling_and_an_existing_preset() -> None:
    cfg = RiskConfig()
    fps = [t.fps for t in cfg.tiers]
    assert fps == sorted(fps)  # riskier streams get denser sampling
    for tier in cfg.tiers:
        load_pipeline(tier.preset)
    a = RiskPolicy(cfg).assign("a", DecisionCounts(confirmed=9))
    assert (a.fps, a.preset) == (4.0, "strict")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_tracker_records_decisions_and_moves_the_tier(tmp_path: Path, kind: str) -> None:
    store: RiskStore = MemoryRiskStore() if kind == "memory" else SqliteRiskStore(tmp_path / "risk.db")
    tracker = RiskTracker(RiskConfig(), store)
    assert tracker.assignment("alice").tier == "normal"
    for _ in range(2):
        last = tracker.record("alice", confirmed=True)
    assert (last.tier, last.counts) == ("elevated", DecisionCounts(2, 0))
    assert tracker.record("alice", confirmed=False).counts == DecisionCounts(2, 1)
    assert tracker.assignment("bob").counts == DecisionCounts()


def test_sqlite_store_persists_across_instances(tmp_path: Path) -> None:
    SqliteRiskStore(tmp_path / "r.db").record_decision("s", True)
    SqliteRiskStore(tmp_path / "r.db").record_decision("s", False)
    assert SqliteRiskStore(tmp_path / "r.db").decision_counts("s") == DecisionCounts(1, 1)
