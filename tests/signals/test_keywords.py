"""Recognised text → keyword signals: OCR signals keep the line box (the UI draws it)."""

from __future__ import annotations

from moderation.messages import OcrResult, TextLine
from moderation.signals.keywords import ocr_signals
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher


def test_ocr_signal_carries_the_line_box_and_text() -> None:
    match = KeywordMatcher(Lexicon.load()).match
    line = TextLine(text="百家樂 在線下注", score=0.9, box=(120.0, 140.0, 400.0, 60.0))
    res = OcrResult(stream="s", t=26.0, lines=(line, TextLine("今天天气不错", 0.99, (0.0, 0.0, 10.0, 10.0))),
                    frame_size=(640, 360))
    sigs = ocr_signals([res], match)
    assert {s.term for s in sigs} >= {"百家乐"}
    for s in sigs:
        assert s.kind == "ocr.keyword" and s.box == line.box and s.text == line.text and s.t == 26.0
        assert s.to_record()["box"] == [120.0, 140.0, 400.0, 60.0]
