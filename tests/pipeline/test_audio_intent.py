"""The intent classifier on the streamer's speech: stitched transcript segments → ``asr.intent``
signals, the streamer's, only with ``intent.speech_min_score`` set; a failed classification costs
those signals and never the keyword ones."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest

from moderation.config import IntentConfig, PipelineConfig
from moderation.messages import AudioWindow, TranscriptSegment
from moderation.pipeline.analysis import AudioAnalyzer
from moderation.pipeline.graph import Engines
from moderation.policy.fuse import fuse

PRESSURE = "看了两个小时一个都没上 你们心里过意得去吗 今天不上榜我就下播了"
RULES = "平台规定不得诱导未成年人打赏 大家理性消费"
GAMBLE = "想玩的家人们去我主页 百家乐开台了 下注就送"
SAID = [PRESSURE, "大家好呀", RULES, GAMBLE]
PROBS = {
    PRESSURE: {"benign": 0.03, "gambling": 0.01, "tipping_inducement": 0.95, "vulgar": 0.01},
    RULES: {"benign": 0.02, "gambling": 0.01, "tipping_inducement": 0.96, "vulgar": 0.01},
    GAMBLE: {"benign": 0.02, "gambling": 0.97, "tipping_inducement": 0.0, "vulgar": 0.01},
}


class Clients:
    """ASR and intent stand-ins: each window says every line of ``SAID`` in turn."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.asked: list[str] = []

    async def asr(self, windows: Sequence[AudioWindow]) -> list[list[TranscriptSegment]]:
        return [
            [TranscriptSegment(w.stream, w.start + i, w.start + i + 0.9, text, "zh") for i, text in enumerate(SAID)]
            for w in windows
        ]

    async def intent(self, texts: Sequence[str]) -> list[dict[str, float] | Exception]:
        self.asked += texts
        if self.fail:
            return [RuntimeError("encoder down")] * len(texts)
        return [PROBS[t] for t in texts]


def _analyser(clients: Clients, intent: IntentConfig, strict: bool = False) -> AudioAnalyzer:
    matcher = Engines(PipelineConfig()).matcher
    return AudioAnalyzer("s1", clients, matcher, 0.0, stitch=False, strict=strict, intent=intent)  # type: ignore[arg-type]


def _window() -> AudioWindow:
    return AudioWindow("s1", 0.0, np.zeros(16000 * 10, np.float32))


def test_the_streamers_words_become_intent_signals_at_the_speech_bar() -> None:
    clients = Clients()
    an = _analyser(clients, IntentConfig(speech_min_score=0.9))
    signals = asyncio.run(an.analyse([_window()]))
    intent = [s for s in signals if s.kind == "asr.intent"]
    assert [(s.category, s.text, s.user) for s in intent] == [
        ("tipping_inducement", PRESSURE, None),  # no lexicon term: the classifier's alone
        ("gambling", GAMBLE, None),
    ]
    assert intent[0].t == 0.0 and intent[0].end == pytest.approx(0.9) and intent[0].lang == "zh"
    assert "大家好呀" not in clients.asked  # too short to classify: the rules only
    # the rules read the platform notice as a mention: no signal, whatever the classifier says
    assert all(s.text != RULES for s in intent)
    assert any(s.kind == "asr.keyword" and s.term for s in signals)  # keyword hits as before
    verdicts = fuse("s1", sorted(signals, key=lambda s: s.t), PipelineConfig().policy)
    tipping = [v for v in verdicts if v.category == "tipping_inducement"]
    assert tipping and tipping[0].subject.kind == "streamer"


def test_without_a_speech_bar_the_classifier_never_hears_speech() -> None:
    clients = Clients()
    signals = asyncio.run(_analyser(clients, IntentConfig()).analyse([_window()]))
    assert clients.asked == [] and not any(s.kind == "asr.intent" for s in signals)
    off = IntentConfig(enabled=False, speech_min_score=0.9)
    assert asyncio.run(_analyser(clients, off).analyse([_window()])) and clients.asked == []


def test_a_failed_classification_costs_only_the_intent_signals() -> None:
    an = _analyser(Clients(fail=True), IntentConfig(speech_min_score=0.9))
    signals = asyncio.run(an.analyse([_window()]))
    assert signals and all(s.kind == "asr.keyword" for s in signals)
    assert an.counts.errors == 3 and "encoder down" in (an.counts.last_error or "")
    strict = _analyser(Clients(fail=True), IntentConfig(speech_min_score=0.9), strict=True)
    with pytest.raises(RuntimeError, match="encoder down"):
        asyncio.run(strict.analyse([_window()]))
