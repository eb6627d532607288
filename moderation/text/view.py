"""The result of normalisation: the character view, lazily-built offset maps and the pinyin view.

Split from :mod:`moderation.text.normalize` (which re-exports :class:`NormalizedText`).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain, repeat

from moderation.text.pinyin import ASCII_DROP, LATIN, PINYIN_TABLE, is_han, latin_boundaries, latin_required_cuts

# --------------------------------------------------------------------------- result type
NONE, SOFT, HARD = 0, 1, 2


Offsets = tuple[list[int], list[int]]


def identity_offsets(n: int) -> Callable[[], Offsets]:
    """Offsets of a text that maps 1:1 onto its original (built only when asked for)."""
    return lambda: (list(range(n)), list(range(1, n + 1)))


class NormalizedText:
    """The character view of a text plus maps back to the original.

    ``starts[i]``/``ends[i]`` give the original ``[start, end)`` that produced ``text[i]``; a span
    ``[s, e)`` of ``text`` maps to ``original[starts[s]:ends[e - 1]]``. The offset maps and the
    pinyin view are built on first access: most texts have no candidate hit, and building
    per-character lists is what used to dominate matching time.
    """

    __slots__ = ("_ends", "_offsets", "_pinyin", "_pinyin_map", "_starts", "original", "text")

    def __init__(
        self,
        original: str,
        text: str,
        starts: list[int] | None = None,
        ends: list[int] | None = None,
        *,
        offsets: Callable[[], Offsets] | None = None,
    ) -> None:
        self.original = original
        self.text = text
        self._starts = starts
        self._ends = ends
        self._offsets = offsets
        self._pinyin: str | None = None
        self._pinyin_map: list[int] | None = None
        if starts is None and offsets is None:
            self._offsets = identity_offsets(len(text))

    def __repr__(self) -> str:
        return f"NormalizedText({self.original!r} -> {self.text!r})"

    def offsets(self) -> Offsets:
        """``(starts, ends)``, computed on first use."""
        if self._starts is None or self._ends is None:
            assert self._offsets is not None
            self._starts, self._ends = self._offsets()
            self._offsets = None
        return self._starts, self._ends

    @property
    def starts(self) -> list[int]:
        return self.offsets()[0]

    @property
    def ends(self) -> list[int]:
        return self.offsets()[1]

    def span(self, s: int, e: int) -> tuple[int, int]:
        """Original span of character-view span ``[s, e)``."""
        st, en = self.offsets()
        return st[s], en[e - 1]

    @property
    def pinyin(self) -> str:
        """The pinyin view (C-speed ``translate``; its offset map is only built when needed)."""
        if self._pinyin is None:
            t = self.text
            if t.isascii():
                self._pinyin = t.encode("ascii").translate(None, ASCII_DROP).decode("ascii")
            else:
                self._pinyin = t.translate(PINYIN_TABLE)
        return self._pinyin

    @property
    def pinyin_map(self) -> list[int]:
        """``pinyin_map[k]`` = character-view index that produced pinyin character ``k``."""
        if self._pinyin_map is None:
            lens = map(len, map(PINYIN_TABLE.__getitem__, map(ord, self.text)))
            self._pinyin_map = list(chain.from_iterable(map(repeat, range(len(self.text)), lens)))
        return self._pinyin_map

    def pinyin_span(self, s: int, e: int) -> tuple[int, int]:
        """Original span of pinyin-view span ``[s, e)``."""
        pmap = self.pinyin_map
        return self.starts[pmap[s]], self.ends[pmap[e - 1]]

    def pinyin_boundary(self, p: int) -> int:
        """How strong a syllable boundary pinyin position ``p`` is: NONE, SOFT or HARD.

        HARD: text edge, a Han syllable edge, or something (space, digit, symbol) dropped between.
        SOFT: inside a latin run at a point where it can be segmented into pinyin syllables.
        """
        pmap = self.pinyin_map
        if p <= 0 or p >= len(pmap):
            return HARD
        j1, j2 = pmap[p - 1], pmap[p]
        if j1 == j2:
            return NONE
        if j2 != j1 + 1 or is_han(self.text[j1]) or is_han(self.text[j2]):
            return HARD
        a = j1
        while a > 0 and self.text[a - 1] in LATIN:
            a -= 1
        b = j2
        while b < len(self.text) and self.text[b] in LATIN:
            b += 1
        return SOFT if j2 - a in latin_boundaries(self.text[a:b]) else NONE

    def pinyin_cut_required(self, p: int) -> bool:
        """Whether every pinyin segmentation of the latin run around ``p`` cuts there (run-on
        pinyin such as "zhaowoxiazhu" read without guessing)."""
        pmap = self.pinyin_map
        if p <= 0 or p >= len(pmap):
            return True
        j1, j2 = pmap[p - 1], pmap[p]
        if j2 != j1 + 1 or self.text[j1] not in LATIN or self.text[j2] not in LATIN:
            return self.pinyin_boundary(p) == HARD
        a = j1
        while a > 0 and self.text[a - 1] in LATIN:
            a -= 1
        b = j2
        while b < len(self.text) and self.text[b] in LATIN:
            b += 1
        return j2 - a in latin_required_cuts(self.text[a:b])

    def pinyin_sources(self, s: int, e: int) -> list[str]:
        """The character-view characters behind pinyin span ``[s, e)`` (one per source char)."""
        pmap = self.pinyin_map
        return [self.text[j] for j in sorted(set(pmap[s:e]))]

    def pinyin_crosses_clause(self, s: int, e: int) -> bool:
        """Whether the span crosses a kept space between two Han characters (a clause boundary such
        as "以下，注意" that ordinary Chinese would not have inside one term)."""
        pmap = self.pinyin_map
        seg = self.text[pmap[s] : pmap[e - 1] + 1]
        i = seg.find(" ")
        while i != -1:
            if 0 < i < len(seg) - 1 and is_han(seg[i - 1]) and is_han(seg[i + 1]):
                return True
            i = seg.find(" ", i + 1)
        return False
