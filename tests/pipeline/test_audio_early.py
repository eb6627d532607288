"""Live speech: the stitcher holds a window's last words for the next window, but each window's own
keyword signals are handed to the preview at once (an early alert), and the stitched, once-only
signals still come out for the verdict."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from moderation.config import PipelineConfig
from moderation.messages import AudioWindow, TranscriptSegment
from moderation.pipeline.analysis import AudioAnalyzer
from moderation.pipeline.graph import Engines


class Speech:
    """ASR stand-in: the keyword is said near each window's end (where the stitcher holds words)."""

    async def asr(self, windows: Sequence[AudioWindow]) -> list[list[TranscriptSegment]]:
        return [
            [TranscriptSegment(w.stream, w.end - 1.5, w.end - 0.2, "现在下注百家乐", "zh", -0.2, 0.01)] for w in windows
        ]


def _window(start: float) -> AudioWindow:
    return AudioWindow("s1", start, np.zeros(16000 * 10, np.float32))


def test_a_held_keyword_is_early_for_the_preview_and_once_for_the_verdict() -> None:
    an = AudioAnalyzer("s1", Speech(), Engines(PipelineConfig()).matcher, overlap_s=2.0)  # type: ignore[arg-type]
    stitched = asyncio.run(an.analyse([_window(0.0)]))
    early = an.take_early()
    assert stitched == []  # held: the next window hears these words again
    assert {s.term for s in early} >= {"百家乐"} and all(s.kind == "asr.keyword" for s in early)
    assert an.take_early() == []  # handed over once
    stitched = asyncio.run(an.analyse([_window(8.0)]))
    stitched += an.finish()
    assert "百家乐" in {s.term for s in stitched}  # the verdict's evidence still arrives, stitched


def test_offline_windows_have_no_early_copies() -> None:
    an = AudioAnalyzer("s1", Speech(), Engines(PipelineConfig()).matcher, overlap_s=0.0, stitch=False)  # type: ignore[arg-type]
    assert "百家乐" in {s.term for s in asyncio.run(an.analyse([_window(0.0)]))}
    assert an.take_early() == []


class Lines:
    """ASR stand-in: window ``k`` says line ``k`` (one segment per window)."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines

    async def asr(self, windows: Sequence[AudioWindow]) -> list[list[TranscriptSegment]]:
        return [
            [TranscriptSegment(w.stream, w.start + 0.5, w.end - 0.5, self.lines[int(w.start // 10)], "zh", -0.2, 0.01)]
            for w in windows
        ]


def test_speech_in_an_earlier_window_corroborates_an_ambiguous_term() -> None:
    said = Lines("有需要的加我微信", "今天带大家上分")

    def read(context_s: float, live: bool) -> dict[str, str | None]:
        an = AudioAnalyzer(
            "s1",
            said,
            Engines(PipelineConfig()).matcher,
            0.0,
            stitch=live,
            context_s=context_s,  # type: ignore[arg-type]
        )
        sigs = asyncio.run(an.analyse([_window(0.0)])) + asyncio.run(an.analyse([_window(10.0)])) + an.finish()
        if live:
            sigs = an.take_early()  # the preview's reading, window by window
        return {s.term or "": s.context for s in sigs}

    for live in (False, True):
        assert read(0.0, live)["上分"] == "ambiguous"
        assert read(10.0, live)["上分"] == "plain"
