"""Per-stream ring of recent *encoded* packets, cut into evidence clips on a verdict.

Why encoded packets (DESIGN.md §2): a verdict arrives seconds after the content was shown, and
by then a live stream has moved on — the evidence must already be kept. Keeping encoded packets
costs no decode and about the stream's bitrate in memory (bounded here in seconds *and* bytes);
a clip is then a remux — the streamer's own bytes, no re-encode — starting on a keyframe.

Packets are stored as copied ``bytes`` plus their timestamps, never as ``av.Packet`` objects:
a PyAV packet references buffers owned by a demuxer that will be closed and reopened on every
reconnect. The codec parameters a muxer needs (H.264 SPS/PPS, AAC config) are kept in
:class:`CodecTemplates`, a copy made while the input was open (see its docstring).
"""

from __future__ import annotations

import itertools
import math
import os
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import av
import av.container
import av.stream

from moderation.evidence.clip import ClipGap, ClipInfo, write_thumbnail
from moderation.ingest.decode import MediaError
from moderation.ingest.localfile import ffmpeg_file_url
from moderation.ingest.packets import CodecTemplates, EncodedPacket
from moderation.messages import Box, VideoFrame

Kind = Literal["video", "audio"]

#: How far a verdict's end may lie past the media a connection delivered and still be that
#: connection's (an audio window ends on its last sample, a little past its last packet's start).
_SLACK_S = 0.25


class EvidenceRing:
    """The last ``max_seconds`` of media (and at most ``max_bytes``) of a stream's packets.

    ``max_seconds`` counts media held, not timeline time: an outage between two connections
    holds no packets, so it does not push the evidence from before it out of the ring (a
    violation that spans a publisher restart still has its first half).
    """

    def __init__(self, max_seconds: float = 30.0, max_bytes: int = 64 * 1024 * 1024) -> None:
        if max_seconds <= 0 or max_bytes <= 0:
            raise ValueError("evidence ring needs positive max_seconds and max_bytes")
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes
        self._packets: deque[EncodedPacket] = deque()
        self._templates: dict[int, CodecTemplates] = {}
        self._outages: deque[tuple[float, float]] = deque()  # timeline spans between connections
        #: per connection (epoch): timeline time of its first packet and, once it has ended, of
        #: the end of its media (see :meth:`end_connection`)
        self._first: dict[int, float] = {}
        self._ended: dict[int, float] = {}
        self.bytes = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._packets)

    def set_templates(self, epoch: int, templates: CodecTemplates) -> None:
        """Register the codec parameters of connection ``epoch`` (before its packets)."""
        self._templates[epoch] = templates

    def push(self, packet: EncodedPacket) -> None:
        """Add a packet and trim the oldest beyond the time or byte bound."""
        if self._packets and packet.epoch != self._packets[-1].epoch:
            last = self._packets[-1].t_dts
            if packet.t_dts > last:
                self._outages.append((last, packet.t_dts))
        self._first.setdefault(packet.epoch, packet.t_dts)
        self._packets.append(packet)
        self.bytes += len(packet.data)
        while self._packets and (self.bytes > self.max_bytes or self._held_s(packet.t_dts) > self.max_seconds):
            old = self._packets.popleft()
            self.bytes -= len(old.data)
            self.dropped += 1
        live = {p.epoch for p in (self._packets[0], self._packets[-1])} if self._packets else set()
        oldest = min(live, default=packet.epoch)
        for known in (self._templates, self._first, self._ended):
            for epoch in [e for e in known if e < oldest]:
                del known[epoch]

    def end_connection(self) -> None:
        """The connection whose packets are newest here has ended (dropped, reached its end, was
        cut by our enforcement, or is being stopped): no packet of it after those held will come.

        Its end is the end of the media it delivered so far. Packets of it that still arrive (sent
        before a cut took effect) are kept but move that end only when it is marked again (at the
        drop itself): until then a clip would wait for a post-roll the connection may never send.
        """
        if not self._packets:
            return
        epoch = self._packets[-1].epoch
        ours = itertools.takewhile(lambda p: p.epoch == epoch, reversed(self._packets))
        media_end = max(_end_of(p) for p in ours)
        self._ended[epoch] = max(self._ended.get(epoch, media_end), media_end)

    def cut_short(self, t: float) -> float | None:
        """Where the media of the connection that carried timeline time ``t`` ended, if that
        connection has ended since (a clip up to ``t`` plus a post-roll will get no more of it);
        None while it goes on, or when no ended connection carried ``t``."""
        for epoch, end in self._ended.items():
            first = self._first.get(epoch)
            if first is not None and first - _SLACK_S <= t <= end + _SLACK_S:
                return end
        return None

    def _held_s(self, newest: float) -> float:
        """Seconds of media between the oldest packet and ``newest``, outages left out."""
        if not self._packets:
            return 0.0
        oldest = self._packets[0].t_dts
        while self._outages and self._outages[0][0] < oldest:
            self._outages.popleft()  # the ring no longer reaches back to this outage
        return newest - oldest - sum(b - a for a, b in self._outages)

    @property
    def span(self) -> tuple[float, float] | None:
        """``(oldest, newest)`` timeline seconds held, or None when empty."""
        if not self._packets:
            return None
        return self._packets[0].t_dts, self._packets[-1].t_dts

    def covers(self, t: float) -> bool:
        """Whether packets up to timeline time ``t`` have arrived (a clip ending at ``t`` is complete)."""
        span = self.span
        return span is not None and span[1] >= t

    def clip(self, start: float, end: float, out_path: str | Path, pre_s: float = 0.0, post_s: float = 0.0) -> ClipInfo:
        """Remux ``[keyframe ≤ start - pre_s, end + post_s]`` from the ring into one MP4.

        Each connection the range touches contributes a part that starts on one of its video
        keyframes (the last at or before ``start - pre_s``, else its first one in range) and runs
        to ``end + post_s``. The parts follow each other in the file (an outage is a cut, however
        long it was) and ``ClipInfo.gaps`` names each cut: the timeline span left out and the
        file second it is at. Parts whose codec parameters differ cannot share one MP4 track: the
        set covering most of ``[start, end]`` is kept and the rest become gaps too.
        ``ClipInfo.start``/``end`` are timeline seconds the clip covers; the file starts at 0 and
        lasts ``ClipInfo.duration`` (``end - start`` less the gaps).
        Raises MediaError (with what the ring holds) when no part can be made.
        """
        if not (math.isfinite(start) and math.isfinite(end)) or end < start:
            raise ValueError(f"invalid clip range [{start}, {end}]")
        t_from, t_to = start - pre_s, end + post_s
        packets = list(self._packets)
        parts = [part for part in _parts(packets, t_from, t_to) if part[0].epoch in self._templates]
        if not parts:
            held = "nothing" if not packets else f"[{packets[0].t_dts:.3f}, {packets[-1].t_dts:.3f}]"
            raise MediaError(f"evidence ring holds no keyframe for [{t_from:.3f}, {t_to:.3f}] (it holds {held})")
        parts = self._compatible(parts, start, end)
        templates = self._templates[parts[0][0].epoch]
        kinds = {p.kind for part in parts for p in part}
        if (templates.video is None and "video" in kinds) or (templates.audio is None and kinds == {"audio"}):
            raise MediaError(f"evidence ring has no codec parameters for connection {parts[0][0].epoch}'s packets")
        chosen = [p for part in parts for p in part]
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            duration = _write_mp4(tmp, templates, parts)
            os.replace(tmp, out)
        finally:
            if tmp.exists():
                tmp.unlink()
        return ClipInfo(
            path=str(out),
            start=parts[0][0].t,
            end=_part_end(parts[-1]),
            duration=duration,
            video_codec=templates.video_codec if "video" in kinds else None,
            has_audio=templates.audio is not None and any(p.kind == "audio" for p in chosen),
            packets=len(chosen),
            gaps=_gaps(parts),
        )

    def _compatible(self, parts: list[list[EncodedPacket]], start: float, end: float) -> list[list[EncodedPacket]]:
        """The parts sharing one set of codec parameters that cover most of ``[start, end]``."""
        groups: dict[tuple[object, ...], list[list[EncodedPacket]]] = {}
        for part in parts:
            groups.setdefault(self._templates[part[0].epoch].signature, []).append(part)

        def covered(group: list[list[EncodedPacket]]) -> float:
            return sum(max(0.0, min(end, _part_end(p)) - max(start, p[0].t)) for p in group)

        return max(groups.values(), key=lambda g: (covered(g), -g[0][0].t))


def _parts(packets: Sequence[EncodedPacket], t_from: float, t_to: float) -> list[list[EncodedPacket]]:
    """Per connection that overlaps ``[t_from, t_to]``, the packets a clip copies from it.

    A connection's part starts on its last video keyframe at or before ``t_from``, or — when it
    has none that early (it began later, or the ring no longer reaches back) — on its first
    keyframe before ``t_to``. A connection with no usable keyframe gives no part. A connection
    that sends no video (a voice room, radio) gives its audio in the range: an audio-only clip,
    what the reviewer listens to.
    """
    runs: list[list[EncodedPacket]] = []
    for p in packets:
        if runs and runs[-1][0].epoch == p.epoch:
            runs[-1].append(p)
        else:
            runs.append([p])
    parts: list[list[EncodedPacket]] = []
    for run in runs:
        if run[0].t_dts > t_to or max(p.t for p in run) < t_from:
            continue
        first = _start_index(run, t_from, t_to)
        if first is not None:
            parts.append(_select(run[first:], run[first].epoch, t_to, run[first].t))
    return parts


def _start_index(packets: Sequence[EncodedPacket], t_from: float, t_to: float) -> int | None:
    """Index of the keyframe a part starts on, within one connection's packets (its first audio
    packet in range when it has no video: each audio packet decodes on its own)."""
    if not any(p.kind == "video" for p in packets):
        return next((i for i, p in enumerate(packets) if _end_of(p) > t_from and p.t <= t_to), None)
    best: int | None = None
    for i, p in enumerate(packets):
        if p.kind != "video" or not p.keyframe:
            continue
        if p.t <= t_from + 1e-6:
            best = i
        elif best is None and p.t <= t_to:
            return i  # the connection does not reach back to t_from: start as early as it can
        else:
            break
    return best


def _end_of(p: EncodedPacket) -> float:
    """Timeline time where a packet's media ends (shown at ``t``, for its duration)."""
    return p.t + float(p.duration * p.time_base)


def _part_end(part: Sequence[EncodedPacket]) -> float:
    """Timeline time where a part's media ends (its last packet shown, plus that packet's duration)."""
    return max(_end_of(p) for p in part)


def _gaps(parts: Sequence[Sequence[EncodedPacket]]) -> tuple[ClipGap, ...]:
    """The timeline spans between kept parts (outages, parts left out) and where the file cuts."""
    gaps: list[ClipGap] = []
    at = 0.0
    for before, after in itertools.pairwise(parts):
        at += _part_end(before) - before[0].t
        a, b = _part_end(before), after[0].t
        if b - a > 1e-3:
            gaps.append(ClipGap(start=a, end=b, clip_at=at))
    return tuple(gaps)


def _select(packets: Sequence[EncodedPacket], epoch: int, t_to: float, t0: float) -> list[EncodedPacket]:
    """Packets of one connection from the start keyframe to ``t_to`` (B-frame aware)."""
    chosen: list[EncodedPacket] = []
    video_done = False
    max_pts = -math.inf
    for p in packets:
        if p.epoch != epoch:
            break
        if p.kind == "video":
            if video_done:
                continue
            # Past the end in decode order: a later keyframe, or a frame shown after all kept ones.
            if p.t_dts > t_to and (p.keyframe or p.t >= max_pts):
                video_done = True
                continue
            max_pts = max(max_pts, p.t)
        elif p.t < t0 or p.t > t_to:
            continue
        chosen.append(p)
    return chosen


def _write_mp4(tmp: Path, templates: CodecTemplates, parts: Sequence[Sequence[EncodedPacket]]) -> float:
    """Mux the parts back to back into a faststart MP4; returns its duration in seconds.

    Within a part, timestamps keep their timeline spacing (rebased to where the part starts in
    the file); the next part starts where the previous one's media ends, so an outage is a cut,
    not minutes of frozen picture.
    """
    last_dts: dict[str, int] = {}
    at = 0.0  # where the current part starts in the file (seconds)
    with av.open(ffmpeg_file_url(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as dst:
        has_video = any(p.kind == "video" for part in parts for p in part)
        vout = dst.add_stream_from_template(templates.video) if templates.video is not None and has_video else None
        aout = dst.add_stream_from_template(templates.audio) if templates.audio is not None else None
        for part in parts:
            shift = at - part[0].t
            for p in part:
                out_stream = vout if p.kind == "video" else aout
                if out_stream is None:
                    continue
                tb = p.time_base
                pkt = av.Packet(p.data)
                # Rebase on the timeline (continuous across reconnects), in the packet's own time base.
                pkt.pts = round((p.t + shift) / tb)
                pkt.dts = round((p.t_dts + shift) / tb)
                prev = last_dts.get(p.kind)
                if prev is not None and pkt.dts <= prev:
                    # Live publishers repeat a timestamp now and then (ffmpeg -stream_loop at the wrap,
                    # a splice), and a part's first packets may overlap the previous part's last ones;
                    # the MP4 muxer refuses that (EINVAL), so nudge it forward one tick.
                    pkt.dts = prev + 1
                    pkt.pts = max(pkt.pts, pkt.dts)
                last_dts[p.kind] = pkt.dts
                pkt.duration = p.duration
                pkt.time_base = tb
                pkt.is_keyframe = p.keyframe
                pkt.stream = out_stream
                dst.mux(pkt)
            at += _part_end(part) - part[0].t
    return at


def write_frame_thumbnail(frame: VideoFrame, out_path: str | Path, boxes: Sequence[Box] | None = None) -> Path:
    """JPEG thumbnail of a sampled frame (the one a verdict's signals came from)."""
    return write_thumbnail(frame.image, out_path, boxes)
