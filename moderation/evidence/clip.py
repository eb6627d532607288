"""Evidence clips and thumbnails for the review queue (DESIGN.md §2 "evidence clip").

A clip is cut by *remuxing* — copying the encoded packets — never by re-encoding: it costs
almost no CPU (decode is the bottleneck, DESIGN.md §7), and the reviewer sees exactly the bytes
the streamer sent, which matters when the clip is evidence. The price is that a clip can only
start on a keyframe, so it starts at the keyframe at or before ``start - pre_s``.

Output is MP4 with the index first (``+faststart``) so the review UI can play it while it
downloads; it is written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import cv2
import numpy as np

from moderation.ingest.decode import MediaError, media_origin, open_media, resolve_local_path
from moderation.ingest.localfile import ffmpeg_file_url
from moderation.messages import Box


@dataclass(frozen=True)
class ClipGap:
    """Media time ``[start, end]`` a clip has no media for (a live publisher's outage); the file
    cuts from before it to after it at ``clip_at`` seconds into the clip."""

    start: float
    end: float
    clip_at: float


@dataclass(frozen=True)
class ClipInfo:
    """Where a clip came from: ``start``/``end`` are source media times it covers (seconds).

    ``gaps`` are the spans between ``start`` and ``end`` the clip has no media for; the parts
    either side follow each other in the file, so ``duration`` is ``end - start`` less the gaps.
    """

    path: str
    start: float
    end: float
    duration: float
    video_codec: str | None
    has_audio: bool
    packets: int
    gaps: tuple[ClipGap, ...] = ()


def clip_error_text(exc: BaseException) -> str:
    """One line for a verdict record's ``clip_error``: why no clip was made, never a traceback."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


def _sec(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def cut_clip(
    src_path: str | Path,
    out_path: str | Path,
    start: float,
    end: float,
    pre_s: float = 0.0,
    post_s: float = 0.0,
) -> ClipInfo:
    """Copy ``[keyframe ≤ start - pre_s, end + post_s]`` of the source into a new MP4.

    Times are media times relative to the source's start (as produced by ``ingest.decode``).
    Video and the first audio stream are copied; timestamps are rebased so the clip starts at 0.
    A recording without video (a voice room, radio) gets an audio-only MP4 of the range: what
    the reviewer listens to. Raises MediaError for an unreadable source or a range that holds
    no video keyframe (no audio, for an audio-only source).
    """
    if not (math.isfinite(start) and math.isfinite(end)) or end < start:
        raise ValueError(f"invalid clip range [{start}, {end}]")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with _open_source(src_path) as src:
            info = _remux(src, src_path, tmp, max(0.0, start - pre_s), end + post_s)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return ClipInfo(
        path=str(out),
        start=info[0],
        end=info[1],
        duration=info[1] - info[0],
        video_codec=info[2],
        has_audio=info[3],
        packets=info[4],
    )


def _open_source(src_path: str | Path) -> av.container.InputContainer:
    """The source as a local file only. A path is resolved first and then opened as a ``Path``,
    which ``open_media`` hands to FFmpeg as ``file:`` + absolute path: a name that looks like an
    FFmpeg protocol (``concat:a.mp4|b.mp4``, ``http:host:80.mp4``) is read as that file."""
    return open_media(resolve_local_path(src_path))


def _remux(
    src: av.container.InputContainer, src_path: str | Path, tmp: Path, t_from: float, t_to: float
) -> tuple[float, float, str | None, bool, int]:
    vin = src.streams.video[0] if src.streams.video else None
    ain = src.streams.audio[0] if src.streams.audio else None
    lead = vin if vin is not None else ain  # an audio-only recording gets an audio-only clip
    if lead is None:
        raise MediaError(f"{src_path}: no video or audio stream to cut a clip from")
    origin = media_origin(src)
    # Seek lands on the keyframe at or before the target (backward=True is the default).
    assert lead.time_base is not None
    src.seek(int((t_from + origin) / lead.time_base), stream=lead, backward=True, any_frame=False)

    with av.open(ffmpeg_file_url(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as dst:
        vout = dst.add_stream_from_template(vin) if vin is not None else None
        aout = dst.add_stream_from_template(ain) if ain is not None else None
        clip_t0: float | None = None  # source seconds (absolute) of the first keyframe copied
        last_end = t_from
        video_done = vin is None
        max_pts = -math.inf
        audio_done = ain is None
        packets = 0
        offsets: dict[int, int] = {}
        streams = [s for s in (vin, ain) if s is not None]
        for packet in src.demux(streams):
            if packet.dts is None and packet.pts is None:
                continue  # flush packet at the end of demuxing
            tb = packet.time_base
            pts_s = _sec(packet.pts if packet.pts is not None else packet.dts, tb)
            dts_s = _sec(packet.dts if packet.dts is not None else packet.pts, tb)
            assert pts_s is not None and dts_s is not None
            if vin is not None and packet.stream is vin:
                if clip_t0 is None:
                    if not packet.is_keyframe:
                        continue  # seek landed mid-GOP (no index): wait for a keyframe
                    clip_t0 = pts_s
                if video_done:
                    continue
                if dts_s - origin > t_to and (packet.is_keyframe or pts_s >= max_pts):
                    # Past the end in decode order. Frames still shown before the last copied
                    # one (B-frames, decoded after the P-frame they precede) are kept above;
                    # anything later would only add frames past the end.
                    video_done = True
                    if audio_done:
                        break
                    continue
                max_pts = max(max_pts, pts_s)
                assert vout is not None
                out_stream: av.stream.Stream = vout
            else:
                if vin is None and clip_t0 is None and pts_s + (_sec(packet.duration, tb) or 0.0) - origin > t_from:
                    clip_t0 = pts_s  # audio only: every audio packet decodes on its own
                if clip_t0 is None or pts_s < clip_t0:
                    continue  # audio before the first copied keyframe
                if pts_s - origin > t_to:
                    audio_done = True
                    if video_done:
                        break
                    continue
                assert aout is not None
                out_stream = aout
            assert tb is not None
            sid = packet.stream.index
            if sid not in offsets:
                offsets[sid] = round(clip_t0 / tb)
            off = offsets[sid]
            if packet.pts is not None:
                packet.pts -= off
            if packet.dts is not None:
                packet.dts -= off
            packet.stream = out_stream
            dst.mux(packet)
            packets += 1
            if out_stream is vout or vout is None:
                dur = _sec(packet.duration, tb) or 0.0
                last_end = max(last_end, pts_s + dur - origin)
        if clip_t0 is None:
            raise MediaError(f"{src_path}: no keyframe found at or after {t_from:.3f}s to start a clip")
    codec = vin.codec_context.name if vin is not None else None
    return clip_t0 - origin, last_end, codec, aout is not None, packets


def write_thumbnail(
    image_bgr: np.ndarray,
    out_path: str | Path,
    boxes: Sequence[Box] | None = None,
    quality: int = 85,
) -> Path:
    """Write a JPEG of a frame, with evidence boxes ``(x, y, w, h)`` drawn in red if given.

    The input array is not modified. Written to a temporary name and renamed atomically.
    """
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8:
        raise ValueError(f"thumbnail needs a BGR uint8 image, got {image_bgr.shape} {image_bgr.dtype}")
    img = image_bgr
    if boxes:
        img = image_bgr.copy()
        thickness = max(2, min(img.shape[:2]) // 200)
        for x, y, w, h in boxes:
            p0 = (round(x), round(y))
            p1 = (round(x + w), round(y + h))
            cv2.rectangle(img, p0, p1, (0, 0, 255), thickness)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(buf.tobytes())
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
