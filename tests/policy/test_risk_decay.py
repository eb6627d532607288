"""Risk decay, per-category weights and the admin override in the one risk model, and the
penalty table of the policy (``policy.penalties``)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from moderation.config import PenaltyConfig, PolicyConfig, RiskConfig
from moderation.policy.risk import RiskModel, StreamerRisk

DAY = 86400.0


def test_a_violation_halves_every_half_life_so_the_tier_comes_back_down() -> None:
    m = RiskModel(RiskConfig(half_life_days=10))
    r = m.next_risk(StreamerRisk("a"), "confirm", "high", 0.0)  # +2
    assert (r.tier, r.points) == (2, 2.0)
    assert m.current(r, 9 * DAY).tier == 1  # 2 · 0.5^0.9 ≈ 1.07
    assert m.current(r, 10 * DAY).points == pytest.approx(1.0) and m.current(r, 10 * DAY).tier == 1
    assert m.current(r, 20 * DAY).tier == 0  # 0.5 rounds down
    again = m.next_risk(r, "confirm", "medium", 10 * DAY)  # 1.0 decayed + 1
    assert (again.tier, again.points) == (2, pytest.approx(2.0))
    assert m.next_risk(r, "dismiss", "low", 30 * DAY).tier == 0  # any decision writes the decayed tier


def test_without_a_half_life_violations_count_forever() -> None:
    m = RiskModel(RiskConfig(half_life_days=None))
    r = m.next_risk(StreamerRisk("a"), "confirm", "medium", 0.0)
    assert m.current(r, 3650 * DAY).tier == 1


def test_category_weights_scale_the_step() -> None:
    m = RiskModel(RiskConfig(category_weights={"tipping_abnormal": 0.5, "minors": 2.0}))
    gifts = m.next_risk(StreamerRisk("a"), "confirm", "medium", 0.0, category="tipping_abnormal")
    assert (gifts.tier, gifts.points) == (0, 0.5)
    assert m.next_risk(gifts, "confirm", "medium", 0.0, category="tipping_abnormal").tier == 1
    assert m.next_risk(StreamerRisk("b"), "confirm", "medium", 0.0, category="minors").tier == 2
    with pytest.raises(ValidationError, match=r"category_weights must be within 0\.\.10"):
        RiskConfig(category_weights={"x": -1})


def test_the_override_wins_over_the_computed_tier() -> None:
    r = RiskModel().next_risk(StreamerRisk("a", override_tier=0), "confirm", "critical", 0.0)
    assert (r.tier, r.effective_tier) == (2, 0)
    assert StreamerRisk("b", tier=1).effective_tier == 1


def test_penalty_table_lookup_and_validation() -> None:
    p = PolicyConfig().penalties
    gambling = p.choice("gambling", "high")
    assert (gambling.allowed, gambling.default, gambling.ban_days) == (("cut", "ban", "permanent_ban"), "ban", 7.0)
    assert p.choice("gambling", "critical") == gambling  # the highest listed severity not above it
    assert p.choice("vulgar", "info").allowed == ("none", "warn")  # below every listed one: the lowest
    assert p.choice("minors", "high").default == "cut"
    assert p.choice("gambling", "high", "viewer").allowed == ("none", "warn")
    assert p.choice("custom_lexicon_category", "high") == p.fallback
    for cat in ("vulgar", "gambling", "synthetic_unlabeled", "tipping_inducement", "tipping_abnormal", "minors"):
        assert cat in p.categories
    with pytest.raises(ValidationError, match="default 'ban' is not among allowed"):
        PenaltyConfig.model_validate({"fallback": {"allowed": ["warn"], "default": "ban"}})
    with pytest.raises(ValidationError, match="severities must be among"):
        PenaltyConfig.model_validate({"categories": {"x": {"severe": {"allowed": ["warn"], "default": "warn"}}}})
    with pytest.raises(ValidationError, match="Input should be"):
        PenaltyConfig.model_validate({"fallback": {"allowed": ["flog"], "default": "flog"}})
