"""Frozen dataclasses passed between pipeline stages.

Every stage boundary carries one of these types, never a ``dict``: a typo in a field name is a
type error found by mypy, not a silently missing key found in production. Arrays inside frozen
dataclasses are not deep-frozen; stages treat them as read-only by convention.

The JSON shape of a verdict (``Verdict.to_record``) is the public contract of DESIGN.md §4.2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

#: Canonical categories (DESIGN.md §4.2). Policy files may add more.
CATEGORIES: tuple[str, ...] = ("vulgar", "gambling", "synthetic_unlabeled", "tipping_inducement")

Box = tuple[float, float, float, float]
"""An axis-aligned box ``(x, y, w, h)`` in pixels of the original frame."""


@dataclass(frozen=True, eq=False)
class VideoFrame:
    """One decoded, sampled frame.

    ``image`` is BGR ``uint8`` of shape ``(H, W, 3)`` (the layout OpenCV and the ONNX
    preprocessors expect). ``t`` is seconds on the stream's media timeline.
    """

    stream: str
    t: float
    image: np.ndarray
    index: int = 0


@dataclass(frozen=True, eq=False)
class AudioWindow:
    """A window of 16 kHz mono float32 PCM with its media time span."""

    stream: str
    start: float
    samples: np.ndarray
    sample_rate: int = 16000

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class Detection:
    """One box from an object detector (e.g. NudeNet), in original-frame pixels."""

    label: str
    score: float
    box: Box


@dataclass(frozen=True)
class VisionResult:
    """What the vision models say about one frame."""

    stream: str
    t: float
    detections: tuple[Detection, ...] = ()
    #: Whole-image classifier scores by model name, e.g. ``{"open_nsfw": 0.03}``.
    scores: tuple[tuple[str, float], ...] = ()
    #: Face boxes with their estimated age in years (``age.enabled``; :mod:`moderation.infer.age`).
    faces: tuple[tuple[Box, float], ...] = ()


@dataclass(frozen=True)
class TextLine:
    """A line of text read by OCR, with where it was on screen."""

    text: str
    score: float
    box: Box


@dataclass(frozen=True)
class OcrResult:
    stream: str
    t: float
    lines: tuple[TextLine, ...]
    frame_size: tuple[int, int] = (0, 0)  # (width, height)


@dataclass(frozen=True)
class ChatMessage:
    """One chat / danmaku message; ``t`` is seconds on the stream's media timeline."""

    stream: str
    t: float
    user: str
    text: str


@dataclass(frozen=True)
class GiftEvent:
    """One gift / tip sent in a room; ``t`` is seconds on the stream's media timeline.

    ``value`` is in the feed's ``currency`` and ``amount`` in the base unit of the gift limits
    (``GiftsConfig.rates``), so per-user and per-room totals add like with like.
    """

    stream: str
    t: float
    user: str
    gift: str
    value: float
    currency: str
    amount: float


@dataclass(frozen=True)
class TranscriptSegment:
    """A span of recognised speech on the media timeline."""

    stream: str
    start: float
    end: float
    text: str
    lang: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


@dataclass(frozen=True)
class KeywordHit:
    """A lexicon term found in a piece of text.

    ``span`` indexes the *original* text (before normalisation), so a UI can highlight what was
    actually said or shown even when the match was found through Traditional→Simplified
    conversion, stripped separators or pinyin.
    """

    term: str
    category: str
    weight: float
    span: tuple[int, int]
    matched: str
    via: str = "text"  # "text" | "pinyin" | "pattern"
    #: How the surrounding words frame the term, so fusion can tell evidence from mentions:
    #: "plain" (counts at ``weight``), "ambiguous" (a term with benign readings and nothing else in
    #: the text to corroborate it; ``weight`` is reduced), "counter" (inside a regulatory, news,
    #: reporting or negated clause) and "nominal" (the term names a thing, e.g. 打赏记录): those two
    #: carry weight 0 and never count as a violation.
    context: str = "plain"


@dataclass(frozen=True)
class LineReading:
    """What the keyword rules read in one line, for another channel reading the same line.

    ``mentioned``: categories the line names only as a mention (a hit in a counter-speech, news,
    rules or nominal frame, or inside a known benign phrase). ``named``: categories with a hit that
    counts as evidence (weight above 0), ambiguous ones included, even where that hit alone would
    open no verdict.
    """

    mentioned: frozenset[str] = frozenset()
    named: frozenset[str] = frozenset()


SubjectKind = str
"""``"streamer"`` (their frames, speech, captions), ``"viewer"`` (their chat) or ``"room"``
(title, cover, avatar, introduction)."""


@dataclass(frozen=True)
class Subject:
    """Whose behaviour a verdict is about (DESIGN.md §4.2).

    A viewer's chat is never the streamer's violation: fusion keeps one state per subject, so a
    viewer spamming gambling ads is flagged as that viewer, and the review queue does not count
    viewer verdicts against the streamer's risk tier.
    """

    kind: SubjectKind
    id: str

    def to_record(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id}


@dataclass(frozen=True)
class Signal:
    """One piece of evidence that a category may be violated (DESIGN.md §4.3).

    ``kind`` is e.g. ``asr.keyword`` or ``image.nudenet``; optional fields are filled where the
    kind has them and omitted from the JSON record otherwise.
    """

    kind: str
    stream: str
    t: float
    score: float
    category: str
    term: str | None = None
    text: str | None = None
    lang: str | None = None
    box: Box | None = None
    label: str | None = None
    url: str | None = None
    end: float | None = None
    user: str | None = None  # chat.keyword: who wrote the message
    #: Framing of a keyword hit (``KeywordHit.context``): "ambiguous" evidence never opens a
    #: verdict alone. None = not a keyword signal, or plain.
    context: str | None = None
    #: Fingerprint of the frame's model outputs (vision signals): identical frames (a still image
    #: sampled twice) share it and count as one observation.
    frame: str | None = None
    #: The other vision model's score on the same frame (open_nsfw for a NudeNet box, the best
    #: counted NudeNet box for open_nsfw), so policy can require the two models to agree.
    support: float | None = None
    #: Whose behaviour this is; None = derived from the kind (chat with a user → that viewer,
    #: everything else → the streamer). See :func:`moderation.policy.rules.subject_of`.
    subject: Subject | None = None
    #: ``asr.keyword``: media time the matched words end (``t`` is where they start; ``end`` the
    #: segment's end, which the verdict spans). Estimated at a steady speaking rate within the
    #: segment. An alert's latency is measured from here: the violation was said by then.
    words_end: float | None = None

    def to_record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {"kind": self.kind, "t": round(self.t, 3), "score": round(self.score, 4)}
        for name in ("term", "text", "lang", "label", "url", "user"):
            value = getattr(self, name)
            if value is not None:
                rec[name] = value
        if self.box is not None:
            rec["box"] = [round(v, 1) for v in self.box]
        if self.end is not None:
            rec["end"] = round(self.end, 3)
        if self.context is not None and self.context != "plain":
            rec["context"] = self.context
        if self.support is not None:
            rec["support"] = round(self.support, 4)
        return rec


@dataclass(frozen=True)
class Enforcement:
    """An action taken at the origin for a verdict: what, when (Unix time; UTC ISO-8601 in the
    record, like ``wallclock_start``), by whom (``policy`` for the automatic enforcement of a live
    verdict) and how it went (``ok`` / ``failed``)."""

    action: str
    at: float
    by: str
    result: str
    detail: str | None = None

    def to_record(self) -> dict[str, Any]:
        at = datetime.fromtimestamp(self.at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        rec: dict[str, Any] = {"action": self.action, "at": at, "by": self.by, "result": self.result}
        rec["ok"] = self.result == "ok"  # the review UI's reading of it
        if self.detail:
            rec["detail"] = self.detail
        return rec


@dataclass(frozen=True)
class Verdict:
    """A fused decision: one category violated over ``[start, end]`` of one stream."""

    stream: str
    category: str
    severity: str
    score: float
    start: float
    end: float
    signals: tuple[Signal, ...]
    wallclock_start: str | None = None
    clip: str | None = None
    thumbnails: tuple[str, ...] = ()
    model_versions: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    action: str = "review"
    #: Media time the clip file starts at (its second 0).
    clip_start: float | None = None
    #: Media-time spans the clip has no media for (a live publisher's outage). The file cuts
    #: across each: its second ``s`` is media time ``clip_start + s`` plus the gaps before it.
    clip_gaps: tuple[tuple[float, float], ...] = ()
    #: Media time the clip really ends at, when that is before its post-roll would have (the
    #: stream's connection ended first: dropped, cut by enforcement, stopped); None: it is whole.
    clip_end: float | None = None
    #: Why there is no clip although one was asked for (one line).
    clip_error: str | None = None
    #: Whose behaviour it is; None = the streamer of ``stream`` (records written before subjects).
    subject: Subject | None = None
    #: A live violation's stable id (:class:`moderation.pipeline.alerts.ViolationIds`), shared by
    #: its provisional record and its final verdict so the review queue keeps one item for both.
    #: None for offline scans, whose verdicts are final when first written.
    violation_id: str | None = None
    #: A live violation still going on: written to the review queue at its alert so reviewers see
    #: it at once, and replaced (same ``violation_id``) by the final verdict when it closes.
    provisional: bool = False
    #: A live violation the preview saw but the full analysis (every signal, in media-time order)
    #: never confirmed: its item stops being live and says so, instead of staying live forever.
    unconfirmed: bool = False
    #: The enforcement taken for this violation so far (None: none taken, or none asked for).
    enforcement: Enforcement | None = None

    def __post_init__(self) -> None:
        if self.provisional and not self.violation_id:
            # without an id the final verdict could never replace the provisional item
            raise ValueError(f"{self.stream}: a provisional {self.category} verdict needs a violation_id")

    def to_record(self) -> dict[str, Any]:
        """The JSONL / review-queue record of DESIGN.md §4.2.

        ``clip_gaps`` and ``clip_end`` (each with ``clip_start``), ``clip_error``, ``violation_id``, ``provisional``,
        ``unconfirmed`` and ``enforcement`` (once taken) appear only when set (``action`` always), so
        a record without them reads as before. ``subject`` is always
        written: the streamer of ``stream`` unless the verdict names another.
        """
        subject = self.subject or Subject("streamer", self.stream)
        rec: dict[str, Any] = {
            "stream": self.stream,
            "category": self.category,
            "severity": self.severity,
            "score": round(self.score, 4),
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "wallclock_start": self.wallclock_start,
            "signals": [s.to_record() for s in self.signals],
            "clip": self.clip,
            "thumbnails": list(self.thumbnails),
            "model_versions": dict(self.model_versions),
            "subject": subject.to_record(),
        }
        if (self.clip_gaps or self.clip_end is not None) and self.clip_start is not None:
            rec["clip_start"] = round(self.clip_start, 3)
        if self.clip_gaps:
            rec["clip_gaps"] = [[round(a, 3), round(b, 3)] for a, b in self.clip_gaps]
        if self.clip_end is not None:
            rec["clip_end"] = round(self.clip_end, 3)
        if self.clip_error is not None:
            rec["clip_error"] = self.clip_error
        if self.violation_id is not None:
            rec["violation_id"] = self.violation_id
        if self.provisional:
            rec["provisional"] = True
        if self.unconfirmed:
            rec["unconfirmed"] = True
        rec["action"] = self.action  # the policy's suggested action: review, warn or cut
        if self.enforcement is not None:
            rec["enforcement"] = self.enforcement.to_record()
        return rec
