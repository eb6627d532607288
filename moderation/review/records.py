"""Validation of incoming verdict records (DESIGN.md §4.2) and the item view read back.

Records arrive from JSONL reports, the pipeline, or ``POST /api/verdicts``; all of them are
checked by one pydantic model so a bad record is refused with a message naming the field, before
anything is written. Unknown fields are kept (the record is stored as given) because policy files
may add categories and future pipelines may add fields the queue should not drop.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

#: Canonical categories of DESIGN.md §4.2; a policy may define more (``ReviewSettings.categories``).
CANONICAL_CATEGORIES: tuple[str, ...] = (
    "vulgar",
    "gambling",
    "synthetic_unlabeled",
    "tipping_inducement",
    "tipping_abnormal",
    "minors",
)
#: Category ids, as lexicon files define them (``moderation/text/lexicon.py``).
CATEGORY_PATTERN = r"^[a-z][a-z0-9_]*$"
#: Media times are bounded so ``window_ms`` always fits a 64-bit column (±1e9 s is ~31 years).
MAX_MEDIA_S = 1e9


class RecordError(ValueError):
    """A verdict record is malformed; the message names the field."""


def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError("must be a finite number")
    return v


def _bad_text(text: str) -> str | None:
    if "\0" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate (not valid Unicode text)"
    return None


def find_bad_text(value: Any, where: str = "record") -> str | None:
    """``"<where>: <why>"`` for the first string (key or value) no database can store, else ``None``.

    PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8 at all; no
    legitimate verdict needs either.
    """
    if isinstance(value, str):
        why = _bad_text(value)
        return f"{where}: {why}" if why else None
    if isinstance(value, dict):
        for k, v in value.items():
            sub = str(k) if where == "record" else f"{where}.{k}"
            why = _bad_text(k) if isinstance(k, str) else None
            if why:
                return f"{where} key: {why}"
            found = find_bad_text(v, sub)
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = find_bad_text(v, f"{where}.{i}")
            if found:
                return found
    return None


MediaTime = Annotated[float, Field(ge=-MAX_MEDIA_S, le=MAX_MEDIA_S), AfterValidator(_finite)]
Finite = Annotated[float, AfterValidator(_finite)]


class SignalRecord(BaseModel):
    """One piece of evidence in a verdict (DESIGN.md §4.3); unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(min_length=1, max_length=100)
    t: MediaTime
    score: Finite = 1.0
    end: MediaTime | None = None
    term: str | None = Field(default=None, max_length=500)
    text: str | None = Field(default=None, max_length=20_000)
    lang: str | None = Field(default=None, max_length=20)
    label: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=4000)
    user: str | None = Field(default=None, max_length=200)
    box: list[Finite] | None = Field(default=None, min_length=4, max_length=4)


class VerdictRecord(BaseModel):
    """The fields the queue relies on; everything else is carried through untouched."""

    model_config = ConfigDict(extra="allow")

    stream: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=64, pattern=CATEGORY_PATTERN)
    severity: str = Field(min_length=1, max_length=16)
    score: Finite
    start: MediaTime
    end: MediaTime
    wallclock_start: str | None = Field(default=None, max_length=40)
    signals: list[SignalRecord] = Field(default_factory=list, max_length=10_000)
    clip: str | None = Field(default=None, max_length=4000)
    thumbnails: list[Annotated[str, Field(max_length=4000)]] = Field(default_factory=list, max_length=100)
    model_versions: dict[str, Any] = Field(default_factory=dict)
    #: Not in the §4.2 contract yet: the account behind the stream (defaults to ``stream``).
    streamer: str | None = Field(default=None, min_length=1, max_length=200)
    #: Evidence notes the item page shows: where the clip starts on the stream's timeline, the
    #: stream-time spans it has no media for (publisher outage), and why there is no clip.
    clip_start: MediaTime | None = None
    clip_gaps: list[tuple[MediaTime, MediaTime]] | None = Field(default=None, max_length=1000)
    #: Where the clip really ends when its post-roll was cut short (the stream's connection ended).
    clip_end: MediaTime | None = None
    clip_error: str | None = Field(default=None, max_length=2000)
    #: Length of the stream's media timeline when the record was written (a scanned file's
    #: duration, or how far a live stream had got): the stream page scales its timeline to it.
    stream_duration: Annotated[float, Field(ge=0, le=MAX_MEDIA_S), AfterValidator(_finite)] | None = None
    #: Whose behaviour the verdict is about: the streamer (default), a viewer (chat), or the room.
    subject: Literal["streamer", "viewer", "room"] | None = None
    #: Who the subject is (a viewer's account, the room's stream); the pipeline writes it as
    #: ``subject.id`` and ``_subject_kind`` moves it here.
    subject_id: str | None = Field(default=None, max_length=200)
    #: A stable id of the violation across its provisional (live, still open) and final records:
    #: when given, the queue keys the item by ``(stream, violation_id)`` instead of its start, so the
    #: final record updates the provisional item in place (same id, no duplicate).
    violation_id: str | None = Field(default=None, min_length=1, max_length=200)
    #: The policy's suggested action for the verdict (``review``, ``warn``, ``cut``).
    action: str | None = Field(default=None, max_length=32)
    #: Enforcement the pool already took on its own (``{action, at, by, result}``, or a list of
    #: them; older pools write ``{action, t, ok, detail}``): kept as given, shown on the item.
    enforcement: dict[str, Any] | list[dict[str, Any] | str] | str | None = None

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        found = find_bad_text(data)
        if found:
            raise ValueError(found)
        return _subject_kind(data)

    @model_validator(mode="after")
    def _ordered(self) -> VerdictRecord:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    def subject_key(self) -> str:
        """The subject part of the item key (with stream, category and window).

        ``""`` for the stream's streamer, whether named or not: a stream has one streamer, and
        records written before subjects existed keep the key they always had. Otherwise
        ``"<kind>:<id>"``; a room without an id is the stream's room.
        """
        if self.subject in (None, "streamer"):
            return ""
        sid = self.subject_id if self.subject_id is not None else (self.stream if self.subject == "room" else "")
        return f"{self.subject}:{sid}"

    def stored(self) -> dict[str, Any]:
        """The record as stored and hashed: signals keep exactly the fields they were given."""
        raw = self.model_dump(mode="json", exclude_none=False)
        raw["signals"] = [s.model_dump(mode="json", exclude_unset=True) for s in self.signals]
        for name in _ONLY_WHEN_GIVEN:
            if getattr(self, name) is None:
                raw.pop(name, None)
        return raw


def _subject_kind(data: Any) -> Any:
    """The pipeline writes ``subject`` as ``{"kind": ..., "id": ...}`` (§4.2); the queue keys on the
    kind and keeps the id as ``subject_id``."""
    subject = data.get("subject") if isinstance(data, dict) else None
    if not isinstance(subject, dict):
        return data
    sid = subject.get("id", "")
    if set(subject) - {"kind", "id"} or not isinstance(sid, str) or len(sid) > 200:
        raise ValueError("subject must be {kind, id} with an id of at most 200 characters")
    out = {**data, "subject": subject.get("kind")}
    if "id" in subject:
        out["subject_id"] = subject["id"]
    return out


#: Optional fields beyond §4.2 that are stored only when a record carries them, so records
#: without them keep the shape (and hash) they always had.
_ONLY_WHEN_GIVEN = (
    "streamer",
    "clip_start",
    "clip_gaps",
    "clip_end",
    "clip_error",
    "subject",
    "subject_id",
    "violation_id",
    "action",
    "enforcement",
)


def parse_record(data: Any) -> VerdictRecord:
    """Validate one record; raise ``RecordError`` with a one-line reason."""
    try:
        return VerdictRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise RecordError(f"{where}: {msg}" if where else msg) from None


def record_hash(data: dict[str, Any]) -> str:
    """Stable hash of a record, used to make repeated identical writes no-ops."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def window_ms(start: float) -> int:
    """The idempotency window of a verdict: its start in whole milliseconds."""
    return round(start * 1000)


@dataclass(frozen=True)
class Item:
    """One review item as read from the store (mirrors ``schema.items``)."""

    id: int
    stream: str
    streamer: str
    category: str
    window_ms: int
    severity: str
    severity_rank: int
    score: float
    t_start: float
    t_end: float
    wallclock_start: str | None
    record: dict[str, Any]
    record_hash: str
    clip_path: str | None
    thumb_paths: list[str]
    media_purged_at: float | None
    status: str
    claimed_by: str | None
    lease_until: float | None
    decision_category: str | None
    decided_by: str | None
    decided_at: float | None
    note: str | None
    created_at: float
    updated_at: float
    revision: int
    subject: str = "streamer"
    trigger_term: str | None = None
    tier: int = 0
    violation_key: str | None = None
    sub_label: str | None = None
    #: ``VerdictRecord.subject_key`` of the record that created the item (part of its key).
    subject_key: str = ""
    #: The penalty of the confirmation (``policy.penalties``), the ban it created, its revert time.
    penalty: str | None = None
    ban_id: int | None = None
    penalty_reverted_at: float | None = None

    def claimed_by_other(self, user: str, now: float) -> bool:
        """Whether someone else holds a live lease on this item."""
        return bool(self.claimed_by and self.claimed_by != user and (self.lease_until or 0) > now)

    def public(self, now: float) -> dict[str, Any]:
        """JSON view for the API: no filesystem paths, lease shown only while it is live."""
        live = bool(self.claimed_by and (self.lease_until or 0) > now)
        return {
            "id": self.id,
            "stream": self.stream,
            "streamer": self.streamer,
            "category": self.category,
            "severity": self.severity,
            "score": self.score,
            "start": self.t_start,
            "end": self.t_end,
            "wallclock_start": self.wallclock_start,
            "status": self.status,
            "claimed_by": self.claimed_by if live else None,
            "lease_until": self.lease_until if live else None,
            "decision_category": self.decision_category,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "note": self.note,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "has_clip": self.clip_path is not None,
            "thumbnails": len(self.thumb_paths),
            "media_purged": self.media_purged_at is not None,
            "subject": self.subject,
            "trigger": self.trigger_term,
            "tier": self.tier,
            "sub_label": self.sub_label,
            "provisional": bool(self.record.get("provisional")),
            "action": self.record.get("action"),
            "penalty": self.penalty,
            "penalty_reverted_at": self.penalty_reverted_at,
            "signals": self.record.get("signals", []),
            "model_versions": self.record.get("model_versions", {}),
        }


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: who did what to which item, and when."""

    id: int
    at: float
    actor: str
    action: str
    item_id: int | None
    detail: dict[str, Any]
