"""Encode numpy frames and a mono PCM track into a browser-playable MP4 with PyAV.

Sample media is made, never downloaded (DESIGN.md §6), so the test fixtures, the demo and the
benchmarks all go through this one writer: H.264 (libx264, yuv420p) + AAC in MP4 with the moov
atom first (``+faststart``) and a fixed keyframe interval, because clip cutting and keyframe
sampling are tested against a known GOP.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from moderation.ingest.localfile import ffmpeg_file_url

FrameFn = Callable[[int, float], np.ndarray]
"""``frames_fn(index, t) -> BGR uint8 (height, width, 3)`` for the frame shown at ``t``."""

AAC_FRAME = 1024


class SampleGenError(RuntimeError):
    """Sample media cannot be produced (a missing tool or font, bad parameters)."""


def write_video(
    path: str | Path,
    frames_fn: FrameFn | None,
    duration: float,
    audio: np.ndarray | None = None,
    *,
    fps: int = 25,
    width: int = 640,
    height: int = 360,
    audio_rate: int = 48000,
    gop_s: float = 2.0,
    faststart: bool = True,
    preset: str = "veryfast",
) -> Path:
    """Write ``duration`` seconds of video (and ``audio``, float32 mono at ``audio_rate``).

    ``frames_fn=None`` writes an audio-only file. Audio shorter than the video is padded with
    silence, longer is cut. Video and audio packets are muxed interleaved in time order so the
    file streams well. The file is written to a temporary name and renamed, so a crash never
    leaves a half-written MP4 under the final name.
    """
    if duration <= 0:
        raise SampleGenError(f"duration must be positive, got {duration}")
    if frames_fn is None and audio is None:
        raise SampleGenError("nothing to write: neither frames nor audio")
    if width % 2 or height % 2:
        raise SampleGenError(f"yuv420p needs even dimensions, got {width}x{height}")
    out_path = Path(path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    n_frames = max(1, round(duration * fps))
    n_audio = round(duration * audio_rate)
    pcm: np.ndarray | None = None
    if audio is not None:
        pcm = np.zeros(n_audio, np.float32)
        src = np.asarray(audio, np.float32).reshape(-1)[:n_audio]
        pcm[: src.size] = np.clip(src, -1.0, 1.0)
    options = {"movflags": "+faststart"} if faststart else {}
    try:
        with av.open(ffmpeg_file_url(tmp), mode="w", format="mp4", options=options) as out:
            vstream = None
            if frames_fn is not None:
                gop = max(1, round(gop_s * fps))
                vstream = out.add_stream(
                    "libx264",
                    rate=fps,
                    options={
                        "preset": preset,
                        # Fixed GOP, no scene-cut keyframes: keyframe times are part of the contract.
                        "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
                    },
                )
                vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
            astream = None
            if pcm is not None:
                astream = out.add_stream("aac", rate=audio_rate, layout="mono")
                astream.bit_rate = 96000
            a_pos = 0

            def mux_audio_until(sample: int) -> None:
                nonlocal a_pos
                assert astream is not None and pcm is not None
                while a_pos < min(sample, pcm.size):
                    chunk = pcm[a_pos : a_pos + AAC_FRAME]
                    frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
                    frame.sample_rate = audio_rate
                    frame.pts = a_pos
                    a_pos += chunk.size
                    out.mux(astream.encode(frame))

            for i in range(n_frames if vstream is not None else 0):
                assert frames_fn is not None and vstream is not None
                t = i / fps
                image = frames_fn(i, t)
                if image.shape != (height, width, 3) or image.dtype != np.uint8:
                    raise SampleGenError(
                        f"frames_fn returned {image.shape} {image.dtype}, want ({height}, {width}, 3) uint8"
                    )
                frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
                frame.pts = i
                out.mux(vstream.encode(frame))
                if astream is not None:
                    mux_audio_until(round((i + 1) / fps * audio_rate))
            if vstream is not None:
                out.mux(vstream.encode(None))
            if astream is not None:
                mux_audio_until(n_audio)
                out.mux(astream.encode(None))
        os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out_path
