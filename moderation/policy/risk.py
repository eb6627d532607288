"""Streamer risk tiers (POLICY.md 分类分级管理, 信用评价体系): review decisions → tier → sampling.

Confirmed violations raise a streamer's risk score; dismissed flags (false positives for that
streamer) lower it. The score picks a tier from ``PolicyConfig.risk.tiers``, and the tier says how
densely that streamer's streams are sampled and with which pipeline preset, so riskier streams get
more GPU time and the quiet majority gets less.

The logic here is store-agnostic. Persistence goes through :class:`RiskStore`, two methods the
review store (``moderation/review/``) implements over its own decisions table::

    class RiskStore(Protocol):
        def decision_counts(self, streamer: str) -> DecisionCounts: ...
        def record_decision(self, streamer: str, confirmed: bool) -> None: ...

``record_decision`` must be idempotent per review item on the review side (call it once per
final decision, not per retry). :class:`MemoryRiskStore` (tests, single process) and
:class:`SqliteRiskStore` (a SQLite file in WAL mode) are the defaults.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from moderation.config import RiskConfig, RiskTier


@dataclass(frozen=True)
class DecisionCounts:
    """Final review decisions on one streamer's verdicts."""

    confirmed: int = 0
    dismissed: int = 0

    @property
    def total(self) -> int:
        return self.confirmed + self.dismissed

    @property
    def false_positive_rate(self) -> float:
        """Share of this streamer's flags that reviewers dismissed (0 when none were reviewed)."""
        return self.dismissed / self.total if self.total else 0.0


@dataclass(frozen=True)
class TierAssignment:
    """What the worker pool needs to know to watch one streamer."""

    streamer: str
    tier: str
    score: float
    fps: float
    preset: str
    counts: DecisionCounts


class RiskStore(Protocol):
    """Persistence of decision counts; implemented by the review store."""

    def decision_counts(self, streamer: str) -> DecisionCounts: ...

    def record_decision(self, streamer: str, confirmed: bool) -> None: ...


class RiskPolicy:
    """Pure mapping: decision counts → risk score → tier → sampling fps and preset."""

    def __init__(self, cfg: RiskConfig) -> None:
        self.cfg = cfg

    def score(self, counts: DecisionCounts) -> float:
        raw = (
            self.cfg.new_streamer_score
            + counts.confirmed * self.cfg.confirmed_weight
            - counts.dismissed * self.cfg.dismissed_weight
        )
        return max(raw, 0.0)

    def tier(self, score: float) -> RiskTier:
        chosen = self.cfg.tiers[0]
        for tier in self.cfg.tiers:
            if score >= tier.min_score:
                chosen = tier
        return chosen

    def assign(self, streamer: str, counts: DecisionCounts) -> TierAssignment:
        score = self.score(counts)
        tier = self.tier(score)
        return TierAssignment(streamer, tier.name, score, tier.fps, tier.preset, counts)


class RiskTracker:
    """Glue for the review side: record a decision, get the streamer's (new) assignment."""

    def __init__(self, cfg: RiskConfig, store: RiskStore) -> None:
        self.policy = RiskPolicy(cfg)
        self.store = store

    def assignment(self, streamer: str) -> TierAssignment:
        return self.policy.assign(streamer, self.store.decision_counts(streamer))

    def record(self, streamer: str, confirmed: bool) -> TierAssignment:
        """Store one final decision and return the tier it leads to (it may have changed)."""
        self.store.record_decision(streamer, confirmed)
        return self.assignment(streamer)


class MemoryRiskStore:
    """In-process store: tests and single-process runs."""

    def __init__(self) -> None:
        self._counts: dict[str, DecisionCounts] = {}
        self._lock = threading.Lock()

    def decision_counts(self, streamer: str) -> DecisionCounts:
        return self._counts.get(streamer, DecisionCounts())

    def record_decision(self, streamer: str, confirmed: bool) -> None:
        with self._lock:
            c = self._counts.get(streamer, DecisionCounts())
            self._counts[streamer] = DecisionCounts(c.confirmed + int(confirmed), c.dismissed + int(not confirmed))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS streamer_risk (
    streamer   TEXT PRIMARY KEY,
    confirmed  INTEGER NOT NULL DEFAULT 0,
    dismissed  INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
)
"""


class SqliteRiskStore:
    """Decision counts in a SQLite file (WAL, one atomic upsert per decision).

    For when the review store is not at hand; a deployment with the review database lets that
    store implement :class:`RiskStore` over its own tables instead.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30.0)

    def decision_counts(self, streamer: str) -> DecisionCounts:
        db = self._connect()
        try:
            sql = "SELECT confirmed, dismissed FROM streamer_risk WHERE streamer = ?"
            row = db.execute(sql, (streamer,)).fetchone()
        finally:
            db.close()
        return DecisionCounts(int(row[0]), int(row[1])) if row else DecisionCounts()

    def record_decision(self, streamer: str, confirmed: bool) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        db = self._connect()
        try:
            with db:
                db.execute(
                    "INSERT INTO streamer_risk (streamer, confirmed, dismissed, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(streamer) DO UPDATE SET confirmed = confirmed + excluded.confirmed, "
                    "dismissed = dismissed + excluded.dismissed, updated_at = excluded.updated_at",
                    (streamer, int(confirmed), int(not confirmed), now),
                )
        finally:
            db.close()
