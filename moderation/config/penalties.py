"""Penalties a reviewer may give when confirming a verdict (``policy.penalties``; POLICY.md: the
ability to warn, cut and ban), per category and severity, with the one pre-selected."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from moderation.config._base import _Strict

#: What a reviewer may do to the streamer when confirming an item (POLICY.md: warn, cut, ban).
#: ``ban`` cuts the running stream and bars the streamer for ``ban_days``; ``permanent_ban`` for good.
Penalty = Literal["none", "warn", "cut", "ban", "permanent_ban"]
PENALTIES: tuple[str, ...] = ("none", "warn", "cut", "ban", "permanent_ban")
#: Severity names from least to most severe (the order penalty tables are looked up in).
SEVERITY_ORDER: tuple[str, ...] = ("info", "low", "medium", "high", "critical")


class PenaltyChoice(_Strict):
    """The penalties a confirmation of one category at one severity may carry, and the one the
    item page pre-selects."""

    allowed: tuple[Penalty, ...] = Field(description="Penalties a reviewer may choose.")
    default: Penalty = Field(description="The penalty pre-selected (and used when none is given).")
    ban_days: float = Field(7.0, gt=0, le=3650, description="Default duration of a 'ban' penalty, in days.")
    max_ban_days: float = Field(365.0, gt=0, le=3650, description="Longest 'ban' a reviewer may give, in days.")

    @model_validator(mode="after")
    def _default_allowed(self) -> PenaltyChoice:
        if not self.allowed:
            raise ValueError("allowed needs at least one penalty")
        if self.default not in self.allowed:
            raise ValueError(f"default {self.default!r} is not among allowed {list(self.allowed)}")
        if self.ban_days > self.max_ban_days:
            raise ValueError(f"ban_days ({self.ban_days}) exceeds max_ban_days ({self.max_ban_days})")
        return self


def _choice(allowed: str, default: str, ban_days: float = 7.0) -> PenaltyChoice:
    return PenaltyChoice.model_validate({"allowed": allowed.split(), "default": default, "ban_days": ban_days})


def _default_penalties() -> dict[str, dict[str, PenaltyChoice]]:
    mild = {"low": _choice("none warn", "warn"), "medium": _choice("none warn cut", "warn")}
    return {
        "vulgar": {**mild, "high": _choice("warn cut ban", "cut", 3.0)},
        "gambling": {
            "low": _choice("none warn", "warn"),
            "medium": _choice("warn cut ban", "cut"),
            "high": _choice("cut ban permanent_ban", "ban", 7.0),
        },
        "synthetic_unlabeled": {"low": _choice("none warn", "warn"), "high": _choice("warn cut", "warn")},
        "tipping_inducement": {**mild, "high": _choice("warn cut ban", "cut", 3.0)},
        "tipping_abnormal": {"low": _choice("none warn", "none"), "high": _choice("none warn cut", "warn")},
        # Minors' protection comes first (POLICY.md): a confirmed minor on stream is always cut.
        "minors": {"low": _choice("cut ban permanent_ban", "cut", 30.0)},
    }


class PenaltyConfig(_Strict):
    """Penalties per category and severity (``policy.penalties``), checked when a reviewer confirms.

    ``categories`` maps a category to severity → :class:`PenaltyChoice`; an item's severity uses
    the entry of the highest listed severity not above it (``low`` covers ``medium`` unless
    ``medium`` is listed), or the lowest listed when all are above. Categories not listed use
    ``fallback``. Verdicts about a viewer use ``viewer`` whatever their category: the streamer is
    not answerable for what their audience does.
    """

    categories: dict[str, dict[str, PenaltyChoice]] = Field(
        default_factory=_default_penalties, description="Category → severity → allowed penalties and default."
    )
    fallback: PenaltyChoice = Field(
        default_factory=lambda: _choice("none warn cut", "warn"), description="Categories not listed."
    )
    viewer: PenaltyChoice = Field(
        default_factory=lambda: _choice("none warn", "none"), description="Verdicts about a viewer (chat)."
    )
    max_attempts: int = Field(
        5, ge=1, le=100, description="Tries of a warn/cut at the origin before the action is marked failed."
    )

    @field_validator("categories")
    @classmethod
    def _known_severities(cls, value: dict[str, dict[str, PenaltyChoice]]) -> dict[str, dict[str, PenaltyChoice]]:
        for cat, table in value.items():
            unknown = set(table) - set(SEVERITY_ORDER)
            if unknown or not table:
                raise ValueError(f"{cat}: severities must be among {list(SEVERITY_ORDER)}, got {sorted(table)}")
        return value

    def choice(self, category: str, severity: str, subject: str | None = "streamer") -> PenaltyChoice:
        """The penalties for a confirmation of ``category`` at ``severity`` about ``subject``."""
        if subject == "viewer":
            return self.viewer
        table = self.categories.get(category)
        if not table:
            return self.fallback
        rank = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else 0
        listed = sorted(table, key=SEVERITY_ORDER.index)
        below = [s for s in listed if SEVERITY_ORDER.index(s) <= rank]
        return table[below[-1] if below else listed[0]]
