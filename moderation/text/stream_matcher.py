"""Matching consecutive text chunks (ASR windows, OCR lines) so terms split across chunks are found."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from moderation.messages import KeywordHit
from moderation.text.matcher import KeywordMatcher


@dataclass(frozen=True)
class StreamHit:
    """A hit found while scanning a stream of chunks.

    ``hit.span`` indexes ``text``, which is the kept tail of the previous chunk, one space, and the
    current chunk; ``t`` is the estimated media time of the hit's first character.
    """

    hit: KeywordHit
    text: str
    t: float


class StreamTextMatcher:
    """Matches consecutive text chunks (ASR windows, OCR lines) so terms split across chunks are found.

    The last ``tail_chars`` characters of what was scanned are kept and prepended (with a space, which
    the normaliser drops between CJK characters) to the next chunk. Hits lying entirely inside the
    tail were already reported (or suppressed, with more context) by the previous call and are
    dropped; a hit overlapping one already reported for the same category is dropped too, so a term
    is reported once. Terms spread over more than ``tail_chars`` characters may be missed.
    """

    def __init__(self, matcher: KeywordMatcher, tail_chars: int = 32) -> None:
        self.matcher = matcher
        self.tail_chars = tail_chars
        self.reset()

    def reset(self) -> None:
        """Forget the previous chunk (a stream restart or a gap in the media timeline)."""
        self._tail = ""
        self._tail_times: list[float] = []
        self._base = 0  # absolute index (in the virtual " "-joined stream) of the tail's first char
        self._reported: deque[tuple[str, int, int]] = deque(maxlen=256)

    def feed(self, text: str, start: float, end: float) -> list[StreamHit]:
        """Scan one chunk spanning media time ``[start, end]``; returns only new hits."""
        tail = self._tail
        combined = f"{tail} {text}" if tail else text
        off = len(combined) - len(text)
        tail_times = self._tail_times

        def t_of(p: int) -> float:
            if p < len(tail):
                return tail_times[p]
            frac = (p - off) / len(text) if text else 0.0
            return start + max(0.0, frac) * (end - start)

        out: list[StreamHit] = []
        for hit in self.matcher.match(combined):
            s, e = hit.span
            if e <= len(tail):
                continue
            a_s, a_e = self._base + s, self._base + e
            if any(c == hit.category and a_s < re_ and rs < a_e for c, rs, re_ in self._reported):
                continue
            self._reported.append((hit.category, a_s, a_e))
            out.append(StreamHit(hit, combined, t_of(s)))
        keep = min(self.tail_chars, len(combined))
        first = len(combined) - keep
        self._tail = combined[first:]
        self._tail_times = [t_of(p) for p in range(first, len(combined))]
        self._base += first
        # the next combined text inserts one joiner space after the tail
        return out
