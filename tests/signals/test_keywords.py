"""Recognised text → keyword signals: OCR signals keep the line box (the UI draws it)."""

from __future__ import annotations

from moderation.messages import OcrResult, Signal, TextLine, TranscriptSegment
from moderation.signals.keywords import SpeechContext, ocr_signals, transcript_signals
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


def _said(*parts: tuple[float, float, str]) -> list[TranscriptSegment]:
    return [TranscriptSegment("s", start, end, text, "zh") for start, end, text in parts]


def _read(segs: list[TranscriptSegment], span_s: float) -> dict[str, Signal]:
    match = KeywordMatcher(Lexicon.load()).match
    return {s.term or "": s for s in transcript_signals(segs, match, SpeechContext(span_s))}


def test_earlier_speech_corroborates_an_ambiguous_term() -> None:
    segs = _said((0.0, 2.0, "有需要的加我微信"), (2.5, 5.0, "今天带大家上分"))
    alone = _read(segs, 0.0)["上分"]
    assert alone.context == "ambiguous" and alone.score < 0.1
    read = _read(segs, 10.0)["上分"]
    assert read.context == "plain" and read.score > 0.5
    assert 2.5 <= read.t <= read.end == 5.0 and read.text == "今天带大家上分"  # still the segment's own evidence


def test_earlier_speech_never_excuses_a_plain_term() -> None:
    segs = _said((0.0, 2.0, "平台严禁赌博 大家远离赌博"), (2.5, 5.0, "老虎机爆了五百倍"))
    assert _read(segs, 10.0)["老虎机"].context == "plain"


def test_only_speech_that_ended_before_within_the_span_is_context() -> None:
    old = _said((0.0, 2.0, "有需要的加我微信"), (20.0, 23.0, "今天带大家上分"))
    assert _read(old, 10.0)["上分"].context == "ambiguous"
    # an overlapping live window's transcript of the same moment is not "before"
    overlap = _said((3.0, 6.0, "有需要的加我微信"), (2.5, 5.0, "今天带大家上分"))
    assert _read(overlap, 10.0)["上分"].context == "ambiguous"


def test_context_terms_are_not_reported_twice() -> None:
    segs = _said((0.0, 2.0, "有需要的加我微信"), (2.5, 5.0, "今天带大家上分"))
    sigs = transcript_signals(segs, KeywordMatcher(Lexicon.load()).match, SpeechContext(10.0))
    assert sorted((s.term, s.t < 2.5) for s in sigs) == [("上分", False), ("加我微信", True)]
