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

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from moderation.messages import KeywordHit, OcrResult, Signal, TranscriptSegment
from moderation.text.context import AMBIGUOUS, PLAIN

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


#: Joins earlier speech to a segment for matching: a sentence end, so no clause frame carries over
#: (a "禁止" in the last sentence does not make this one a mention).
_JOIN = "。"


class SpeechContext:
    """What the streamer said in the last ``span_s`` seconds that was evidence on its own.

    Whisper cuts speech into segments wherever its decoder pauses, not where a thought ends, so an
    ambiguous term (上分, 私聊) often lands in one segment and what corroborates it (加微信, 下注)
    in the one before. A segment with an ambiguous term is read again after the recent segments
    that held plain evidence of their own, as if they had been one line; only its own hits are
    its evidence (the earlier terms were reported with their segments). Segments that were only
    ambiguous themselves are no context: a gaming stream saying 出金 in one segment and 上分 in the
    next would otherwise corroborate itself, sentence by sentence. Earlier segments count only if
    they ended before this one began: overlapping live windows transcribe the same words twice.
    """

    #: Slack (s) for segment boundaries of overlapping windows that do not line up exactly.
    TOLERANCE_S = 0.5

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self._said: deque[TranscriptSegment] = deque()

    def before(self, seg: TranscriptSegment) -> str:
        """The evidence-bearing speech of the last ``span_s`` seconds that ended before ``seg`` began."""
        lo, hi = seg.start - self.span_s, seg.start + self.TOLERANCE_S
        return _JOIN.join(s.text for s in self._said if lo <= s.end <= hi)

    def add(self, seg: TranscriptSegment, hits: Sequence[KeywordHit]) -> None:
        """Remember ``seg`` if its own ``hits`` hold plain evidence."""
        if self.span_s <= 0 or not any(h.context == PLAIN for h in hits):
            return
        self._said.append(seg)
        horizon = seg.start - self.span_s - self.TOLERANCE_S
        while self._said and self._said[0].end < horizon:
            self._said.popleft()


def _read(seg: TranscriptSegment, match: MatchFn, context: SpeechContext | None) -> list[KeywordHit]:
    """Evidence hits of ``seg``; an ambiguous one becomes plain where the speech before corroborates it.

    Context only corroborates, it never excuses: a hit the segment alone reads as plain stays
    plain, whatever was said before (a streamer who says 理性消费 and then demands a supercar has
    demanded one).
    """
    own = evidence(match(seg.text))
    prefix = context.before(seg) if context is not None and any(h.context == AMBIGUOUS for h in own) else ""
    if context is not None:
        context.add(seg, own)
    if not prefix:
        return own
    base = len(prefix) + len(_JOIN)
    read = {
        (h.term, h.span[0] - base, h.span[1] - base): h
        for h in evidence(match(prefix + _JOIN + seg.text))
        if h.context == PLAIN
    }
    out = []
    for h in own:
        c = read.get((h.term, *h.span)) if h.context == AMBIGUOUS else None
        out.append(replace(h, weight=c.weight, context=PLAIN) if c is not None else h)
    return out


def transcript_signals(
    segments: Iterable[TranscriptSegment], match: MatchFn, context: SpeechContext | None = None
) -> list[Signal]:
    """``asr.keyword`` signals of ``segments`` (in time order); ``context`` (stateful, one per
    stream and transcript) lets the speech just before a segment corroborate its ambiguous terms."""
    out: list[Signal] = []
    for seg in segments:
        for hit in _read(seg, match, context):
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
