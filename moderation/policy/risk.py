"""Streamer risk tiers (POLICY.md 分类分级管理, 信用评价体系): review decisions → tier → profile.

The one risk model. Deliberately simple so a reviewer can predict it, and driven by
``policy.risk`` (:class:`moderation.config.RiskConfig`):

* A streamer has ``points``: each **confirmed** violation adds ``confirm_step`` (``severe_step``
  when its severity is in ``severe``) times its category's weight (``category_weights``, 1.0 when
  not listed), capped at the last configured tier. Points halve every ``half_life_days`` (None:
  never), so a streamer with nothing new confirmed comes back down.
* ``tier`` is the points rounded (a half rounds down), so one violation of step 1 keeps a streamer
  at tier 1 for one half-life. An admin's **override** (``override_tier``) wins over the computed
  tier until it is cleared.
* ``fp_weight`` records how often a streamer's automatic flags were wrong (1.0 = never): each
  **dismissed** verdict multiplies it by ``fp_decay`` down to ``fp_floor``; a confirmation
  restores one step (divides by ``fp_decay``, capped at 1.0). **Escalations** are counted only.
* Decisions on **viewer** verdicts (a viewer's chat, subject kind ``viewer``) never change the
  streamer's risk: the streamer is not answerable for what their audience writes.

Plain Python with no store: the review package keeps the per-streamer rows and calls
:meth:`RiskModel.next_risk` inside each decision's transaction. What a tier buys is read from the
same config through :meth:`RiskModel.profile_for` (the pipeline profile) and
:meth:`RiskModel.sampling_multiplier` — the one place where sampling is steered by risk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

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
    #: Decayed weight of the confirmed violations as of ``updated_at`` (see the module docstring).
    points: float = 0.0
    #: An admin's tier, winning over the computed one (None: none set), who set it and why.
    override_tier: int | None = None
    override_reason: str | None = None
    override_by: str | None = None
    #: When the tier, the override or a ban of this streamer last changed (what the pool polls).
    changed_at: float = 0.0

    @property
    def effective_tier(self) -> int:
        """The tier the pool applies: the admin's override, else the computed tier."""
        return self.tier if self.override_tier is None else self.override_tier


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

    def weight(self, category: str | None) -> float:
        """How much a confirmed violation of ``category`` counts (``category_weights``, else 1.0)."""
        return self.cfg.category_weights.get(category or "", 1.0)

    def decayed(self, points: float, since: float, now: float) -> float:
        """``points`` as of ``since``, decayed to ``now`` (halving every ``half_life_days``)."""
        half = self.cfg.half_life_days
        if half is None or now <= since or points <= 0:
            return points
        return points * 0.5 ** ((now - since) / (half * 86400.0))

    def tier_of(self, points: float) -> int:
        """Points rounded to a tier (a half rounds down), within the configured tiers."""
        return max(0, min(self.max_tier, math.ceil(points - 0.5 - 1e-9)))

    def current(self, cur: StreamerRisk, now: float) -> StreamerRisk:
        """``cur`` with its points decayed to ``now`` and the tier they give (counts unchanged)."""
        pts = self.decayed(cur.points, cur.updated_at, now)
        return replace(cur, points=round(pts, 6), tier=self.tier_of(pts), updated_at=max(now, cur.updated_at))

    def next_risk(
        self, cur: StreamerRisk, action: str, severity: str, now: float, *, category: str | None = None
    ) -> StreamerRisk:
        """The risk after one decision (``confirm``, ``dismiss``, ``escalate``; see the module docstring)."""
        c = self.cfg
        fp = cur.fp_weight
        pts = self.decayed(cur.points, cur.updated_at, now)
        confirmed, dismissed, escalated = cur.confirmed, cur.dismissed, cur.escalated
        if action == "confirm":
            step = c.severe_step if severity in c.severe else c.confirm_step
            pts = min(float(self.max_tier), pts + step * self.weight(category))
            fp = min(1.0, fp / c.fp_decay)
            confirmed += 1
        elif action == "dismiss":
            fp = max(c.fp_floor, fp * c.fp_decay)
            dismissed += 1
        elif action == "escalate":
            escalated += 1
        return replace(
            cur,
            tier=self.tier_of(pts),
            confirmed=confirmed,
            dismissed=dismissed,
            escalated=escalated,
            fp_weight=round(fp, 6),
            updated_at=now,
            points=round(pts, 6),
        )


_DEFAULT = RiskModel()
#: Highest tier of the default config (the review store's tiers without a pipeline at hand).
MAX_TIER = _DEFAULT.max_tier


def _model(cfg: RiskConfig | None) -> RiskModel:
    return _DEFAULT if cfg is None else RiskModel(cfg)


def next_risk(
    cur: StreamerRisk,
    action: str,
    severity: str,
    now: float,
    cfg: RiskConfig | None = None,
    *,
    category: str | None = None,
) -> StreamerRisk:
    """:meth:`RiskModel.next_risk` under ``cfg`` (the default ``policy.risk`` when None)."""
    return _model(cfg).next_risk(cur, action, severity, now, category=category)


def sampling_multiplier(tier: int, cfg: RiskConfig | None = None) -> float:
    """:meth:`RiskModel.sampling_multiplier` under ``cfg`` (the default ``policy.risk`` when None)."""
    return _model(cfg).sampling_multiplier(tier)


def profile_for(tier: int, cfg: RiskConfig | None = None) -> str:
    """:meth:`RiskModel.profile_for` under ``cfg`` (the default ``policy.risk`` when None)."""
    return _model(cfg).profile_for(tier)
