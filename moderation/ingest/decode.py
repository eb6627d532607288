"""Decode media into sampled BGR frames and 16 kHz audio windows (DESIGN.md §2, §7, §8).

Why it is shaped this way:

* Decode is the CPU bottleneck, so work is done at the *sampling* need: frames are decoded with
  codec threads, the fps sampler is asked before any pixel conversion, and a sampled frame is
  converted straight to a downscaled BGR array by swscale (one pass, no full-size BGR copy).
  ``keyframes_only`` additionally tells the decoder to skip non-key frames when the caller knows
  its rate is at or below the keyframe rate.
* A corrupt packet must never end a stream: decoding goes packet by packet and a packet that
  fails is skipped and counted in :class:`DecodeStats`.
* Input is untrusted: anything that cannot be used raises :class:`MediaError` with a one-line
  reason, and frames above a pixel cap are refused (decompression-bomb guard).

All times are seconds on the media timeline, relative to the container's start time, so frame
times and audio window times of one file share one clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import unquote, urlsplit

import av
import av.container
import av.video.codeccontext
import numpy as np

from moderation.config import SamplingConfig
from moderation.ingest.audio_chunks import AudioChunks
from moderation.ingest.localfile import ffmpeg_file_url
from moderation.messages import AudioWindow, VideoFrame
from moderation.sample.audio import SAMPLE_RATE, AudioWindower
from moderation.sample.frames import FpsSampler, GopSkip, scaled_size

log = logging.getLogger(__name__)

# FFmpeg opens almost anything: a ``.txt`` file is "tty" video (ANSI art). Those are not media a
# streamer could send us, and treating them as media would hide a wrong path behind nonsense.
_TEXT_FORMATS = frozenset({"tty", "bin", "xbin", "adf", "idf"})
_TEXT_CODECS = frozenset({"ansi", "bintext", "xbin", "idf"})

DEFAULT_MAX_FRAME_PIXELS = SamplingConfig().max_frame_pixels


class MediaError(ValueError):
    """Media that cannot be used; the message is one line naming the input and the reason."""


@dataclass(frozen=True)
class MediaInfo:
    """What a file holds, for planning a scan before decoding it."""

    duration: float | None
    has_video: bool
    has_audio: bool
    width: int | None
    height: int | None
    fps: float | None


@dataclass
class DecodeStats:
    """Counters a caller passes in to see what decoding skipped (mutable on purpose)."""

    packets: int = 0
    corrupt_packets: int = 0
    frames_decoded: int = 0
    frames_sampled: int = 0
    demux_errors: int = 0
    end_t: float | None = None  # media time where the last decoded frame ends (None: nothing decoded)

    def reached(self, t: float) -> None:
        """Note that decoded media reaches media time ``t`` (the span check of a recording)."""
        if self.end_t is None or t > self.end_t:
            self.end_t = t


_LOCAL_HOSTS = frozenset({"", "localhost"})


def is_file_url(text: str) -> bool:
    """``file:`` in any of its spellings (``file:/x``, ``file:///x``, ``file://localhost/x``)."""
    return text[:5].lower() == "file:"


def file_url_path(url: str) -> str:
    """The local path a ``file:`` URL names, percent-decoded, or MediaError.

    ``file:/x``, ``file:///x`` and ``file://localhost/x`` name the same file (as the live URL guard
    reads them); ``file://host/x`` names a file on another machine, which a scan cannot read, so it
    is refused rather than silently read from this one.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        raise MediaError(f"{url}: not a file: URL")
    host = (parts.netloc.rsplit("@", 1)[-1]).lower()
    if host not in _LOCAL_HOSTS:
        raise MediaError(
            f"{url}: file URL names host {parts.netloc!r}; only local files "
            "(file:///path or file://localhost/path) can be scanned"
        )
    if parts.query or parts.fragment:
        raise MediaError(f"{url}: a file URL with a query or fragment is not a local file path")
    path = unquote(parts.path)
    if not path:
        raise MediaError(f"{url}: file URL names no path")
    return path


def resolve_local_path(path: str | Path) -> Path:
    """Turn a path or ``file:`` URL into an existing local file, or raise MediaError.

    A :class:`~pathlib.Path` is always a path, whatever its name looks like; only a string is read
    as a URL. Network sources (rtmp, hls, ...) go through the guarded opener in
    ``ingest/source.py``; refusing them here keeps this module from ever touching the network.
    """
    if isinstance(path, Path):
        p = path
    else:
        text = str(path)
        if is_file_url(text):
            text = file_url_path(text)
        elif "://" in text:
            raise MediaError(f"{text}: unsupported URL scheme {urlsplit(text).scheme!r} (only local files here)")
        p = Path(text)
    if not p.exists():
        raise MediaError(f"{p}: no such file")
    if not p.is_file():
        raise MediaError(f"{p}: not a regular file")
    return p


def open_media(path: str | Path) -> av.container.InputContainer:
    """Open a local media file that has at least one audio or video stream.

    FFmpeg is given ``file:`` + the absolute path, so a file *named* like a protocol
    (``concat:a.mp4|b.mp4``, ``http:host:80.mp4``) is read as itself, never as that protocol.
    """
    p = resolve_local_path(path)
    try:
        container = av.open(ffmpeg_file_url(p), mode="r")
    except av.FFmpegError as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise MediaError(f"{p}: not a readable media file ({reason})") from exc
    try:
        fmt = container.format.name
        streams = [s for s in container.streams if s.type in ("video", "audio")]
        if fmt in _TEXT_FORMATS or any(s.codec_context.name in _TEXT_CODECS for s in streams):
            raise MediaError(f"{p}: not a media file (FFmpeg reads it only as text/ANSI art, format {fmt!r})")
        if not streams:
            raise MediaError(f"{p}: no audio or video stream (format {fmt!r})")
    except BaseException:
        container.close()
        raise
    return container


TRUNCATION_SLACK_S = 1.0  # decoded span may end this much (or 2 %) short of the declared duration


def missing_span(duration: float | None, passes: list[DecodeStats]) -> float:
    """Seconds of the container's declared ``duration`` that none of the decode ``passes`` reached.

    A truncated recording (a faststart MP4 cut short keeps its full-length index) decodes without
    an error up to where its bytes end, so "no error" does not mean "all of it was scanned"; this
    compares where decoding got to with what the container says. 0.0 when the span is complete
    (within ``TRUNCATION_SLACK_S`` or 2 %), when the duration is unknown, or when no pass ran.
    """
    if duration is None or duration <= 0 or not passes:
        return 0.0
    end = max((s.end_t for s in passes if s.end_t is not None), default=0.0)
    short = duration - end
    return short if short > max(TRUNCATION_SLACK_S, 0.02 * duration) else 0.0


def media_origin(container: av.container.InputContainer) -> float:
    """Start of the media timeline in seconds (0.0 when the container does not say)."""
    start = container.start_time
    return start / av.time_base if start is not None else 0.0


def probe(path: str | Path) -> MediaInfo:
    """Describe a media file without decoding it."""
    with closing(open_media(path)) as c:
        video = c.streams.video[0] if c.streams.video else None
        audio = c.streams.audio[0] if c.streams.audio else None
        duration: float | None = c.duration / av.time_base if c.duration is not None else None
        if duration is None:
            for s in (video, audio):
                if s is not None and s.duration is not None and s.time_base is not None:
                    duration = float(s.duration * s.time_base)
                    break
        fps: float | None = None
        if video is not None:
            rate = video.average_rate or video.guessed_rate or video.base_rate
            fps = float(rate) if rate else None
        return MediaInfo(
            duration=duration,
            has_video=video is not None,
            has_audio=audio is not None,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            fps=fps,
        )


def _check_pixels(path: str | Path, width: int, height: int, max_frame_pixels: int) -> None:
    if width * height > max_frame_pixels:
        raise MediaError(f"{path}: frame {width}x{height} exceeds the {max_frame_pixels}-pixel cap (refused)")


def _decode_packet(
    path: str | Path, packet: av.Packet, stats: DecodeStats
) -> list[av.VideoFrame] | list[av.AudioFrame]:
    """Decode one packet; a corrupt one is logged, counted and skipped (never fatal)."""
    stats.packets += 1
    try:
        return packet.decode()
    except av.FFmpegError as exc:
        stats.corrupt_packets += 1
        # A damaged stretch can fail hundreds of packets in a row: log the first few, count all.
        level = logging.WARNING if stats.corrupt_packets <= 5 else logging.DEBUG
        log.log(
            level, "%s: skipped corrupt packet at pts=%s (%d so far): %s", path, packet.pts, stats.corrupt_packets, exc
        )
        return []


def _demux(
    path: str | Path, container: av.container.InputContainer, stream: av.stream.Stream, stats: DecodeStats
) -> Iterator[av.Packet]:
    """Packets of one stream; a demuxer error (truncated file) ends the stream, counted."""
    it = container.demux(stream)
    while True:
        try:
            packet = next(it)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            stats.demux_errors += 1
            log.warning("%s: demux stopped early: %s", path, exc)
            return
        yield packet


def skip_decoding(
    ctx: av.video.codeccontext.VideoCodecContext, *, keyframes_only: bool, skip_nonref: bool, skip_loop_filter: bool
) -> None:
    """Tell a video decoder, before it opens, which work it may skip; files and live streams share it.

    ``keyframes_only`` drops non-key frames undecoded, ``skip_nonref`` non-reference (B-) frames.
    ``skip_loop_filter`` skips the in-loop deblocking filter (libavcodec's ``skip_loop_filter=all``,
    honoured by H.264 and HEVC, ignored by codecs without one): references then carry unfiltered
    block edges through the GOP, a small drift that moderation at model input sizes does not see,
    for about 30 % less decoding.
    """
    if keyframes_only:
        ctx.skip_frame = "NONKEY"
    elif skip_nonref:
        ctx.skip_frame = "NONREF"
    if skip_loop_filter:
        ctx.options = {**ctx.options, "skip_loop_filter": "all"}


def iter_frames(
    path: str | Path,
    stream_id: str,
    fps: float,
    max_side: int = 1280,
    max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS,
    *,
    keyframes_only: bool = False,
    skip_nonref: bool = False,
    skip_to_keyframe: bool = False,
    skip_loop_filter: bool = False,
    stats: DecodeStats | None = None,
) -> Iterator[VideoFrame]:
    """Yield frames sampled at ``fps`` as downscaled BGR arrays; nothing if there is no video.

    ``keyframes_only`` makes the decoder drop non-key frames before decoding them (far cheaper),
    and the sampler then picks among keyframes; use it only when ``1/fps`` is at least the
    keyframe interval, otherwise samples are missed. ``skip_nonref`` drops only non-reference
    (B-) frames, which a sampler at a few fps never needs (``sampling.skip_nonref``; live streams
    decode the same way). ``skip_to_keyframe`` stops decoding a GOP once its remaining frames
    cannot hold a sample (:class:`~moderation.sample.frames.GopSkip`). ``skip_loop_filter`` skips the
    codec's deblocking filter (``sampling.skip_loop_filter``; see :func:`skip_decoding`). Raises MediaError for
    unusable input or a frame over ``max_frame_pixels``.
    """
    stats = stats if stats is not None else DecodeStats()
    sampler = FpsSampler(fps)
    gop = GopSkip(sampler) if skip_to_keyframe and not keyframes_only else None
    with closing(open_media(path)) as container:
        if not container.streams.video:
            return
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if ctx.width and ctx.height:
            _check_pixels(path, ctx.width, ctx.height, max_frame_pixels)
        ctx.thread_type = "AUTO"
        skip_decoding(ctx, keyframes_only=keyframes_only, skip_nonref=skip_nonref, skip_loop_filter=skip_loop_filter)
        origin = media_origin(container)
        frame_step = 1.0 / float(stream.average_rate) if stream.average_rate else 0.04
        last_t: float | None = None
        index = 0
        for packet in _demux(path, container, stream, stats):
            if gop is not None:
                pt = packet.pts if packet.pts is not None else packet.dts
                pkt_t = float(pt * packet.time_base) - origin if pt is not None and packet.time_base else None
                if not gop.decode(pkt_t, packet.is_keyframe):
                    if pkt_t is not None:
                        stats.reached(pkt_t + frame_step)  # skipped, not missing: the span check
                    continue
            for frame in cast(list[av.VideoFrame], _decode_packet(path, packet, stats)):
                stats.frames_decoded += 1
                if frame.time is not None:
                    t = frame.time - origin
                elif last_t is None:  # raw elementary streams carry no pts: count frames instead
                    t = 0.0
                else:
                    t = last_t + frame_step
                last_t = t
                stats.reached(t + frame_step)
                if not sampler.take(t):
                    continue
                if gop is not None:
                    gop.sampled()
                _check_pixels(path, frame.width, frame.height, max_frame_pixels)
                image = upright_bgr(frame, max_side)
                stats.frames_sampled += 1
                yield VideoFrame(stream=stream_id, t=t, image=image, index=index)
                index += 1


def upright_bgr(frame: av.VideoFrame, max_side: int) -> np.ndarray:
    """``frame`` as a BGR array, long side at most ``max_side``, turned the way it is displayed.

    Phones record sideways and store the turn in the container's display matrix (MP4/MOV
    ``tkhd``), which players apply and decoders do not: a portrait recording decodes as a
    landscape picture of a person lying down, which detectors trained on upright people and
    text read worse, and reviewers would see sideways thumbnails. Evidence clips are copied
    packets, so players turn them by the same matrix. Only quarter turns exist in practice; any
    other angle is rounded to the nearest one.
    """
    size = scaled_size(frame.width, frame.height, max_side)
    image: np.ndarray = frame.to_ndarray(width=size.width, height=size.height, format="bgr24")
    turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4  # counter-clockwise quarter turns
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def frame_at(path: str | Path, t: float, max_side: int = 1280) -> np.ndarray | None:
    """The first frame at or after media time ``t`` as a downscaled BGR array (for thumbnails).

    Seeks to the keyframe before ``t`` and decodes forward, so the cost is at most one GOP;
    returns None when there is no video or nothing at or after ``t``.
    """
    with closing(open_media(path)) as container:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        stream.codec_context.thread_type = "AUTO"
        origin = media_origin(container)
        if stream.time_base is not None and t > 0:
            container.seek(int((t + origin) / stream.time_base), stream=stream, backward=True)
        stats = DecodeStats()
        for packet in _demux(path, container, stream, stats):
            for frame in cast(list[av.VideoFrame], _decode_packet(path, packet, stats)):
                if frame.time is not None and frame.time - origin < t - 1e-3:
                    continue
                return upright_bgr(frame, max_side)
    return None


def iter_sampled_frames(
    path: str | Path, stream_id: str, config: SamplingConfig, *, stats: DecodeStats | None = None
) -> Iterator[VideoFrame]:
    """:func:`iter_frames` with its knobs taken from the pipeline's sampling config."""
    return iter_frames(path, stream_id, config.fps, config.max_side, config.max_frame_pixels, stats=stats)


def iter_audio_windows(
    path: str | Path,
    stream_id: str,
    window_s: float = 30.0,
    hop_s: float | None = None,
    *,
    min_tail_s: float = 0.1,
    stats: DecodeStats | None = None,
) -> Iterator[AudioWindow]:
    """Yield 16 kHz mono float32 windows with media start times; nothing if there is no audio.

    The last partial window is kept (speech in a stream's final seconds still counts) unless it
    is shorter than ``min_tail_s`` (codec padding, not content).
    """
    stats = stats if stats is not None else DecodeStats()
    windower = AudioWindower(window_s, hop_s, SAMPLE_RATE, min_tail_s=min_tail_s)
    with closing(open_media(path)) as container:
        if not container.streams.audio:
            return
        stream = container.streams.audio[0]
        stream.codec_context.thread_type = "AUTO"
        origin = media_origin(container)
        chunks = AudioChunks()  # resampled a few times a second, as live streams are

        def emit(out: Iterator[tuple[float | None, np.ndarray]]) -> Iterator[AudioWindow]:
            for t, samples in out:
                if t is not None:
                    stats.reached(t + samples.size / SAMPLE_RATE)
                for w in windower.push(samples, t):
                    yield AudioWindow(stream=stream_id, start=w.start, samples=w.samples)

        for packet in _demux(path, container, stream, stats):
            for frame in cast(list[av.AudioFrame], _decode_packet(path, packet, stats)):
                stats.frames_decoded += 1
                yield from emit(chunks.push(frame, frame.time - origin if frame.time is not None else None))
        yield from emit(chunks.flush())
        for w in windower.flush():
            yield AudioWindow(stream=stream_id, start=w.start, samples=w.samples)
