"""Media factories for tests: small clips written in well under a second, and broken files.

Any test module can ``from media_factory import make_clip`` (tests/conftest.py puts this folder
on ``sys.path``). Clips go through the same writer as the sample generator, so they are H.264 +
AAC MP4 with a fixed keyframe interval.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import av
import numpy as np

from moderation.samplegen.writer import write_video


def tone(seconds: float, rate: int = 48000, hz: float = 440.0, amplitude: float = 0.3) -> np.ndarray:
    """A sine tone as float32 mono PCM."""
    n = round(seconds * rate)
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(n) / rate)).astype(np.float32)


def make_clip(
    path: str | Path,
    seconds: float = 4.0,
    fps: int = 25,
    size: tuple[int, int] = (320, 240),
    with_audio: bool = True,
    *,
    with_video: bool = True,
    gop_s: float = 1.0,
    faststart: bool = True,
    audio_rate: int = 48000,
    preset: str = "ultrafast",
) -> Path:
    """Write a clip whose frames differ (colour ramps with time) and whose audio is a 440 Hz tone.

    ``preset`` is x264's: "ultrafast" (the default) has no B-frames, "veryfast" has them.

    ``size`` is (width, height). Frame ``i`` has its mean brightness rising with ``i`` so a test
    can tell frames apart without OCR.
    """
    width, height = size
    ramp = np.linspace(0, 60, width, dtype=np.float32)[None, :, None]

    def frames(i: int, t: float) -> np.ndarray:
        level = (i * 3) % 180
        img = np.empty((height, width, 3), np.uint8)
        img[:] = (ramp + level).astype(np.uint8)
        return img

    audio = tone(seconds, audio_rate) if with_audio else None
    return write_video(
        path,
        frames if with_video else None,
        seconds,
        audio,
        fps=fps,
        width=width,
        height=height,
        audio_rate=audio_rate,
        gop_s=gop_s,
        faststart=faststart,
        preset=preset,
    )


def write_random_bytes(path: str | Path, n: int = 64_000, seed: int = 1) -> Path:
    """A file of random bytes (not media)."""
    p = Path(path)
    p.write_bytes(np.random.default_rng(seed).bytes(n))
    return p


def truncate_copy(src: str | Path, dst: str | Path, fraction: float = 0.5) -> Path:
    """Copy the first ``fraction`` of a file's bytes (a download or recording cut short)."""
    data = Path(src).read_bytes()
    p = Path(dst)
    p.write_bytes(data[: int(len(data) * fraction)])
    return p


def corrupt_copy(src: str | Path, dst: str | Path, start_frac: float = 0.4, n: int = 4000, seed: int = 2) -> Path:
    """Copy a file with ``n`` bytes overwritten by noise at ``start_frac`` of its length.

    On a faststart MP4 the index is at the front, so this damages packet payloads only: the
    container still opens and the decoder meets garbage mid-stream.
    """
    data = bytearray(Path(src).read_bytes())
    at = int(len(data) * start_frac)
    data[at : at + n] = np.random.default_rng(seed).bytes(min(n, len(data) - at))
    p = Path(dst)
    p.write_bytes(bytes(data))
    return p


def make_hls(playlist: Path) -> str:
    """A 3 s VOD HLS stream (160x120 H.264, 1 s segments ``<stem>N.ts``) written by ffmpeg beside
    ``playlist``; returns the playlist text so tests can derive hostile variants of it."""
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-g",
            "10",
            "-f",
            "hls",
            "-hls_time",
            "1",
            "-hls_list_size",
            "0",
            "-hls_playlist_type",
            "vod",
            str(playlist),
        ],
        check=True,
    )
    return playlist.read_text()


def make_marked_clip(path: str | Path, seconds: float = 2.0, width: int = 160, height: int = 96, fps: int = 10) -> Path:
    """A silent H.264 MP4 whose frames are black with a white top-left quarter: which way up a
    decoded frame is shows in where the white block is."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        img = np.zeros((height, width, 3), np.uint8)
        img[: height // 2, : width // 2] = 255
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = i
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
    return Path(path)


def set_display_rotation(path: str | Path, degrees: int) -> Path:
    """Write a quarter-turn display matrix into an MP4's video track header (``tkhd``), in place:
    what a phone stores when it records sideways. ``degrees`` is counter-clockwise, as FFmpeg and
    PyAV's ``VideoFrame.rotation`` report it."""
    cos, sin = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[degrees % 360]

    def fixed(v: int) -> int:
        return (v << 16) & 0xFFFFFFFF  # 16.16 fixed point, two's complement

    # stored as a b u / c d v / x y w; a counter-clockwise turn is a = d = cos, b = -sin, c = sin
    matrix = [fixed(cos), fixed(-sin), 0, fixed(sin), fixed(cos), 0, 0, 0, 0x40000000]
    data = bytearray(Path(path).read_bytes())
    at, patched = 0, 0
    while (at := data.find(b"tkhd", at)) >= 0:
        version = data[at + 4]
        off = at + 8 + (32 if version == 1 else 20) + 8 + 8  # past times, ids, layer/group/volume
        if struct.unpack(">I", data[off + 36 : off + 40])[0]:  # a track with a width: the video
            data[off : off + 36] = struct.pack(">9I", *matrix)
            patched += 1
        at += 4
    if patched != 1:
        raise ValueError(f"{path}: expected one video tkhd, patched {patched}")
    Path(path).write_bytes(bytes(data))
    return Path(path)
