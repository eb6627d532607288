"""Mandarin speech for sample media from Debian ``gcin-voice`` (real recorded syllables).

espeak-ng's Mandarin is not understood by Whisper. ``gcin-voice`` ships every Mandarin syllable
recorded by two speakers (``/usr/share/gcin-voice/ogg/<zhuyin><tone>/{3,5}.ogg``, GPL-3/LGPL-3 and
CC-BY-3); text is turned into syllables with ``pypinyin`` (zhuyin style) and the recordings are
joined with short gaps. The result is choppy, like a fast reader, and faster-whisper base mostly
understands it; what it gets wrong is mostly homophones, which is the kind of error the matcher's
pinyin view exists for.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, cast

import numpy as np

from moderation.samplegen.speech import read_audio, trim_silence
from moderation.samplegen.writer import SampleGenError

VOICE_DIR = Path("/usr/share/gcin-voice/ogg")
#: The two recorded speakers: file name inside each syllable's folder.
VOICES = {"a": "3.ogg", "b": "5.ogg"}
_TONE_DIGITS = {"ˊ": "2", "ˇ": "3", "ˋ": "4", "˙": "5"}
_PAUSE = set("，。！？、；：,.!?;: \n")
SAMPLE_RATE = 16000


def voice_dir() -> Path:
    """The syllable recordings, or a clear error saying how to get them."""
    if not VOICE_DIR.is_dir():
        raise SampleGenError(f"{VOICE_DIR} not found: install the Debian package 'gcin-voice'")
    return VOICE_DIR


def _folder(zhuyin: str) -> Path | None:
    """The recording folder of one zhuyin syllable (tone mark → digit; first tone has none)."""
    tone = ""
    for mark, digit in _TONE_DIGITS.items():
        if mark in zhuyin:
            tone, zhuyin = digit, zhuyin.replace(mark, "")
    root = voice_dir()
    for name in (zhuyin + tone, zhuyin, zhuyin + "1"):  # a tone not recorded falls back to the bare syllable
        if (root / name).is_dir():
            return root / name
    return None


@cache
def syllable(zhuyin: str, voice: str = "a") -> np.ndarray:
    """One recorded syllable, float32 mono 16 kHz, silence trimmed (empty if not recorded)."""
    folder = _folder(zhuyin)
    if folder is None:
        return np.zeros(0, np.float32)
    path = folder / VOICES[voice]
    if not path.exists():  # a few syllables have one speaker only
        path = next(folder.glob("*.ogg"))
    return trim_silence(read_audio(path, SAMPLE_RATE), SAMPLE_RATE, threshold=0.02)


def speak_zh(text: str, voice: str = "a", gap_s: float = 0.04, pause_s: float = 0.25) -> np.ndarray:
    """Synthesize Mandarin ``text`` (Simplified or Traditional) to float32 mono PCM at 16 kHz.

    ``gap_s`` is the silence between syllables, ``pause_s`` what punctuation and spaces become.
    Characters that are not Han (digits, latin) are skipped; at least one must be spoken.
    """
    from pypinyin import Style, pinyin

    if voice not in VOICES:
        raise SampleGenError(f"voice must be one of {sorted(VOICES)}, got {voice!r}")
    gap = np.zeros(int(SAMPLE_RATE * gap_s), np.float32)
    pause = np.zeros(int(SAMPLE_RATE * pause_s), np.float32)
    parts: list[np.ndarray] = []
    spoken = 0
    # A list-returning ``errors`` callback makes each non-Han character its own entry (pypinyin
    # documents it; its stub says str), so entries line up with characters.
    one_each = cast(Any, list)
    for ch, (zy,) in zip(text, pinyin(text, style=Style.BOPOMOFO, errors=one_each), strict=True):
        if ch in _PAUSE:
            parts.append(pause)
            continue
        pcm = syllable(zy, voice)
        if pcm.size:
            parts += [pcm, gap]
            spoken += 1
    if not spoken:
        raise SampleGenError(f"nothing speakable in {text!r}")
    audio = np.concatenate(parts)
    return (audio * (0.8 / max(1e-6, float(np.abs(audio).max())))).astype(np.float32)
