"""Streamer risk tiers: decisions → tier and fp_weight → sampling and pipeline profile, from config."""

from __future__ import annotations

import pytest

from moderation.config import RiskConfig, RiskTier, load_pipeline
from moderation.policy.risk import (
    MAX_TIER,
    RiskModel,
    StreamerRisk,
    counts_against_streamer,
    next_risk,
    profile_for,
    sampling_multiplier,
)


def _apply(model: RiskModel, steps: list[tuple[str, str]]) -> StreamerRisk:
    r = StreamerRisk("alice")
    for i, (action, severity) in enumerate(steps):
        r = model.next_risk(r, action, severity, float(i))
    return r


def test_confirmations_raise_the_tier_severe_ones_twice_and_it_is_capped() -> None:
    m = RiskModel()
    assert _apply(m, [("confirm", "medium")]).tier == 1
    assert _apply(m, [("confirm", "high")]).tier == 2
    assert _apply(m, [("confirm", "critical")] * 5).tier == MAX_TIER == 3


def test_dismissals_lower_trust_to_a_floor_and_never_the_tier() -> None:
    m = RiskModel()
    r = _apply(m, [("confirm", "medium"), *[("dismiss", "medium")] * 20])
    assert r.tier == 1 and r.dismissed == 20 and r.fp_weight == 0.5
    one = _apply(m, [("dismiss", "low")])
    assert one.fp_weight == 0.9
    back = m.next_risk(one, "confirm", "low", 9.0)
    assert back.fp_weight == 1.0 and back.confirmed == 1 and back.updated_at == 9.0


def test_escalations_are_counted_only() -> None:
    r = _apply(RiskModel(), [("escalate", "high")] * 2)
    assert (r.tier, r.escalated, r.fp_weight) == (0, 2, 1.0)


def test_viewer_verdicts_do_not_count_against_the_streamer() -> None:
    assert not counts_against_streamer("viewer")
    assert counts_against_streamer("streamer") and counts_against_streamer(None)


def test_rules_and_what_a_tier_buys_come_from_config() -> None:
    cfg = RiskConfig(
        confirm_step=0,
        severe_step=1,
        severe=("critical",),
        fp_decay=0.5,
        fp_floor=0.2,
        tiers=(RiskTier(name="base", sampling=1.0), RiskTier(name="hot", sampling=4.0, preset="strict")),
    )
    m = RiskModel(cfg)
    assert _apply(m, [("confirm", "high")] * 3).tier == 0
    assert _apply(m, [("confirm", "critical")] * 3).tier == 1 == m.max_tier
    assert _apply(m, [("dismiss", "low")] * 5).fp_weight == 0.2
    assert [m.profile_for(t) for t in (-1, 0, 1, 7)] == ["default", "default", "strict", "strict"]
    assert [m.sampling_multiplier(t) for t in (0, 1, 9)] == [1.0, 4.0, 4.0]
    assert next_risk(StreamerRisk("a"), "confirm", "critical", 0.0, cfg).tier == 1
    assert profile_for(1, cfg) == "strict" and sampling_multiplier(1, cfg) == 4.0


def test_default_tiers_sample_riskier_streams_denser_with_presets_that_exist() -> None:
    m = RiskModel()
    rates = [sampling_multiplier(t) for t in range(MAX_TIER + 1)]
    assert rates == sorted(rates) and rates[0] == 1.0 and rates[-1] > rates[0]
    for t in range(MAX_TIER + 1):
        assert load_pipeline(m.profile_for(t)).name == profile_for(t)
    assert profile_for(0) == "default" and profile_for(MAX_TIER) == "strict"


@pytest.mark.parametrize(
    ("tiers", "says"),
    [
        ((), "at least one risk tier"),
        ((RiskTier(name="a"), RiskTier(name="a", sampling=2)), "unique"),
        ((RiskTier(name="a", sampling=2), RiskTier(name="b", sampling=1)), "ordered by sampling"),
    ],
)
def test_bad_tiers_are_refused(tiers: tuple[RiskTier, ...], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        RiskConfig(tiers=tiers)
