"""How streams are opened and which URLs may be opened: the ingest layer's settings.

The fields a user sets for live streams (``live.open_timeout_s``, ``live.allow_networks``, …) are
declared once, in :class:`StreamOpenConfig` and :class:`AllowList`; :class:`LiveConfig
<moderation.config.pipeline.LiveConfig>` and the stage-level :class:`SourceConfig` /
:class:`UrlGuardConfig` inherit them, so a default cannot differ between what the pipeline file
says and what a source opened without one uses. :mod:`moderation.config.derive` maps a loaded
pipeline onto these (the only place that does).
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from moderation.config._base import _Strict
from moderation.config.media import SamplingConfig

#: Seconds of audio per ASR window, for a source opened without a pipeline and for ``live``.
AUDIO_WINDOW_S = 6.0
#: Quiet after speech that ends a live ASR window early, and the shortest window it may end.
AUDIO_PAUSE_S = 0.6
AUDIO_MIN_WINDOW_S = 3.0


class StreamOpenConfig(_Strict):
    """Timeouts and probing of one stream open (shared by ``live`` and :class:`SourceConfig`)."""

    open_timeout_s: float = Field(10.0, gt=0, description="Seconds an open (connect + probe) may take.")
    read_timeout_s: float = Field(10.0, gt=0, description="Seconds without data before a stream counts as dropped.")
    analyzeduration_s: float = Field(
        4.0,
        gt=0,
        description="Seconds of live input probed on open; must exceed the publisher's keyframe interval "
        "(RTMP subscribers get video from the next keyframe; probed too briefly, the stream opens audio-only).",
    )
    give_up_after_s: float = Field(60.0, gt=0, description="Seconds of continuous outage before a stream is given up.")
    read_batch_s: float = Field(
        0.25,
        ge=0,
        le=2,
        description="A caught-up live stream (or a file at real-time pace) is read in bursts of this much media "
        "instead of packet by packet, so its ingest thread wakes ~4 times a second rather than ~70: about "
        "30 % less ingest CPU per 720p stream (moderation/ingest/pacing.py). Adds at most this much latency, "
        "which event times include. 0 = wake per packet.",
    )
    eof_grace_s: float = Field(10.0, ge=0, description="Seconds a publisher that left cleanly may take to return.")
    decode_threads: int = Field(
        1,
        ge=0,
        le=64,
        description="Video decoder threads per live stream; 0 = libavcodec's choice (about one per core). A pool "
        "decodes many streams at real-time pace, where one thread each costs a third less CPU than automatic "
        "threading (benchmarks/results/node_scale.md: 0.027 against 0.041 cores per 720p stream).",
    )


class AllowList(_Strict):
    """Non-public destinations a stream may still come from (shared by ``live`` and the URL guard)."""

    allow_hosts: tuple[str, ...] = Field(
        (), description="Host names allowed even when they resolve to loopback/private/link-local addresses."
    )
    allow_networks: tuple[str, ...] = Field(
        (), description="Non-public CIDRs streams may come from (e.g. the origin's '10.0.0.0/8'; loopback in tests)."
    )

    @field_validator("allow_networks")
    @classmethod
    def _networks_ok(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        """A bad CIDR fails when the config is built, not as a refusal of every stream later."""
        return check_cidrs(v)


def check_cidrs(nets: tuple[str, ...]) -> tuple[str, ...]:
    """``nets`` unchanged when each is an IP network; else a ValueError naming the bad one."""
    for net in nets:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise ValueError(f"{net!r} is not an IP network (a CIDR such as '10.0.0.0/8')") from None
    return nets


class UrlGuardConfig(AllowList):
    """Which URLs a source may open (``moderation/ingest/urlguard.py``)."""

    allowed_schemes: tuple[str, ...] = Field(
        ("rtmp", "rtmps", "http", "https", "rtsp", "rtsps", "udp", "srt"),
        description="Schemes a stream URL (and any URL nested in it) may use. 'file' is added by allow_file.",
    )
    allow_file: bool = Field(False, description="Allow local files and file: URLs (offline scans, tests).")
    max_redirects: int = Field(5, ge=0, le=20, description="HTTP redirects followed; each target is re-checked.")
    http_timeout_s: float = Field(10.0, gt=0, description="Connect/read timeout of HTTP requests made by the guard.")


class SourceConfig(StreamOpenConfig, SamplingConfig):
    """How one stream is opened and followed (``moderation/ingest/source.py``).

    Open timeouts and probing come from :class:`StreamOpenConfig`, frame sampling from
    :class:`SamplingConfig`: the same defaults a pipeline file has. What only the source knows
    (reconnect back-off, realtime pacing of files, what to decode) is declared here. Reconnects back
    off from 0.5 s to 8 s with ±25 % jitter; a stream that cannot be reopened for
    ``give_up_after_s`` (or ``max_attempts`` tries) is given up.
    """

    reconnect: bool = Field(True, description="Reconnect live streams that drop (files never reconnect).")
    max_attempts: int = Field(20, ge=0, description="Reconnect attempts per outage before giving up (0 = no limit).")
    backoff_initial_s: float = Field(0.5, gt=0, description="First reconnect delay.")
    backoff_max_s: float = Field(8.0, gt=0, description="Reconnect delay cap.")
    backoff_factor: float = Field(2.0, ge=1, description="Delay multiplier per failed attempt.")
    backoff_jitter: float = Field(0.25, ge=0, le=1, description="Random ± fraction applied to each delay.")
    discontinuity_s: float = Field(
        3.0,
        gt=0,
        description="Timestamps running ahead of the wall clock by more than this (or going back) mean a restart.",
    )
    realtime: bool = Field(
        False, description="Read files at real-time pace (a pipeline sets it from live.realtime_files)."
    )
    keyframes_only: bool = Field(False, description="Decode keyframes only (when 1/fps ≥ the GOP).")
    audio: bool = Field(True, description="Decode audio into 16 kHz windows.")
    audio_window_s: float = Field(AUDIO_WINDOW_S, gt=0, description="Audio window length for ASR.")
    audio_hop_s: float | None = Field(None, description="Audio window hop (default: the window length).")
    audio_pause_s: float = Field(
        AUDIO_PAUSE_S, ge=0, description="End an audio window early after this much quiet following speech (0: never)."
    )
    audio_min_window_s: float = Field(AUDIO_MIN_WINDOW_S, gt=0, description="Shortest audio window a pause may end.")
    packets: bool = Field(True, description="Emit encoded packets (for the evidence ring).")
    max_duration_s: float | None = Field(None, gt=0, description="Stop after this much media time (None: no cap).")
    guard: UrlGuardConfig = Field(default_factory=UrlGuardConfig, description="Which URLs may be opened.")
