"""Streamer risk tiers (POLICY.md 分类分级管理, 信用评价体系): review decisions → tier → profile.

The one risk model. Deliberately simple and monotone so a reviewer can predict it, and driven by
``policy.risk`` (:class:`moderation.config.RiskConfig`):

* ``tier`` starts at 0. Each **confirmed** violation raises it by ``confirm_step``; one whose
  severity is in ``severe`` by ``severe_step``; capped at the last configured tier. Tiers never
  drop automatically — lowering a tier is an admin decision outside this module.
* ``fp_weight`` (1.0 = trust the detectors fully) is how much a streamer's automatic flags are
  believed. Each **dismissed** (false-positive) verdict multiplies it by ``fp_decay`` down to
  ``fp_floor``; a confirmation restores one step (divides by ``fp_decay``, capped at 1.0).
* **escalations** are counted only.
* Decisions on **viewer** verdicts (a viewer's chat, subject kind ``viewer``) never change the
  streamer's risk: the streamer is not answerable for what their audience writes.

Plain Python with no store: the review package keeps the per-streamer rows and calls
:meth:`RiskModel.next_risk` inside each decision's transaction. What a tier buys is read from the
same config through :meth:`RiskModel.profile_for` (the pipeline profile) and
:meth:`RiskModel.sampling_multiplier` — the one place where sampling is steered by risk.
"""

from __future__ import annotations

from dataclasses import dataclass

from moderation.config import RiskConfig, RiskTier

__all__ = [
    "MAX_TIER",
    "RiskModel",
    "StreamerRisk",
    "counts_against_streamer",
    "next_risk",
    "profile_for",
    "sampling_multiplier",
]


@dataclass(frozen=True)
class StreamerRisk:
    """One streamer's risk after the decisions so far."""

    streamer: str
    tier: int = 0
    confirmed: int = 0
    dismissed: int = 0
    escalated: int = 0
    fp_weight: float = 1.0
    updated_at: float = 0.0


def counts_against_streamer(subject: str | None) -> bool:
    """Whether a decision on a verdict about ``subject`` (its kind) changes the streamer's risk."""
    return subject != "viewer"


class RiskModel:
    """The rules of :class:`RiskConfig`: one decision → the next risk; a tier → what it buys."""

    def __init__(self, cfg: RiskConfig | None = None) -> None:
        self.cfg = cfg or RiskConfig()

    @property
    def max_tier(self) -> int:
        return len(self.cfg.tiers) - 1

    def tier(self, tier: int) -> RiskTier:
        """The configured tier ``tier`` (clamped to the configured range)."""
        return self.cfg.tiers[max(0, min(self.max_tier, tier))]

    def sampling_multiplier(self, tier: int) -> float:
        """Frame/OCR sampling-rate multiplier for a stream of this tier."""
        return self.tier(tier).sampling

    def profile_for(self, tier: int) -> str:
        """The pipeline profile (preset name) a stream of this tier is watched with."""
        return self.tier(tier).preset

    def next_risk(self, cur: StreamerRisk, action: str, severity: str, now: float) -> StreamerRisk:
        """The risk after one decision (``confirm``, ``dismiss``, ``escalate``; see the module docstring)."""
        c = self.cfg
        tier, fp = cur.tier, cur.fp_weight
        confirmed, dismissed, escalated = cur.confirmed, cur.dismissed, cur.escalated
        if action == "confirm":
            step = c.severe_step if severity in c.severe else c.confirm_step
            tier = min(self.max_tier, tier + step)
            fp = min(1.0, fp / c.fp_decay)
            confirmed += 1
        elif action == "dismiss":
            fp = max(c.fp_floor, fp * c.fp_decay)
            dismissed += 1
        elif action == "escalate":
            escalated += 1
        return StreamerRisk(cur.streamer, tier, confirmed, dismissed, escalated, round(fp, 6), now)


_DEFAULT = RiskModel()
#: Highest tier of the default config (the review store's tiers without a pipeline at hand).
MAX_TIER = _DEFAULT.max_tier


def _model(cfg: RiskConfig | None) -> RiskModel:
    return _DEFAULT if cfg is None else RiskModel(cfg)


def next_risk(cur: StreamerRisk, action: str, severity: str, now: float, cfg: RiskConfig | None = None) -> StreamerRisk:
    """:meth:`RiskModel.next_risk` under ``cfg`` (the default ``policy.risk`` when None)."""
    return _model(cfg).next_risk(cur, action, severity, now)


def sampling_multiplier(tier: int, cfg: RiskConfig | None = None) -> float:
    """:meth:`RiskModel.sampling_multiplier` under ``cfg`` (the default ``policy.risk`` when None)."""
    return _model(cfg).sampling_multiplier(tier)


def profile_for(tier: int, cfg: RiskConfig | None = None) -> str:
    """:meth:`RiskModel.profile_for` under ``cfg`` (the default ``policy.risk`` when None)."""
    return _model(cfg).profile_for(tier)
