"""One connection of a :class:`~moderation.ingest.live_source.LiveSource`: the packets of one open
container turned into events.

Per connection: the timeline origin and offset (the next connection continues the timeline), the
discontinuity check (a publisher restarting on the same connection), the read pacer
(:mod:`moderation.ingest.pacing`), video decoding and sampling, audio chunks and windows. What
outlives a connection (the sampler, the audio windower, the timeline, the counters) stays on the
source, which this object updates.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, cast

import av
import numpy as np

from moderation.ingest.audio_chunks import AudioChunks
from moderation.ingest.decode import _decode_packet, media_origin, upright_bgr
from moderation.ingest.pacing import BLOCKED_READ_S, ReadPacer
from moderation.ingest.packets import EncodedPacket
from moderation.ingest.source import AudioEvent, FrameEvent, LiveEvent, Opened, PacketEvent
from moderation.messages import AudioWindow, VideoFrame
from moderation.sample.audio import SAMPLE_RATE
from moderation.sample.pause import PauseDetector

if TYPE_CHECKING:
    from moderation.ingest.live_source import LiveSource

__all__ = ["Connection", "Drop", "now_utc"]

_BACKWARD_SLACK_S = 0.25


class Drop(Exception):
    """The current connection is over; ``eof`` when it ended cleanly."""

    def __init__(self, reason: str, *, eof: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.eof = eof


def now_utc() -> datetime:
    return datetime.now(UTC)


class Connection:
    """Per-connection state: timeline origin, discontinuity check, decoders, pacing."""

    def __init__(self, src: LiveSource, opened: Opened, video: av.VideoStream | None, audio: av.AudioStream | None):
        self.src = src
        self.opened = opened
        self.video = video
        self.audio = audio
        start = opened.container.start_time
        self.origin: float | None = media_origin(opened.container) if start is not None else None
        self.offset = src._t_last
        self.last: dict[str, tuple[float, float]] = {}  # kind -> (t_dts, monotonic arrival)
        live, batch_s = opened.live, src.config.read_batch_s
        self.pacer = ReadPacer(batch_s, live=live) if live or src.config.realtime else None
        self.read_s = 0.0  # how long the last demux read took (a long one waited for the network)
        self.chunks = AudioChunks()
        self._tb: dict[int, float] = {}

    def _times(self, packet: av.Packet) -> tuple[float, float] | None:
        pts = packet.pts if packet.pts is not None else packet.dts
        dts = packet.dts if packet.dts is not None else packet.pts
        if pts is None or dts is None:
            return None
        tb = self._tb.get(packet.stream_index)  # a float: Fraction arithmetic per packet is slow
        if tb is None:
            if packet.time_base is None:
                return None
            tb = self._tb[packet.stream_index] = float(packet.time_base)
        if self.origin is None:
            self.origin = dts * tb
        return pts * tb - self.origin + self.offset, dts * tb - self.origin + self.offset

    def over_duration(self, packet: av.Packet) -> bool:
        cap = self.src.config.max_duration_s
        return cap is not None and self.src._t_first is not None and self.src._t_last - self.src._t_first >= cap

    def packet(self, packet: av.Packet) -> Iterator[LiveEvent]:
        src, c = self.src, self.src.config
        stream = packet.stream
        if stream is not self.video and stream is not self.audio:
            return
        kind: Literal["video", "audio"] = "video" if stream is self.video else "audio"
        times = self._times(packet) if packet.size else None
        t: float | None = None
        if times is not None:
            t, t_dts = times
            self._check_jump(kind, t_dts)
            wall = self._paced(t_dts) if self.pacer is not None else now_utc()
            if src._t_first is None:
                src._t_first = t_dts
            src._t_last, src._wall_last = max(src._t_last, t_dts), wall
            if c.packets:
                yield PacketEvent(
                    EncodedPacket(
                        kind,
                        bytes(packet),
                        packet.pts,
                        packet.dts,
                        packet.duration or 0,
                        cast(Fraction, packet.time_base),
                        packet.is_keyframe,
                        t,
                        t_dts,
                        wall,
                        src._epoch,
                    )
                )
        if kind == "video":
            yield from self._frames(packet, t)
        elif c.audio:
            yield from self._audio(packet)

    def _check_jump(self, kind: str, t_dts: float) -> None:
        """A live clock that jumps means the publisher restarted: reopen for fresh codec state."""
        now = time.monotonic()
        prev = self.last.get(kind)
        self.last[kind] = (t_dts, now)
        if prev is None or not self.opened.live:
            return
        # Decode timestamps of one stream never go back (a small slack for muxer rounding);
        # forward, media may run ahead of the wall clock only by buffering (``discontinuity_s``).
        limit = self.src.config.discontinuity_s
        if t_dts < prev[0] - _BACKWARD_SLACK_S or t_dts > prev[0] + (now - prev[1]) + limit:
            self.src.stats.discontinuities += 1
            raise Drop(f"timestamp jump {prev[0]:.3f}s -> {t_dts:.3f}s on {kind} (publisher restarted)")

    def _paced(self, t_dts: float) -> datetime:
        """Wait as the pacer says; the wall-clock time the packet became available (see pacing.py)."""
        assert self.pacer is not None
        now = time.monotonic()
        paced = self.pacer.packet(t_dts, now, blocked=self.read_s >= BLOCKED_READ_S)
        if paced.sleep_s > 0:
            self.src.stats.read_bursts += 1
            self.src._wait(paced.sleep_s)
        waited = time.monotonic() - (now - paced.late_s)
        return now_utc() - timedelta(seconds=waited) if waited > 0 else now_utc()

    def _frames(self, packet: av.Packet, t: float | None) -> Iterator[LiveEvent]:
        src, c, stats = self.src, self.src.config, self.src.stats
        gop = src._gop
        if gop is not None and not gop.decode(t, packet.is_keyframe):
            return
        for frame in cast(list[av.VideoFrame], _decode_packet(src.url, packet, stats)):
            stats.frames_decoded += 1
            if frame.time is None or self.origin is None:
                continue
            t = frame.time - self.origin + self.offset
            if not src._sampler.take(t):
                continue
            if gop is not None:
                gop.sampled()
            if frame.width * frame.height > c.max_frame_pixels:
                stats.oversized_frames += 1
                continue
            image = upright_bgr(frame, c.max_side)
            stats.frames_sampled += 1
            yield FrameEvent(VideoFrame(src.stream_id, t, image, src._frame_index), src._wall_last)
            src._frame_index += 1

    def _audio(self, packet: av.Packet) -> Iterator[LiveEvent]:
        for frame in cast(list[av.AudioFrame], _decode_packet(self.src.url, packet, self.src.stats)):
            self.src.stats.frames_decoded += 1
            t = frame.time - self.origin + self.offset if frame.time is not None and self.origin is not None else None
            yield from self._windows(self.chunks.push(frame, t))

    def _windows(self, chunks: Iterator[tuple[float | None, np.ndarray]]) -> Iterator[LiveEvent]:
        src = self.src
        if src._audio_retime is not None:  # set from another thread: applied here, between windows
            with src._audio_lock:
                pending, src._audio_retime = src._audio_retime, None
            window_s, hop_s, pause_s = pending
            src._windower.retime(window_s, hop_s)
            src._windower.pause = PauseDetector(SAMPLE_RATE, pause_s) if pause_s > 0 else None
        for t, samples in chunks:
            for w in src._windower.push(samples, t):
                window = AudioWindow(src.stream_id, w.start, w.samples)
                yield AudioEvent(window, src._wall_last, src.wall_at(w.start))

    def flush(self) -> Iterator[LiveEvent]:
        """End of a file: drain the queued audio and the last partial audio window."""
        src = self.src
        yield from self._windows(self.chunks.flush())
        for w in src._windower.flush():
            yield AudioEvent(AudioWindow(src.stream_id, w.start, w.samples), src._wall_last, src.wall_at(w.start))
