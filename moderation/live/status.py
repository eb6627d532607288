"""What a stream is and how it is doing: the spec to start it and the status it reports.

Both are frozen and made of plain values, so they cross process boundaries (Ray actors, the
control API's JSON) unchanged.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from moderation.ingest.urlguard import redact

StreamState = Literal["starting", "live", "reconnecting", "ended", "error"]

_ID_RE = re.compile(r"[^0-9A-Za-z_.-]+")


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

    @classmethod
    def from_url(cls, url: str, stream_id: str | None = None) -> StreamSpec:
        parts = urlsplit(url)
        app = name = None
        if parts.scheme in ("rtmp", "rtmps"):
            segs = [s for s in parts.path.split("/") if s]
            if len(segs) >= 2:
                app, name = segs[0], "/".join(segs[1:])
        return cls(stream_id or stream_id_for(url), url, app, name)


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

    @classmethod
    def starting(cls, stream: str, url: str) -> StreamStatus:
        return cls(stream, redact(url), "starting")

    def to_dict(self) -> dict[str, Any]:
        """JSON for the control API."""
        return asdict(self)
