"""ASR: hallucination guards and the window check, then real tiny.en / base on espeak-ng speech through the
batched transcriber (one window at a time: the per-window case)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from moderation.config import AsrConfig, project_root
from moderation.infer.asr import check_window, is_hallucination
from moderation.infer.asr_batch import BatchedTranscriber, load_batched_transcriber
from moderation.infer.registry import Registry
from moderation.messages import AudioWindow, TranscriptSegment

SENTENCE = "place your bets now at the online casino"


def test_hallucination_rules() -> None:
    assert is_hallucination("字幕由Amara.org社群提供", 0.1, -0.2, 1.0)
    assert is_hallucination(" thanks for watching ", 0.1, -0.2, 1.0)
    assert is_hallucination("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", 0.1, -0.2, 1.0)
    assert is_hallucination("hello there", 0.7, -1.2, 1.0)  # probably silence and unsure
    assert not is_hallucination("hello there", 0.7, -0.5, 1.0)  # quiet but confident
    assert is_hallucination("下注" * 40, 0.0, -0.1, 3.1)  # repetition loop
    assert not is_hallucination("thanks for watching the casino stream, place your bets", 0.1, -0.3, 1.1)


def test_wrong_sample_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="16 kHz"):
        check_window(AudioWindow("s", 0.0, np.zeros(8000, np.float32), sample_rate=8000))


def test_non_whisper_model_is_refused(tmp_path: Path) -> None:
    reg = Registry.load(project_root() / "models", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="not kind: whisper"):
        load_batched_transcriber(reg, AsrConfig(model="open-nsfw"))


# ---------------------------------------------------------------------------- real models


def _speech(tmp: Path, text: str) -> np.ndarray:
    """espeak-ng speech as 16 kHz mono float32 (PyAV's resampler: proper anti-aliasing matters
    for Whisper's language detection)."""
    import av

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    wav = tmp / "speech.wav"
    # 140 wpm with 50 ms between words: the setting both tiny.en and base hear best.
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-g", "5", "-w", str(wav), text], check=True)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
    chunks: list[np.ndarray] = []
    with av.open(str(wav)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32)


@pytest.fixture(scope="module")
def speech_window(tmp_path_factory: pytest.TempPathFactory) -> AudioWindow:
    """1 s silence, the sentence, silence to 10 s; starting at 100 s of the stream."""
    speech = _speech(tmp_path_factory.mktemp("tts"), SENTENCE)
    audio = np.zeros(16000 * 10, np.float32)
    audio[16000 : 16000 + len(speech)] = speech
    return AudioWindow("live-1", 100.0, audio)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return Registry.load(project_root() / "models", cache_dir=tmp_path_factory.mktemp("cache"))


def _one(tr: BatchedTranscriber, window: AudioWindow) -> list[TranscriptSegment]:
    (result,) = tr.transcribe_batch([window])
    assert not isinstance(result, Exception), result
    return result


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


@pytest.mark.slow
def test_tiny_en_transcribes_with_media_time_offsets(registry: Registry, speech_window: AudioWindow) -> None:
    tr = load_batched_transcriber(registry, AsrConfig(model="whisper-tiny-en", cpu_threads=2))
    assert not tr.loaded
    segs = _one(tr, speech_window)
    assert segs, "no speech recognised"
    words = _words(" ".join(s.text for s in segs))
    # tiny.en reliably hears "online casino"; it often turns "bets" into "best" or "bed".
    assert {"online", "casino"} <= words, words
    assert all(s.lang == "en" and s.stream == "live-1" for s in segs)
    # speech starts 1 s into a window that starts at 100 s and lasts ~2.5 s
    assert 100.0 <= segs[0].start <= 101.8
    assert segs[-1].end <= speech_window.end and segs[-1].end >= 102.5


@pytest.mark.slow
def test_tiny_en_silence_gives_nothing(registry: Registry) -> None:
    tr = load_batched_transcriber(registry, AsrConfig(model="whisper-tiny-en", cpu_threads=2))
    rng = np.random.default_rng(0)
    quiet = (rng.standard_normal(16000 * 5) * 1e-4).astype(np.float32)
    assert _one(tr, AudioWindow("s", 0.0, quiet)) == []
    assert _one(tr, AudioWindow("s", 0.0, np.zeros(16000 * 5, np.float32))) == []


@pytest.mark.slow
def test_base_detects_english_automatically(registry: Registry, speech_window: AudioWindow) -> None:
    tr = load_batched_transcriber(registry, AsrConfig(model="whisper-base", language=None, cpu_threads=2))
    assert (tr.model_dir / "model.bin").is_file()  # assembled into the cache folder
    segs = _one(tr, speech_window)
    assert segs and all(s.lang == "en" for s in segs)
    words = _words(" ".join(s.text for s in segs))
    assert {"bets", "casino"} <= words, words
