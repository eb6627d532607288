"""Clause and sentence bounds in a normalised view: the unit the context rules judge a hit in.

A clause is the text between clause punctuation (full-width forms are ASCII after NFKC), or the
space normalisation leaves between two Han characters where punctuation or a pictograph stood; a
sentence is the text between sentence ends. Spans are ``[start, end)`` offsets into the view.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache

from moderation.text.pinyin import HAN_CLASS

__all__ = ["CLAUSE_RE", "SENTENCE_CLASS", "SENTENCE_RE", "clause_bounds"]

_CLAUSE_CLASS = r"[,.!?;:\n\r…。、\"'()\[\]{}<>《》「」『』【】“”‘’|]"
SENTENCE_CLASS = r"[.!?;\n\r…。]"
#: The space normalisation keeps between two Han characters: it stands for clause punctuation (or a
#: pictograph), since every other separator between Han characters is removed ("以下，注意" → "以下 注意").
_HAN_GAP = f"(?<=[{HAN_CLASS}]) (?=[{HAN_CLASS}])"
#: Clause punctuation in the normalised character view (NFKC has turned full-width forms to ASCII),
#: and the space that replaced it between Han words.
CLAUSE_RE = re.compile(f"{_CLAUSE_CLASS}+|{_HAN_GAP}")

#: Sentence ends: a regulatory or news frame covers its whole sentence ("公安机关破获一起案件，涉案
#:人员组织网络赌博"), a negation only its clause.
SENTENCE_RE = re.compile(SENTENCE_CLASS + "+")

#: For each run pattern, one that matches up to just after its last character before a position
#: (greedy ``.*`` backs off to it in C; the end of the last run before the position). Clauses are
#: found with the punctuation runs here and the Han gaps by their own patterns below.
_PUNCT_RE = re.compile(_CLAUSE_CLASS + "+")
_LAST = {_PUNCT_RE: re.compile("(?s:.*)" + _CLAUSE_CLASS), SENTENCE_RE: re.compile("(?s:.*)" + SENTENCE_CLASS)}
#: The Han gaps alone, and the last one before a position (lookbehind sees before a search's start).
_GAP_RE = re.compile(_HAN_GAP)
_GAP_LAST = re.compile("(?s:.*)" + _HAN_GAP)


def clause_bounds(view: str, s: int, e: int, rx: re.Pattern[str] = CLAUSE_RE) -> tuple[int, int]:
    """``[a, b)`` of the clause of ``view`` holding ``[s, e)`` (a span across punctuation widens it):
    ``a`` just after the last boundary character before ``s``, ``b`` at the first one from ``e``."""
    if len(view) > _LONG:
        starts, ends = _boundaries(view, rx)
        k = bisect_left(starts, s) - 1  # the last boundary run that starts before s
        j = bisect_right(ends, e)  # the first one that reaches past e
        return (min(ends[k], s) if k >= 0 else 0), (max(starts[j], e) if j < len(starts) else len(view))
    han_gaps = rx is CLAUSE_RE
    if han_gaps and view.isascii():  # no Han, so no Han gap
        rx, han_gaps = _PUNCT_RE, False
    if han_gaps:
        rx = _PUNCT_RE
    last = _LAST.get(rx)
    if last is not None:
        m = last.match(view, 0, s)
        a = m.end() if m is not None else 0
    else:
        a = 0
        for m in rx.finditer(view, 0, s):
            a = m.end()
    m2 = rx.search(view, e)
    b = m2.start() if m2 else len(view)
    if han_gaps and " " in view:
        m = _GAP_LAST.match(view, a, s + 1)  # the gap's space before s (its right-hand Han at s latest)
        if m is not None:
            a = m.end()
        m2 = _GAP_RE.search(view, e, b)
        if m2 is not None:
            b = m2.start()
    return a, b


#: Above this many characters, :func:`clause_bounds` bisects a list of the text's boundaries (built
#: once per text) instead of searching back from the span: a regex's ``.*`` backs off over the
#: whole clause before the span on every call, quadratic in a long transcript or document.
_LONG = 512


@lru_cache(maxsize=8)
def _boundaries(view: str, rx: re.Pattern[str]) -> tuple[list[int], list[int]]:
    """Starts and ends of the boundary runs of ``view`` found by ``rx`` (punctuation runs, and for
    :data:`CLAUSE_RE` the Han gaps too), in order."""
    spans = [m.span() for m in rx.finditer(view)]
    return [a for a, _ in spans], [b for _, b in spans]
