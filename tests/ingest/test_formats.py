"""Streams made elsewhere: other codecs, containers, sample rates and layouts decode to the same
sampled frames and 16 kHz audio, through the file path (re-scans) and the live path alike.

Each variant is the same 3 s clip (320x240, 25 fps, 440 Hz tone) transcoded by Debian's ffmpeg
the way other encoders and platforms deliver media.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from media_factory import make_clip

from moderation.ingest.decode import iter_audio_windows, iter_frames
from moderation.ingest.live_source import LiveSource
from moderation.ingest.source import AudioEvent, FrameEvent, SourceConfig
from moderation.ingest.urlguard import UrlGuardConfig

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg (Debian package)")

VARIANTS: dict[str, list[str]] = {
    "hevc.mkv": ["-c:v", "libx265", "-x265-params", "log-level=error", "-c:a", "aac"],
    "vp9_opus.webm": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"],
    "av1_opus.mkv": ["-c:v", "libsvtav1", "-preset", "12", "-svtav1-params", "verbosity=0", "-c:a", "libopus"],
    "mpeg2_mp2.ts": ["-c:v", "mpeg2video", "-q:v", "4", "-c:a", "mp2"],
    "h264_pcm.mov": ["-c:v", "copy", "-c:a", "pcm_s16le"],
    "mono_8k.mp4": ["-c:v", "copy", "-ac", "1", "-ar", "8000", "-c:a", "aac"],
    "flv_44k.flv": ["-c:v", "copy", "-ar", "44100", "-c:a", "aac"],
    "hi10_444.mkv": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p10le", "-c:a", "copy"],
    "fps60.mp4": ["-vf", "fps=60", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy"],
    "odd_size.mp4": ["-vf", "scale=318:238", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy"],
    "ts_offset.ts": ["-c:v", "copy", "-c:a", "copy", "-output_ts_offset", "3600"],
    "silent_left.mp4": ["-c:v", "copy", "-af", "pan=stereo|c0=0*c0|c1=c0", "-c:a", "aac"],
}
FILES = SourceConfig(guard=UrlGuardConfig(allow_file=True), audio_window_s=1.0)


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("formats")
    base = make_clip(d / "base.mp4", seconds=3.0)
    out = {}
    for name, args in VARIANTS.items():
        path = d / name
        cmd = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(base), *args, str(path)]
        subprocess.run(cmd, check=True, capture_output=True)
        out[name] = path
    return out


def _voiced(windows: list[np.ndarray]) -> float:
    """Seconds of 16 kHz audio in these windows louder than a whisper."""
    return sum(w.size for w in windows if float(np.sqrt(np.mean(np.square(w)))) > 0.05) / 16000


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_file_path_decodes_every_variant(variants: dict[str, Path], name: str) -> None:
    path = variants[name]
    frames = list(iter_frames(path, "s", fps=1.0))
    assert [round(f.t, 1) for f in frames] == [0.0, 1.0, 2.0]  # the offset container starts at 0 too
    want = (238, 318) if name == "odd_size.mp4" else (240, 320)
    assert all(f.image.shape == (*want, 3) and f.image.dtype == np.uint8 for f in frames)
    assert frames[2].image.mean() > frames[0].image.mean()  # real pictures, in order (the ramp brightens)
    wins = list(iter_audio_windows(path, "s", window_s=1.0))
    assert wins and wins[0].start == pytest.approx(0.0, abs=0.05)
    assert all(w.samples.dtype == np.float32 and w.samples.ndim == 1 for w in wins)
    assert _voiced([w.samples for w in wins]) >= 2.5  # the tone, whatever the rate and layout


@pytest.mark.parametrize("name", ["hevc.mkv", "vp9_opus.webm", "mpeg2_mp2.ts", "mono_8k.mp4", "ts_offset.ts"])
def test_live_path_decodes_variants(variants: dict[str, Path], name: str) -> None:
    events = list(LiveSource(str(variants[name]), "s1", FILES))
    frames = [e.frame for e in events if isinstance(e, FrameEvent)]
    windows = [e.window for e in events if isinstance(e, AudioEvent)]
    # within a few frames of each second: the live path skips non-reference frames (B-frames of
    # HEVC and VP9 included), so a sample may fall on the next decoded frame
    assert len(frames) == 3 and all(abs(f.t - i) <= 0.2 for i, f in enumerate(frames)), [f.t for f in frames]
    assert windows and windows[0].start == pytest.approx(0.0, abs=0.05)
    assert _voiced([w.samples for w in windows]) >= 2.5
