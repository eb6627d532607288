"""Opening a stream URL or file safely: guard, timeouts, probe limits, errors sorted by cause.

Why it is separate from the read loop (``ingest/live.py``): opening is where untrusted input
meets FFmpeg, so every open goes through one function that applies the URL guard
(``ingest/urlguard.py``, whose FFmpeg side is ``ingest/guarded_io.py``), open/read timeouts
(PyAV's interrupt callback, which works for every protocol, plus FFmpeg's ``rw_timeout`` where a
protocol honours it), short probing for live input (a live open otherwise waits ~2.5 s analysing
the stream) and the same "is this media at all" checks as file decoding. It also sorts failures
into *permanent* ones (refused URL, not media, frame over the cap: retrying cannot help) and
*transient* ones (network: reconnect).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import av
import av.container

from moderation.config.ingest import SourceConfig
from moderation.ingest.decode import _TEXT_CODECS, _TEXT_FORMATS, DecodeStats, MediaError
from moderation.ingest.guarded_io import FFmpegIO
from moderation.ingest.packets import CodecTemplates, EncodedPacket
from moderation.ingest.urlguard import PROTOCOL_WHITELIST, CheckedUrl, UrlGuard, UrlRefused, redact
from moderation.messages import AudioWindow, VideoFrame

log = logging.getLogger(__name__)

#: Schemes whose data arrives live (a drop is reconnected); everything else is a file.
LIVE_SCHEMES = frozenset({"rtmp", "rtmps", "rtsp", "rtsps", "udp", "srt", "http", "https"})


@dataclass(frozen=True)
class Opened:
    """An open container plus what the guard decided about its URL (``io``: its guarded opener)."""

    container: av.container.InputContainer
    checked: CheckedUrl
    guard: UrlGuard
    io: FFmpegIO | None = None

    @property
    def live(self) -> bool:
        return self.checked.scheme in LIVE_SCHEMES


class TransientError(Exception):
    """A failure worth retrying (network, timeout, server not publishing yet)."""


# -- events a LiveSource yields (ingest/live.py); typed, frozen, never dicts ---------------

EndReason = Literal["eof", "publisher_left", "gave_up", "max_duration", "closed"]


@dataclass(frozen=True)
class Connected:
    """A connection opened; ``templates`` carries codec parameters for the evidence ring."""

    stream: str
    epoch: int
    t: float
    wall: datetime
    attempts: int
    templates: CodecTemplates = field(repr=False, compare=False)


@dataclass(frozen=True, eq=False)
class FrameEvent:
    """A sampled frame; ``wall`` is when the packet that completed it arrived."""

    frame: VideoFrame
    wall: datetime


@dataclass(frozen=True, eq=False)
class AudioEvent:
    """A 16 kHz window; ``wall`` when its last sample arrived, ``wall_start`` when its first did."""

    window: AudioWindow
    wall: datetime
    wall_start: datetime


@dataclass(frozen=True, eq=False)
class PacketEvent:
    packet: EncodedPacket


@dataclass(frozen=True)
class Disconnected:
    """The connection dropped at timeline time ``t``; ``reason`` says why (one line)."""

    stream: str
    t: float
    wall: datetime
    reason: str


@dataclass(frozen=True)
class Gap:
    """An outage on the timeline: no media between ``start_media`` and ``end_media``."""

    stream: str
    start_media: float
    end_media: float
    wall_start: datetime
    wall_end: datetime
    attempts: int
    reason: str

    @property
    def wall_s(self) -> float:
        return (self.wall_end - self.wall_start).total_seconds()


@dataclass(frozen=True)
class Ended:
    stream: str
    reason: EndReason
    t: float
    wall: datetime
    error: str | None = None


LiveEvent = Connected | FrameEvent | AudioEvent | PacketEvent | Disconnected | Gap | Ended


@dataclass
class LiveStats(DecodeStats):
    """Counters for metrics (mutable on purpose, like DecodeStats)."""

    connects: int = 0
    reconnects: int = 0
    failed_attempts: int = 0
    discontinuities: int = 0
    unknown_stream_packets: int = 0
    oversized_frames: int = 0
    read_bursts: int = 0  # waits of the read pacer (moderation/ingest/pacing.py): ~4 a second when caught up
    gaps: list[Gap] = field(default_factory=list)


def open_source(url: str, config: SourceConfig) -> Opened:
    """Open ``url`` (or a local path, if the guard allows files) for packet-by-packet reading.

    Raises UrlRefused / MediaError for permanent problems and TransientError for ones a
    reconnect may fix.
    """
    guard = UrlGuard(config.guard)
    checked = guard.check(url)
    options: dict[str, str] = {}
    ffio: FFmpegIO | None = None
    fmt: str | None = None
    if checked.scheme in ("http", "https", "file"):
        # Every nested open (HLS playlists, segments, keys, redirects) is checked; the top-level
        # body is fetched first so a playlist is known as one whatever its URL looks like.
        ffio = FFmpegIO(guard)
        try:
            fmt = "hls" if ffio.prepare(checked.ffmpeg_url) else None
        except UrlRefused:
            raise
        except Exception as exc:
            raise _classify(url, checked, exc, "open") from exc
        # HLS keep-alive reuses FFmpeg's own HTTP context, which a custom io_open does not have.
        options.update(http_persistent="0", http_multiple="0")
    else:
        options["protocol_whitelist"] = PROTOCOL_WHITELIST[checked.scheme]
        options["rw_timeout"] = str(int(config.read_timeout_s * 1_000_000))
    if checked.scheme in LIVE_SCHEMES:
        options["analyzeduration"] = str(int(config.analyzeduration_s * 1_000_000))
    try:
        container = av.open(
            checked.ffmpeg_url,
            mode="r",
            format=fmt,
            options=options,
            timeout=(config.open_timeout_s, config.read_timeout_s),
            io_open=ffio,
        )
    except UrlRefused:
        raise
    except Exception as exc:
        if guard.refusals:
            raise guard.refusals[0] from exc
        failures = ffio.failures + ffio.read_errors if ffio is not None else []
        raise _classify(url, checked, exc, "open", failures[0] if failures else None) from exc
    finally:
        if ffio is not None:
            ffio.close()
    try:
        if guard.refusals:
            raise guard.refusals[0]
        _check_media(url, container, config.max_frame_pixels)
    except BaseException:
        container.close()
        raise
    return Opened(container, checked, guard, ffio)


def _classify(url: str, checked: CheckedUrl, exc: Exception, what: str, cause: str | None = None) -> Exception:
    """Map an open/read failure to MediaError (permanent) or TransientError (retry).

    ``cause``: what the guarded opener saw fail (FFmpeg then only reports "invalid data").
    """
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    where = redact(url)
    if checked.scheme == "file":
        return MediaError(f"{where}: not a readable media file ({cause or reason})")
    if cause is not None:
        return TransientError(f"{where}: {what} failed ({cause})")
    if isinstance(exc, av.error.InvalidDataError) and checked.scheme not in ("rtmp", "rtmps"):
        # Garbage from a server that answers: still worth a retry (a restarting origin can
        # send an empty playlist), but say what it was.
        return TransientError(f"{where}: {what} failed, invalid data ({reason})")
    return TransientError(f"{where}: {what} failed ({type(exc).__name__}: {reason})")


def _check_media(url: str, container: av.container.InputContainer, max_frame_pixels: int) -> None:
    where = redact(url)
    fmt = container.format.name
    streams = [s for s in container.streams if s.type in ("video", "audio")]
    if fmt in _TEXT_FORMATS or any(s.codec_context.name in _TEXT_CODECS for s in streams):
        raise MediaError(f"{where}: not a media stream (FFmpeg reads it only as text, format {fmt!r})")
    if not streams:
        raise MediaError(f"{where}: no audio or video stream (format {fmt!r})")
    if container.streams.video:
        ctx = container.streams.video[0].codec_context
        if ctx.width * ctx.height > max_frame_pixels:
            raise MediaError(
                f"{where}: frame {ctx.width}x{ctx.height} exceeds the {max_frame_pixels}-pixel cap (refused)"
            )


__all__ = [
    "LIVE_SCHEMES",
    "AudioEvent",
    "Connected",
    "Disconnected",
    "Ended",
    "FrameEvent",
    "Gap",
    "LiveEvent",
    "LiveStats",
    "Opened",
    "PacketEvent",
    "SourceConfig",
    "TransientError",
    "UrlRefused",
    "open_source",
]
