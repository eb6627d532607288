"""What a stream is and how it is doing: the spec to start it and the status it reports.

Both are frozen and made of plain values, so they cross process boundaries (Ray actors, the
control API's JSON) unchanged.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from moderation.ingest.urlguard import redact
from moderation.messages import Verdict
from moderation.pipeline.alerts import Alert

StreamState = Literal["starting", "live", "reconnecting", "ended", "error"]

_ID_RE = re.compile(r"[^0-9A-Za-z_.-]+")


@dataclass(frozen=True)
class Steering:
    """How a stream is sampled and judged for its streamer's standing (POLICY.md 分类分级管理).

    ``profile`` names a pipeline preset (``pipelines/<profile>.yaml``; None = the pool's own);
    ``sampling`` multiplies its vision and OCR rates. ``pinned``: the profile was asked for
    explicitly at publish, so a later tier change keeps it (the sampling multiplier still moves).
    ``tier`` and ``changed_at`` are None without a governance source.
    """

    profile: str | None = None
    sampling: float = 1.0
    tier: int | None = None
    changed_at: float | None = None
    pinned: bool = False


def stream_id_for(url: str) -> str:
    """A readable id from a URL: the RTMP stream key / last path part, else the host."""
    parts = urlsplit(url)
    tail = parts.path.rstrip("/").rsplit("/", 1)[-1] if parts.path else ""
    tail = tail.rsplit(".", 1)[0] if "." in tail and parts.scheme in ("", "file", "http", "https") else tail
    return _ID_RE.sub("_", tail or parts.hostname or "stream").strip("_")[:64] or "stream"


@dataclass(frozen=True)
class StreamSpec:
    """One stream to follow.

    ``app``/``name`` are where it is published at an nginx-rtmp origin (needed for ``cut``); for
    ``rtmp://host/APP/NAME`` URLs they are taken from the path by :meth:`from_url`.
    """

    stream_id: str
    url: str
    app: str | None = None
    name: str | None = None
    timeline_origin: float | None = None
    """Unix time at which this stream's media timeline is 0 (set once, when the pool first starts
    the stream). A worker restarted later resumes the timeline at ``now - timeline_origin`` instead
    of at 0, so its verdicts cannot collide with (and overwrite) earlier review items of the same
    stream. Ignored for files, which replay from their start and so reproduce the same verdicts."""
    chat: str | None = None
    """This stream's chat feed (overrides ``live.chat_source``); None = the template or no chat."""
    gifts: str | None = None
    """This stream's gift feed (overrides ``live.gift_source``); None = the template or no gifts."""
    meta: str | None = None
    """This stream's room metadata as JSON object text (title, introduction, nickname, cover,
    avatar); checked at start, and again when changed through the pipeline's ``set_meta``."""
    meta_file: str | None = None
    """A room metadata JSON file, re-read every ``live.meta_poll_s`` and re-checked when it changes."""
    records: str | None = None
    """Records folder of this stream (overrides ``records.dir`` and turns records on)."""
    steering: Steering | None = None
    """Profile, sampling multiplier and tier it starts with; None = the pool's pipeline as is."""

    def with_origin(self) -> StreamSpec:
        """This spec with ``timeline_origin`` fixed to now if it was not set yet."""
        if self.timeline_origin is not None:
            return self
        return replace(self, timeline_origin=time.time())

    def resume_at(self, now: float) -> float:
        """Timeline time a (re)started worker begins at: 0 for files and fresh streams."""
        if self.timeline_origin is None or is_file_url(self.url):
            return 0.0
        return max(0.0, now - self.timeline_origin)

    @classmethod
    def from_url(cls, url: str, stream_id: str | None = None) -> StreamSpec:
        parts = urlsplit(url)
        app = name = None
        if parts.scheme in ("rtmp", "rtmps"):
            segs = [s for s in parts.path.split("/") if s]
            if len(segs) >= 2:
                app, name = segs[0], "/".join(segs[1:])
        return cls(stream_id or stream_id_for(url), url, app, name)


def is_file_url(url: str) -> bool:
    """A local recording (path or ``file:`` URL) rather than a live network stream."""
    scheme = urlsplit(url).scheme.lower()
    return scheme in ("", "file") or len(scheme) == 1  # "c:" on Windows paths


@dataclass(frozen=True)
class VerdictBrief:
    category: str
    severity: str
    score: float
    start: float
    end: float
    wallclock_start: str | None
    clip: str | None
    action: str

    @classmethod
    def of(cls, v: Verdict | None) -> VerdictBrief | None:
        """The brief of a verdict (None for none)."""
        if v is None:
            return None
        return cls(v.category, v.severity, v.score, v.start, v.end, v.wallclock_start, v.clip, v.action)


@dataclass(frozen=True)
class StreamStatus:
    """Health of one stream; ``lag_s`` is media seconds inference trails ingest."""

    stream: str
    url: str
    state: StreamState
    media_t: float = 0.0
    frames_in: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    audio_windows: int = 0
    audio_dropped: int = 0
    corrupt_packets: int = 0
    reconnects: int = 0
    gaps: int = 0
    gap_s: float = 0.0
    verdicts: int = 0
    lag_s: float = 0.0
    last_verdict: VerdictBrief | None = None
    end_reason: str | None = None
    error: str | None = None
    chat_messages: int = 0
    chat_error: str | None = None
    gift_events: int = 0
    gift_error: str | None = None
    alerts: int = 0  # violations known so far (each once)
    last_alert: Alert | None = None  # the latest: a violation may still be going on
    task_errors: int = 0  # items (a frame batch, a chat line, a signal) that raised and were skipped
    task_restarts: int = 0  # per-stream tasks that died and were restarted
    task_failure: str | None = None  # the latest task death: the stream ran without that stage meanwhile
    app: str | None = None  # where it is published at the origin (what a cut drops)
    name: str | None = None
    tier: int | None = None  # the streamer's risk tier (None: no governance source)
    profile: str | None = None  # the pipeline preset it is sampled and judged by
    vision_fps: float | None = None  # effective rates now (the profile's, times the tier's multiplier)
    ocr_fps: float | None = None
    steered_at: float | None = None  # Unix time the standing last changed (None: never steered)
    deferred: tuple[str, ...] = ()  # parts of the profile that could not change live: next publish

    @classmethod
    def starting(cls, stream: str, url: str) -> StreamStatus:
        return cls(stream, redact(url), "starting")

    def to_dict(self) -> dict[str, Any]:
        """JSON for the control API."""
        return asdict(self)
