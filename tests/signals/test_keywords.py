"""Recognised text → keyword signals: OCR signals keep the line box (the UI draws it)."""

from __future__ import annotations

from moderation.messages import OcrResult, TextLine
from moderation.signals.keywords import ocr_signals
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher


def test_ocr_signal_carries_the_line_box_and_text() -> None:
    match = KeywordMatcher(Lexicon.load()).match
    line = TextLine(text="百家樂 在線下注", score=0.9, box=(120.0, 140.0, 400.0, 60.0))
    res = OcrResult(
        stream="s", t=26.0, lines=(line, TextLine("今天天气不错", 0.99, (0.0, 0.0, 10.0, 10.0))), frame_size=(640, 360)
    )
    sigs = ocr_signals([res], match)
    assert {s.term for s in sigs} >= {"百家乐"}
    for s in sigs:
        assert s.kind == "ocr.keyword" and s.box == line.box and s.text == line.text and s.t == 26.0
        assert s.to_record()["box"] == [120.0, 140.0, 400.0, 60.0]


def test_mentions_in_rules_and_news_become_no_signal() -> None:
    from moderation.messages import TranscriptSegment
    from moderation.signals.keywords import transcript_signals
    from moderation.text.lexicon import Lexicon
    from moderation.text.matcher import KeywordMatcher

    m = KeywordMatcher(Lexicon.load())
    segs = [
        TranscriptSegment("s", 0.0, 2.0, "平台严禁主播以任何形式组织网络赌博", "zh"),
        TranscriptSegment("s", 2.0, 4.0, "今晚的打赏记录可以在后台查看", "zh"),
        TranscriptSegment("s", 4.0, 6.0, "来玩百家乐，稳赚不赔", "zh"),
    ]
    sigs = transcript_signals(segs, m)
    assert [(s.term, s.t >= 4.0) for s in sigs] == [("百家乐", True), ("稳赚不赔", True)]


def test_spoken_term_is_placed_between_its_words_start_and_end() -> None:
    from moderation.messages import TranscriptSegment
    from moderation.signals.keywords import transcript_signals

    text = "well hello there, join our online casino tonight"
    seg = TranscriptSegment("s", 10.0, 15.0, text, "en")
    sigs = transcript_signals([seg], KeywordMatcher(Lexicon.load()).match)
    casino = next(s for s in sigs if "casino" in (s.term or ""))
    begin, stop = text.index("online casino"), text.index("online casino") + len("online casino")
    assert casino.words_end is not None
    assert abs(casino.t - (10.0 + 5.0 * begin / len(text))) < 1e-6
    assert abs(casino.words_end - (10.0 + 5.0 * stop / len(text))) < 0.5  # the term's span, whatever it covers
    assert casino.t < casino.words_end <= casino.end == 15.0
