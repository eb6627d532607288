"""English speech for sample media from Debian ``espeak-ng`` (Whisper transcribes it well).

espeak-ng is deterministic for a given text, voice and speed, which keeps generated samples
reproducible. Its WAV (22.05 kHz) is decoded and resampled with PyAV's resampler, the same one
the ingest path uses, rather than with ad-hoc interpolation.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import av
import numpy as np

from moderation.ingest.localfile import ffmpeg_file_url
from moderation.samplegen.writer import SampleGenError


def espeak_binary() -> str:
    """Path of espeak-ng, or a clear error saying how to get it."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SampleGenError("espeak-ng not found on PATH: install the Debian package 'espeak-ng'")
    return exe


def read_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    """Decode any audio file to float32 mono at ``sample_rate``."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    parts: list[np.ndarray] = []
    with av.open(ffmpeg_file_url(path)) as c:  # a name like 'concat:…' is still this one file
        for frame in c.decode(audio=0):
            parts.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    parts.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def speak(text: str, voice: str = "en-us", sample_rate: int = 16000, speed_wpm: int = 150) -> np.ndarray:
    """Synthesize ``text`` to float32 mono PCM at ``sample_rate`` (16 kHz: what Whisper takes).

    Leading/trailing silence espeak adds is trimmed so a planted event's start and end are where
    the voice actually is.
    """
    if not text.strip():
        raise SampleGenError("speak() needs non-empty text")
    exe = espeak_binary()
    with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
        wav = Path(tmp) / "speech.wav"
        proc = subprocess.run(
            [exe, "-v", voice, "-s", str(speed_wpm), "-w", str(wav), text],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if proc.returncode != 0 or not wav.exists():
            raise SampleGenError(f"espeak-ng failed for voice {voice!r}: {proc.stderr.strip()[:200]}")
        pcm = read_audio(wav, sample_rate)
    return trim_silence(pcm, sample_rate)


def trim_silence(pcm: np.ndarray, sample_rate: int, threshold: float = 0.01) -> np.ndarray:
    """Cut leading and trailing samples quieter than ``threshold`` (keeps 20 ms of margin)."""
    loud = np.flatnonzero(np.abs(pcm) > threshold)
    if loud.size == 0:
        return pcm
    margin = int(0.02 * sample_rate)
    return pcm[max(0, loud[0] - margin) : loud[-1] + margin + 1]
