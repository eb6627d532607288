"""Disclosure labels: lexicon hits in OCR text, confidence and on-screen share."""

from __future__ import annotations

import pytest

from moderation.config import DisclosureConfig
from moderation.messages import KeywordHit, OcrResult, TextLine
from moderation.signals.disclosure import disclosure_signals, label_box, screen_share

SIZE = (640, 360)


def fake_match(text: str) -> list[KeywordHit]:
    hits = []
    for term, cat in (("AI生成", "disclosure"), ("下注", "gambling")):
        i = text.find(term)
        if i >= 0:
            hits.append(KeywordHit(term, cat, 1.0, (i, i + len(term)), term))
    return hits


def ocr(*lines: TextLine, t: float = 1.0, size: tuple[int, int] = SIZE) -> OcrResult:
    return OcrResult("s1", t, lines, frame_size=size)


def test_prominent_label_is_a_signal_with_its_share() -> None:
    (sig,) = disclosure_signals([ocr(TextLine("AI生成", 0.9, (20, 20, 160, 48)))], fake_match, DisclosureConfig())
    assert (sig.kind, sig.term, sig.score) == ("disclosure.label", "AI生成", 0.9)
    assert sig.label == f"share={160 * 48 / (640 * 360):.4f}"


def test_tiny_watermark_is_not_prominent() -> None:
    tiny = TextLine("AI生成", 0.95, (600, 350, 20, 6))
    assert disclosure_signals([ocr(tiny)], fake_match, DisclosureConfig(min_share=0.003)) == []
    assert len(disclosure_signals([ocr(tiny)], fake_match, DisclosureConfig(min_share=0.0))) == 1


def test_low_confidence_read_does_not_count() -> None:
    line = TextLine("AI生成", 0.3, (20, 20, 160, 48))
    assert disclosure_signals([ocr(line)], fake_match, DisclosureConfig(min_score=0.5)) == []


def test_label_inside_a_longer_line_gets_its_part_of_the_box() -> None:
    line = TextLine("本内容AI生成请知悉", 1.0, (0, 0, 400, 40))  # 10 characters, label at 3..7
    hit = fake_match(line.text)[0]
    assert label_box(line, hit) == (120.0, 0, 160.0, 40)
    assert screen_share((0, 0, 64, 36), SIZE) == pytest.approx(0.01)
    assert screen_share((0, 0, 64, 36), (0, 0)) is None


def test_other_categories_are_ignored_and_one_signal_per_frame() -> None:
    res = ocr(
        TextLine("下注", 1.0, (0, 0, 200, 50)),
        TextLine("AI生成", 0.8, (0, 100, 200, 50)),
        TextLine("AI生成", 0.99, (0, 200, 200, 50)),
    )
    (sig,) = disclosure_signals([res], fake_match, DisclosureConfig())
    assert sig.score == 0.99


def test_real_lexicon_finds_labels_in_both_languages_and_traditional() -> None:
    from moderation.text.lexicon import Lexicon
    from moderation.text.matcher import KeywordMatcher

    match = KeywordMatcher(Lexicon.load()).match
    for text in ("AI生成", "本直播为数字人直播", "虛擬主播", "This stream is AI-generated"):
        sigs = disclosure_signals([ocr(TextLine(text, 0.95, (0, 0, 300, 50)))], match, DisclosureConfig())
        assert len(sigs) == 1, text
    assert (
        disclosure_signals([ocr(TextLine("今天教大家做红烧肉", 0.95, (0, 0, 300, 50)))], match, DisclosureConfig())
        == []
    )
