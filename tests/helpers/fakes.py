"""Fake inference clients for live pipeline tests: known text at known media times, no models."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from moderation.messages import AudioWindow, OcrResult, TextLine, TranscriptSegment, VideoFrame, VisionResult


class FakeClients:
    """OCR reads ``ocr_text`` on frames within ``ocr_span``; ASR hears ``speech`` at ``speech_t``.

    ``delay_s`` makes every call slow (to force drops); ``fail_vision`` makes vision fail per item.
    """

    def __init__(
        self,
        ocr_text: str = "百家乐 在线下注",
        ocr_span: tuple[float, float] = (1.0, 3.0),
        speech: str = "place your bets now at our online casino",
        speech_t: float | None = None,
        delay_s: float = 0.0,
        fail_vision: bool = False,
        period: float | None = None,
        asr_until: Callable[[], bool] | None = None,
    ) -> None:
        self.ocr_text, self.ocr_span = ocr_text, ocr_span
        self.speech, self.speech_t = speech, speech_t
        self.delay_s = delay_s
        self.fail_vision = fail_vision
        self.period = period  # OCR span repeats every `period` media seconds
        self.asr_until = asr_until  # ASR holds its results until this is true (10 s at most)
        self.calls: dict[str, int] = {"vision": 0, "ocr": 0, "asr": 0}
        self.frames_seen: list[float] = []

    async def vision(self, frames: Sequence[VideoFrame]) -> Sequence[VisionResult | Exception]:
        self.calls["vision"] += 1
        self.frames_seen += [f.t for f in frames]
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_vision:
            return [RuntimeError("bad frame") for _ in frames]
        return [VisionResult(f.stream, f.t) for f in frames]

    async def ocr(self, frames: Sequence[VideoFrame]) -> Sequence[OcrResult | Exception]:
        self.calls["ocr"] += 1
        lo, hi = self.ocr_span
        return [
            OcrResult(
                f.stream,
                f.t,
                (TextLine(self.ocr_text, 0.95, (10.0, 10.0, 100.0, 20.0)),)
                if lo <= (f.t % self.period if self.period else f.t) <= hi
                else (),
                (f.image.shape[1], f.image.shape[0]),
            )
            for f in frames
        ]

    async def asr(self, windows: Sequence[AudioWindow]) -> Sequence[list[TranscriptSegment] | Exception]:
        self.calls["asr"] += 1
        deadline = time.monotonic() + 10.0
        while self.asr_until is not None and not self.asr_until() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        out: list[list[TranscriptSegment] | Exception] = []
        for w in windows:
            t = self.speech_t
            hit = t is not None and w.start <= t < w.end
            out.append([TranscriptSegment(w.stream, t, t + 1.5, self.speech, "en")] if hit and t is not None else [])
        return out
