"""Policy: which signals count for which category, thresholds, smoothing, severity, risk tiers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from moderation.config._base import _Strict
from moderation.config.penalties import PenaltyConfig


class SignalRule(_Strict):
    """How one signal kind counts towards a category (``policy.categories.<c>.signals.<kind>``)."""

    weight: float = Field(
        1.0, ge=0, le=1, description="Multiplies the signal score: a weak source counts for less than a strong one."
    )
    min_score: float = Field(0.0, ge=0, le=1, description="Signals of this kind scoring below are ignored.")
    labels: dict[str, float] = Field(
        default_factory=dict,
        description="Per-label score a signal needs to count on its own (e.g. per NudeNet class); "
        "labels not listed use min_score.",
    )
    agree_score: float | None = Field(
        None,
        ge=0,
        le=1,
        description="A signal below its label's score still counts when the other model on the same frame "
        "scores at least this (NudeNet box + open_nsfw agreement); None = never.",
    )
    clean_below: float | None = Field(
        None,
        ge=0,
        le=1,
        description="A signal does not count at all when the other model on the same frame scores below this: "
        "that model is sure the frame is clean (NudeNet reads smooth colour gradients, a colour wheel, as "
        "BUTTOCKS_EXPOSED at 0.7-0.8 while open_nsfw gives them under 0.01); None = never.",
    )

    @field_validator("labels")
    @classmethod
    def _label_scores(cls, value: dict[str, float]) -> dict[str, float]:
        for label, score in value.items():
            if not 0 <= score <= 1:
                raise ValueError(f"label {label!r}: score {score} is not within 0..1")
        return value


class KOfN(_Strict):
    """Temporal smoothing: a verdict may open only when evidence is present in ``k`` of the last ``n``
    time bins of ``bin_s`` seconds, so a single-frame fluke cannot open one."""

    k: int = Field(2, ge=1, description="Bins with evidence needed.")
    n: int = Field(3, ge=1, description="Bins looked at (the current one and the n-1 before it).")
    bin_s: float = Field(1.0, gt=0, description="Bin length in media seconds.")
    min_score: float = Field(
        0.0, ge=0, le=1, description="A bin counts when the noisy-OR of its weighted scores is at least this."
    )

    @model_validator(mode="after")
    def _k_le_n(self) -> KOfN:
        if self.k > self.n:
            raise ValueError(f"k ({self.k}) must not exceed n ({self.n})")
        return self


Action = Literal["review", "warn", "cut"]


class CategoryPolicy(_Strict):
    """Rules turning the signals of one category into verdicts (see moderation/policy/fuse.py).

    Fusion runs per subject (the streamer, each viewer, the room). The fused score at time t is
    the noisy-OR over the distinct *observations* among the subject's signals of the category in
    ``(t - window_s, t]``: correlated signals (a user repeating a term, one caption read on many
    frames, identical frames) are one observation at their best weighted score
    (:func:`moderation.policy.rules.observation_key`), and ambiguous keyword hits never open a
    verdict without another observation. A verdict opens when it reaches ``threshold`` (and ``k_of_n`` holds),
    stays open while the score keeps reaching ``close_threshold`` with gaps of at most
    ``merge_gap_s`` (hysteresis), and is kept when it lasted ``min_duration_s`` with at least
    ``min_signals`` signals and no suppressing signal was seen around it.
    """

    enabled: bool = Field(True, description="False: this category never produces verdicts.")
    signals: dict[str, SignalRule] = Field(
        default_factory=dict,
        description="Signal kinds that count (fnmatch patterns such as 'image.model.*') with weights; "
        "empty = every kind carrying this category counts at weight 1.",
    )
    threshold: float = Field(0.5, ge=0, le=1, description="Fused score needed to open a verdict.")
    close_threshold: float | None = Field(
        None, ge=0, le=1, description="Score that keeps an open verdict alive (hysteresis); None = threshold."
    )
    window_s: float = Field(10.0, gt=0, description="Sliding window over which signal scores are fused.")
    k_of_n: KOfN | None = Field(None, description="Temporal smoothing before opening; None = off.")
    merge_gap_s: float = Field(5.0, ge=0, description="Signals closer than this join one verdict.")
    min_duration_s: float = Field(0.0, ge=0, description="Verdicts shorter than this are dropped.")
    min_signals: int = Field(1, ge=1, description="Signals needed before a verdict is emitted.")
    high_score: float = Field(
        0.9, ge=0, le=1, description="Fused score at or above is 'high' severity (when severity is not given)."
    )
    severity: dict[str, float] | None = Field(
        None,
        description="Severity levels as name → lowest fused score, e.g. {low: 0, medium: 0.75, high: 0.9}; "
        "None = low / medium (halfway from threshold to high_score) / high (high_score).",
    )
    action: Action = Field("review", description="Suggested action for this category's verdicts.")
    actions: dict[str, Action] = Field(
        default_factory=dict, description="Per-severity action overriding `action`, e.g. {high: cut}."
    )
    suppressed_by: tuple[str, ...] = Field(
        (), description="Signal kinds (patterns) whose presence near a verdict cancels it, e.g. disclosure.label."
    )
    suppress_window_s: float = Field(
        60.0, ge=0, description="A suppressing signal counts within this many seconds of the verdict."
    )

    @model_validator(mode="after")
    def _consistent(self) -> CategoryPolicy:
        if self.close_threshold is not None and self.close_threshold > self.threshold:
            raise ValueError(f"close_threshold ({self.close_threshold}) must not exceed threshold ({self.threshold})")
        if self.severity is not None:
            if not self.severity:
                raise ValueError("severity needs at least one level")
            for name, score in self.severity.items():
                if not 0 <= score <= 1:
                    raise ValueError(f"severity level {name!r}: score {score} is not within 0..1")
        unknown = set(self.actions) - {name for name, _ in self.severity_levels()}
        if unknown:
            raise ValueError(f"actions for unknown severity levels {sorted(unknown)}")
        return self

    @property
    def open_threshold(self) -> float:
        return self.threshold

    @property
    def keep_threshold(self) -> float:
        return self.threshold if self.close_threshold is None else self.close_threshold

    def severity_levels(self) -> list[tuple[str, float]]:
        """Levels sorted by their lowest score, ascending."""
        if self.severity is not None:
            return sorted(self.severity.items(), key=lambda kv: kv[1])
        mid = (self.threshold + self.high_score) / 2
        return [("low", 0.0), ("medium", mid), ("high", self.high_score)]


_KEYWORDS = {"asr.keyword": SignalRule(), "ocr.keyword": SignalRule(), "chat.keyword": SignalRule()}
#: Room metadata (moderation/signals/room.py): title/introduction/nickname and text on the cover/avatar.
_KEYWORDS |= {"room.keyword": SignalRule(), "room.ocr.keyword": SignalRule()}
#: The intent classifier (``intent.enabled``; moderation/signals/intent.py) on the categories it was
#: trained for: a chat line at or over ``intent.min_score``, or a transcript segment of the streamer's
#: speech at or over ``intent.speech_min_score``, counts like a keyword hit.
_INTENT = {"chat.intent": SignalRule(), "asr.intent": SignalRule()}

#: Per-class NudeNet scores that count without open_nsfw agreeing. Buttocks fire on swimwear and
#: sports footage far more often than the other classes, so they need more.
_NUDENET_LABELS = {
    "FEMALE_GENITALIA_EXPOSED": 0.6,
    "MALE_GENITALIA_EXPOSED": 0.6,
    "ANUS_EXPOSED": 0.6,
    "FEMALE_BREAST_EXPOSED": 0.6,
    "BUTTOCKS_EXPOSED": 0.7,
}


#: open_nsfw under which a NudeNet box on the same frame does not count. Boxes NudeNet drew on colour
#: wheels and gradient blobs had open_nsfw 0.001-0.018 (one of 27 real images shipped in PyPI wheels:
#: scikit-image's colour wheel, BUTTOCKS_EXPOSED 0.83 at 0.004); a frame a person could read as nudity
#: scores far above it.
_CLEAN = 0.01


def _vision_rules() -> dict[str, SignalRule]:
    """NudeNet boxes count alone at their class score, or from the vision stage's gate
    (``vision.nudenet_min_score``) when open_nsfw on the same frame reaches 0.3 (a lone weak box on
    a harmless photo has open_nsfw near 0), and never when open_nsfw is under 0.01 (sure the frame
    is clean: a colour wheel, a smooth gradient); open_nsfw counts from its gate, at its own score.
    ``benchmarks/policy_calibration.py`` sweeps these on generated cases."""
    return {
        "image.nudenet": SignalRule(labels=dict(_NUDENET_LABELS), agree_score=0.3, clean_below=_CLEAN),
        "image.nsfw": SignalRule(),
        "image.model.*": SignalRule(),
        # cover / avatar
        "room.image.nudenet": SignalRule(labels=dict(_NUDENET_LABELS), agree_score=0.3, clean_below=_CLEAN),
        "room.image.nsfw": SignalRule(),
    }


def _default_categories() -> dict[str, CategoryPolicy]:
    return {
        "vulgar": CategoryPolicy(
            threshold=0.6,
            signals={**_vision_rules(), **_KEYWORDS, **_INTENT},
        ),
        "gambling": CategoryPolicy(
            signals={**_KEYWORDS, **_INTENT, "qr.url": SignalRule(), "image.model.*": SignalRule()},
        ),
        "synthetic_unlabeled": CategoryPolicy(
            signals={
                "synthetic.loop": SignalRule(),
                "synthetic.replay": SignalRule(),
                "synthetic.model.*": SignalRule(),
            },
            min_signals=2,
            merge_gap_s=10.0,
            window_s=20.0,
            suppressed_by=("disclosure.label",),
        ),
        "tipping_inducement": CategoryPolicy(signals={**_KEYWORDS, **_INTENT}),
        # A minor disclosing their age, on camera or tipping: always high severity (POLICY.md puts
        # minors' protection first); one plain disclosure or one consistent face estimate opens it.
        "minors": CategoryPolicy(
            signals={**_KEYWORDS, "gift.minor": SignalRule(), "image.age": SignalRule()},
            severity={"high": 0.0},
            window_s=30.0,
        ),
        # Gift records: totals over limits, bursts, tipping on inducement, minors' gifts
        # (moderation/signals/gifts.py); the tracker already applies the limits.
        "tipping_abnormal": CategoryPolicy(signals={"gift.*": SignalRule()}, window_s=60.0, merge_gap_s=60.0),
    }


class RiskTier(_Strict):
    """One streamer risk tier and what it buys: denser sampling and a stricter pipeline profile."""

    name: str = Field(description="Tier label shown to reviewers, e.g. 'elevated'.")
    sampling: float = Field(
        1.0, gt=0, le=10, description="Multiplier of the sampling rates (frames, OCR) for this streamer's streams."
    )
    preset: str = Field("default", description="Pipeline profile (pipelines/<preset>.yaml) for those streams.")


def _default_tiers() -> tuple[RiskTier, ...]:
    return (
        RiskTier(name="normal", sampling=1.0, preset="default"),
        RiskTier(name="watched", sampling=1.5, preset="default"),
        RiskTier(name="elevated", sampling=2.0, preset="strict"),
        RiskTier(name="high", sampling=3.0, preset="strict"),
    )


class RiskConfig(_Strict):
    """Graded streamer management (POLICY.md 分类分级管理): review decisions → tier → sampling.

    Tiers are numbered from 0 (every new streamer) to ``len(tiers) - 1``. A confirmed violation
    raises the tier (more for a severe one, times its category's weight); that weight halves
    every ``half_life_days``, so a tier comes back down when nothing new is confirmed. A dismissed
    flag lowers ``fp_weight`` (a record of how often the streamer's flags were wrong), a
    confirmation restores one step of it. An admin's tier override wins over all of this.
    ``moderation/policy/risk.py`` applies these rules.
    """

    confirm_step: int = Field(1, ge=0, description="Tiers a confirmed violation raises the streamer by.")
    severe_step: int = Field(2, ge=0, description="Tiers a confirmed violation of a severe severity raises by.")
    severe: tuple[str, ...] = Field(("high", "critical"), description="Severities that count as severe.")
    fp_decay: float = Field(
        0.9, gt=0, le=1, description="fp_weight is multiplied by this per dismissed flag (divided per confirmation)."
    )
    fp_floor: float = Field(0.5, ge=0, le=1, description="Lowest fp_weight a streamer's flags fall to.")
    half_life_days: float | None = Field(
        30.0,
        gt=0,
        description="A confirmed violation's weight halves every this many days, so a tier comes back down "
        "when no new violation is confirmed; None = violations count forever.",
    )
    category_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Multiplier of the tier step per category (not listed = 1.0), e.g. {tipping_abnormal: 0.5} "
        "so gift anomalies weigh less against the streamer than their own speech.",
    )
    tiers: tuple[RiskTier, ...] = Field(
        default_factory=_default_tiers, description="Tier 0 first; sampling must not fall as the tier rises."
    )

    @model_validator(mode="after")
    def _tiers_ok(self) -> RiskConfig:
        if not self.tiers:
            raise ValueError("at least one risk tier is needed")
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique, got {names}")
        bad = {k: v for k, v in self.category_weights.items() if not 0 <= v <= 10}
        if bad:
            raise ValueError(f"category_weights must be within 0..10, got {bad}")
        if [t.sampling for t in self.tiers] != sorted(t.sampling for t in self.tiers):
            raise ValueError("tiers must be ordered by sampling (a riskier tier is never sampled less)")
        return self


class PolicyConfig(_Strict):
    """Fusion rules per category. A category given in YAML is merged key by key onto its built-in
    default, so ``gambling: {threshold: 0.4}`` keeps the default signal table; give ``signals`` to
    replace that table as a whole."""

    categories: dict[str, CategoryPolicy] = Field(
        default_factory=_default_categories, description="Category id → rules (merged onto the defaults)."
    )
    default: CategoryPolicy = Field(
        default_factory=CategoryPolicy,
        description="Rules for categories not listed (extra lexicon categories).",
    )
    non_verdict_categories: tuple[str, ...] = Field(
        ("disclosure", "intent_benign"),
        description="Categories whose signals only suppress or speak against others and never become verdicts "
        "(disclosure labels; the intent classifier's counter-evidence, intent.veto_category).",
    )
    risk: RiskConfig = Field(default_factory=RiskConfig, description="Streamer risk tiers.")
    penalties: PenaltyConfig = Field(
        default_factory=PenaltyConfig, description="Penalties a confirmation may carry, per category and severity."
    )

    @field_validator("categories", mode="before")
    @classmethod
    def _merge_defaults(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        merged: dict[str, object] = {k: v.model_dump(exclude_unset=True) for k, v in _default_categories().items()}
        for name, given in value.items():
            base = merged.get(name)
            if isinstance(given, dict) and isinstance(base, dict):
                merged[name] = {**base, **given}
            else:
                merged[name] = given
        return merged

    def category(self, name: str) -> CategoryPolicy:
        return self.categories.get(name) or self.default
