"""Speech → text with faster-whisper (CTranslate2), tuned for moderation rather than captioning.

Moderation reads short, independent windows from many streams, so every window is decoded on its
own (``condition_on_previous_text=False``: one stream's misheard phrase must not leak into the
next window) and silence is skipped by Silero VAD before it costs decoder time. Whisper is known
to invent text on silence and music ("Thanks for watching!", subtitle credits); a false
``asr.keyword`` signal sends a stream to human review, so those segments are dropped here using
Whisper's own confidence numbers and a list of known phrases. Chinese comes out in whatever script
Whisper picked (often Traditional); it is converted to Simplified so lexicons need one form.

This module holds what every decoding path shares: the window check, the hallucination guard and
the offline model loader. Windows are decoded by :mod:`moderation.infer.asr_batch` (batched across
streams; a batch of one is the per-window case), loaded on first use, never at import.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moderation.messages import AudioWindow

if TYPE_CHECKING:
    pass

#: Whisper's input rate.
_SAMPLE_RATE = 16000

__all__ = [
    "HALLUCINATION_PHRASES",
    "check_window",
    "is_hallucination",
]

#: Text Whisper is known to produce on silence, music or noise (from YouTube/Amara subtitle credits
#: in its training data). Compared after :func:`_canon`, as whole segments.
HALLUCINATION_PHRASES: tuple[str, ...] = (
    "字幕由Amara.org社群提供",
    "字幕由 Amara.org 社区提供",
    "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
    "請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目",
    "明镜需要您的支持 欢迎订阅明镜",
    "中文字幕志愿者",
    "优优独播剧场——YoYo Television Series Exclusive",
    "谢谢观看",
    "感谢观看",
    "Thanks for watching!",
    "Thank you for watching.",
    "Thanks for watching and see you next time.",
    "Please subscribe to my channel.",
    "Subtitles by the Amara.org community",
)

# Thresholds from Whisper's own decoding heuristics (openai/whisper transcribe.py defaults).
NO_SPEECH_MAX = 0.6
LOGPROB_MIN = -1.0
COMPRESSION_MAX = 2.4

_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)


def _canon(text: str) -> str:
    """Case-, width-, script-punctuation-insensitive form used to compare against known phrases."""
    return _PUNCT_RE.sub("", unicodedata.normalize("NFKC", text)).casefold()


_CANON_PHRASES = frozenset(_canon(p) for p in HALLUCINATION_PHRASES)


def is_hallucination(text: str, no_speech_prob: float, avg_logprob: float, compression_ratio: float) -> bool:
    """True for a segment that is more likely invented than heard.

    Silence: Whisper says there is probably no speech *and* it was unsure of the words (both, as in
    Whisper's own rule: a confident decode of quiet speech is kept). Loops: a compression ratio
    above 2.4 means repetitive text ("下注下注下注…"), the classic failure mode. Known phrases: the
    subtitle credits above, matched as the whole segment so real speech containing them survives.
    """
    if no_speech_prob > NO_SPEECH_MAX and avg_logprob < LOGPROB_MIN:
        return True
    if compression_ratio > COMPRESSION_MAX:
        return True
    canon = _canon(text)
    return not canon or canon in _CANON_PHRASES


def check_window(window: AudioWindow) -> np.ndarray:
    """The window's samples as 1-D float32, or a ValueError naming what is wrong with it.

    Checked per window, before batching, so that one broken stream (NaN from a bad decoder,
    wrong rate) fails only its own result and never the batch it shares with other streams.
    """
    if window.sample_rate != _SAMPLE_RATE:
        raise ValueError(f"stream {window.stream}: ASR needs 16 kHz audio, got {window.sample_rate} Hz")
    audio = np.asarray(window.samples)
    if audio.ndim != 1:
        raise ValueError(f"stream {window.stream}: audio must be mono 1-D, got shape {audio.shape}")
    audio = audio.astype(np.float32, copy=False)
    if audio.size and not np.isfinite(audio).all():
        raise ValueError(f"stream {window.stream}: audio window at {window.start:.3f}s contains NaN/inf samples")
    return audio


def load_whisper(model_dir: Path, **kwargs: Any) -> Any:
    """A faster-whisper ``WhisperModel`` from a local folder (never the hub); kwargs go to it."""
    if not (Path(model_dir) / "model.bin").is_file():
        raise FileNotFoundError(f"no model.bin in {model_dir}; resolve it via the registry")
    # A local folder never needs the hub; make sure nothing in the stack tries.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel

    return WhisperModel(str(model_dir), local_files_only=True, **kwargs)
