"""Demuxed packets copied out of PyAV, and the codec parameters that outlive their connection.

The live source produces them (:mod:`moderation.ingest.live_source`); the evidence ring
(:mod:`moderation.evidence.ring`) keeps them and remuxes clips from them. They live here, with
the code that makes them, so the evidence layer depends on ingest and never the other way round.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Literal

import av
import av.container
import av.stream

Kind = Literal["video", "audio"]


class CodecTemplates:
    """Codec parameters of one connection's video/audio streams, alive after it closed.

    ``add_stream_from_template`` needs a stream whose parameters are readable when the clip is
    cut, but an input container's streams are freed on close (every reconnect). So at open the
    parameters are copied into the streams of an in-memory output container that is never
    started; those streams are valid templates for as long as this object lives.
    """

    def __init__(self, video: av.stream.Stream | None, audio: av.stream.Stream | None) -> None:
        self._holder = av.open(io.BytesIO(), mode="w", format="matroska")
        self.video = self._holder.add_stream_from_template(video) if video is not None else None
        self.audio = self._holder.add_stream_from_template(audio) if audio is not None else None
        self.video_codec = video.codec_context.name if video is not None else None
        self.audio_codec = audio.codec_context.name if audio is not None else None
        self.signature = (_params(video), _params(audio))


def _params(stream: av.stream.Stream | None) -> tuple[object, ...] | None:
    """What must match for two connections' packets to share one MP4 track."""
    if stream is None:
        return None
    cc = stream.codec_context
    extradata = bytes(cc.extradata) if cc.extradata else b""
    if stream.type == "video":
        return ("video", cc.name, getattr(cc, "width", None), getattr(cc, "height", None), extradata)
    return (stream.type, cc.name, getattr(cc, "sample_rate", None), getattr(cc, "channels", None), extradata)


@dataclass(frozen=True)
class EncodedPacket:
    """One demuxed packet, copied out of PyAV.

    ``pts``/``dts``/``duration`` are in ``time_base`` as demuxed; ``t``/``t_dts`` are the same
    instants in seconds on the stream's timeline (continuous across reconnects); ``epoch``
    counts connections, so a clip never mixes packets with different codec parameters.
    """

    kind: Kind
    data: bytes
    pts: int | None
    dts: int | None
    duration: int
    time_base: Fraction
    keyframe: bool
    t: float
    t_dts: float
    wall: datetime
    epoch: int
