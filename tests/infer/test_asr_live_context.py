"""Live windows on a short encoder input: Mandarin speech (recorded syllables) spotted the same as on
Whisper's 30 s input, at a fraction of the encoder's work."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.config import AsrConfig, project_root
from moderation.infer.asr_batch import BatchedTranscriber, load_batched_transcriber
from moderation.infer.registry import Registry
from moderation.messages import AudioWindow
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher

LINES = {  # one live-size window each: what a streamer says, and the category a reviewer would expect
    "幸运飞艇开奖了，跟我下注": "gambling",
    "礼物刷到五千我就去染头发": "tipping_inducement",
    "今天天气不错，我们去公园散步": None,
}


@pytest.mark.slow
def test_mandarin_windows_are_spotted_alike_on_a_10_s_encoder_input() -> None:
    speech_zh = pytest.importorskip("moderation.samplegen.speech_zh")
    if not speech_zh.VOICE_DIR.is_dir():
        pytest.skip("gcin-voice is not installed")
    windows = []
    for i, line in enumerate(LINES):
        pcm = np.concatenate([np.zeros(4000, np.float32), speech_zh.speak_zh(line), np.zeros(6000, np.float32)])
        assert pcm.size < 10 * 16000
        windows.append(AudioWindow(f"s{i}", 100.0 * i, pcm))
    registry = Registry.load(project_root() / "models")
    matcher = KeywordMatcher(Lexicon.load())
    spotted = {}
    for context in (None, 10.0):
        bt = load_batched_transcriber(registry, AsrConfig(), bucket_s=context)
        out = bt.transcribe_batch(windows)
        assert bt.last_stats.decode_batches  # the windows reached the model
        texts = [" ".join(s.text for s in o) if isinstance(o, list) else "" for o in out]
        assert all(texts[:2]), texts  # every spoken window has a transcript
        spotted[context] = [{h.category for h in matcher.match(t) if h.weight >= 0.5} for t in texts]
    want = [set() if c is None else {c} for c in LINES.values()]
    assert spotted[10.0] == spotted[None] == want, spotted


@pytest.mark.slow
def test_a_call_below_bucket_from_windows_keeps_the_30_s_input() -> None:
    """The short input is taken only by a saturated batcher (a call of ``bucket_from`` windows or
    more): a lone window decodes exactly as with the 30 s input, the same window in a busy call does not
    pay for it."""
    from moderation.samplegen import speak

    registry = Registry.load(project_root() / "models")
    cfg = AsrConfig(model="whisper-tiny-en", language="en", cpu_threads=1)
    pcm = np.concatenate([np.zeros(3000, np.float32), speak("place your bets now at the online casino")])
    windows = [AudioWindow(f"s{i}", 0.0, pcm) for i in range(3)]
    full = load_batched_transcriber(registry, cfg, workers=1)
    adaptive = load_batched_transcriber(registry, cfg, bucket_s=10, bucket_from=3, workers=1)

    def text(bt: BatchedTranscriber, ws: list[AudioWindow]) -> list[str]:
        out = bt.transcribe_batch(ws)
        assert all(isinstance(o, list) for o in out), out  # no window failed
        return [" ".join(s.text for s in o) for o in out if isinstance(o, list)]

    assert text(adaptive, windows[:1]) == text(full, windows[:1])  # alone: the 30 s input
    assert set(adaptive.last_stats.encoder_frames) == {3000}
    busy = text(adaptive, windows)  # three at once: the 10 s input
    assert set(adaptive.last_stats.encoder_frames) == {1000}
    assert len(busy) == 3 and all("casino" in t.lower() for t in busy), busy
