"""Recognised text (speech, on-screen text) → ``*.keyword`` signals.

The matcher is passed in as a plain callable so this module does not care how matching is done
(normalisation, pinyin, allow-contexts live in :mod:`moderation.text`). Hits the matcher framed as
mentions (``context`` "counter" or "nominal", weight 0: a rules announcement, a news report, 打赏记录)
are not evidence and become no signal.

Scores are on one scale across channels: a keyword signal scores the lexicon weight of its hit,
whether the words were chatted, shown or said. Recognition confidence gates what is read at all
(``ocr.min_score``, the ASR segment filters) instead of scaling the weight down, which used to
make a term at its category's threshold open a verdict in chat and never on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from moderation.messages import KeywordHit, OcrResult, Signal, TranscriptSegment

MatchFn = Callable[[str], list[KeywordHit]]


def evidence(hits: Iterable[KeywordHit]) -> list[KeywordHit]:
    """The hits that count as evidence (weight above 0); mentions are dropped."""
    return [h for h in hits if h.weight > 0.0]


def _time_in_segment(seg: TranscriptSegment, pos: int) -> float:
    """Media time of character ``pos`` of the segment's text, assuming a steady speaking rate.

    Whisper segments can be several seconds long; placing the signal at the term rather than at
    the segment start keeps verdict times within a second or two of the real event.
    """
    if not seg.text:
        return seg.start
    frac = min(max(pos, 0), len(seg.text)) / len(seg.text)
    return seg.start + frac * max(seg.end - seg.start, 0.0)


def transcript_signals(segments: Iterable[TranscriptSegment], match: MatchFn) -> list[Signal]:
    out: list[Signal] = []
    for seg in segments:
        for hit in evidence(match(seg.text)):
            t = _time_in_segment(seg, hit.span[0])
            out.append(
                Signal(
                    kind="asr.keyword",
                    stream=seg.stream,
                    t=t,
                    score=hit.weight,
                    category=hit.category,
                    term=hit.term,
                    text=seg.text,
                    lang=seg.lang,
                    context=hit.context,
                    end=max(seg.end, t),  # said during the segment: the verdict spans it
                    words_end=_time_in_segment(seg, hit.span[1]),
                )
            )
    return out


def ocr_signals(results: Iterable[OcrResult], match: MatchFn) -> list[Signal]:
    out: list[Signal] = []
    for res in results:
        for line in res.lines:
            for hit in evidence(match(line.text)):
                out.append(
                    Signal(
                        kind="ocr.keyword",
                        stream=res.stream,
                        t=res.t,
                        score=hit.weight,
                        category=hit.category,
                        term=hit.term,
                        text=line.text,
                        box=line.box,
                        context=hit.context,
                    )
                )
    return out
