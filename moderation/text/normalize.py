"""Text normalisation that sees through evasion while remembering where every character came from.

Streamers dodge keyword filters with Traditional characters, full-width forms, zero-width joiners,
symbols between characters ("百.家.乐", "百 家 乐"), look-alike variants ("薇信") and pinyin or
homophones ("baijiale", "白家乐"). Matching therefore runs on two *views* of the text:

* the **character view** (``NormalizedText.text``): Traditional→Simplified (OpenCC ``t2s``), NFKC,
  casefold, zero-width characters removed, separator runs between CJK characters (and between
  spelled-out single letters) removed, other separator runs collapsed to one space, variants mapped;
* the **pinyin view** (``NormalizedText.pinyin``): every Han character replaced by its tone-less
  syllable, latin letters kept, everything else dropped.

Both views keep a map back to *original* string offsets, because a reviewer must see what was
actually said or shown (``KeywordHit.span`` indexes the original text). The pinyin view and its map
are computed lazily: most texts produce no pinyin candidate at all, and building the per-character
map is the expensive part.

Hot paths use ``str.translate`` with lazily-filled tables and regular expressions so that the
per-character work happens in C; Python only loops over separator runs that actually need a decision.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import chain, repeat
from typing import Any

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064\u034f\u200e\u200f")
#: Clause punctuation (after NFKC). A run containing one of these between multi-character words is a
#: real boundary ("以下，注意" must not become "以下注意"); a run of spaces or symbols is not.
_CLAUSE = frozenset(",。!?;:、…\n\r\"'()[]{}<>《》「」『』【】“”‘’")
_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{_HAN_CLASS}]")
_W = r"[^\W_]"  # a word character: letter, digit or Han, but not "_"
#: Separator runs that need a decision. A single space between two ASCII words of two or more
#: characters is left alone (identity), which keeps ordinary English text off the Python path.
_GAP_RE = re.compile(
    r"[\W_]{2,}|[^\w ]|_|(?<![a-z0-9][a-z0-9]) | (?![a-z0-9][a-z0-9])"
)
_WORD_RE = re.compile(_W)
_LATIN = frozenset("abcdefghijklmnopqrstuvwxyz")
_ALNUM_ASCII = _LATIN | frozenset("0123456789")


def is_han(ch: str) -> bool:
    """True for a CJK ideograph (the characters that have a pinyin reading)."""
    return _HAN_RE.match(ch) is not None


# --------------------------------------------------------------------------- lazily-built tables
_lock = threading.Lock()
_opencc: Any = None


def _converter() -> Any:
    """The OpenCC t2s converter, created on first use (loading dictionaries costs a few ms)."""
    global _opencc
    if _opencc is None:
        with _lock:
            if _opencc is None:
                import opencc

                _opencc = opencc.OpenCC("t2s")
    return _opencc


@cache
def _t2s_char(ch: str) -> str:
    out = str(_converter().convert(ch))
    return out if len(out) == 1 else ch


def to_simplified(text: str) -> str:
    """Traditional→Simplified with the length preserved, so offsets stay 1:1.

    OpenCC converts phrase by phrase; if a phrase rule changes the length we fall back to
    converting character by character, which is always 1:1 for the characters we keep.
    """
    if text.isascii():
        return text
    out = str(_converter().convert(text))
    if len(out) == len(text):
        return out
    return "".join(_t2s_char(ch) for ch in text)


class _CharTable(dict[int, str]):
    """ord → NFKC+casefold form ("" for zero-width), filled on demand by ``str.translate``."""

    def __init__(self) -> None:
        super().__init__()
        #: characters whose form is not exactly one character (these force the offset-tracking path)
        self.not_one_to_one: set[str] = set()

    def __missing__(self, key: int) -> str:
        ch = chr(key)
        out = "" if ch in _ZERO_WIDTH else unicodedata.normalize("NFKC", ch).casefold()
        out = "".join(c for c in out if c not in _ZERO_WIDTH)
        if len(out) != 1:
            self.not_one_to_one.add(ch)
        self[key] = out
        return out


_CHARS = _CharTable()


@cache
def _irregular_re(chars: frozenset[str]) -> re.Pattern[str]:
    """A character class of the characters known not to normalise 1:1 (grows rarely; cached)."""
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


@cache
def char_pinyin(ch: str) -> str:
    """Tone-less pinyin of one Han character (its most common reading), "" when unknown."""
    from pypinyin import lazy_pinyin

    syl = lazy_pinyin(ch, errors="ignore")
    out = syl[0] if syl else ""
    return out if out.isascii() and out.isalpha() else ""


def term_pinyins(term: str) -> set[str]:
    """Pinyin keys of a Han term: the phrase-aware reading and the per-character default.

    Text is converted character by character (for speed), so the per-character form must be a
    key; the phrase reading covers heteronyms a streamer would spell out in latin letters.
    """
    from pypinyin import lazy_pinyin

    keys = {"".join(lazy_pinyin(term)), "".join(char_pinyin(c) for c in term)}
    return {k for k in keys if k.isascii() and k.isalpha()}


class _PinyinTable(dict[int, str]):
    """ord → pinyin-view form: Han → syllable, a–z kept, everything else dropped."""

    def __missing__(self, key: int) -> str:
        ch = chr(key)
        out = ch if ch in _LATIN else (char_pinyin(ch) if is_han(ch) else "")
        self[key] = out
        return out


_PINYIN = _PinyinTable()
_ASCII_PINYIN = {c: None for c in range(128) if chr(c) not in _LATIN}


@cache
def _syllables() -> frozenset[str]:
    """All tone-less pinyin syllables that contain a vowel (from pypinyin's character dictionary)."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    out = set()
    for readings in pinyin_dict.values():
        for r in readings.split(","):
            s = to_normal(r, v_to_u=False)
            if s.isascii() and s.isalpha() and any(v in s for v in "aeiouv"):
                out.add(s)
    return frozenset(out)


@cache
def latin_boundaries(run: str) -> frozenset[int]:
    """Offsets inside a latin run where *some* full segmentation into pinyin syllables cuts.

    "baijiale" → {3, 6}. A run that cannot be segmented at all (an English word) has none, so a
    pinyin key never matches inside it.
    """
    syl = _syllables()
    n = len(run)
    fwd = [False] * (n + 1)
    fwd[0] = True
    for i in range(n):
        if fwd[i]:
            for k in range(1, min(6, n - i) + 1):
                if run[i : i + k] in syl:
                    fwd[i + k] = True
    bwd = [False] * (n + 1)
    bwd[n] = True
    for i in range(n - 1, -1, -1):
        bwd[i] = any(bwd[i + k] and run[i : i + k] in syl for k in range(1, min(6, n - i) + 1))
    return frozenset(p for p in range(1, n) if fwd[p] and bwd[p])


# --------------------------------------------------------------------------- result type
NONE, SOFT, HARD = 0, 1, 2


@dataclass
class NormalizedText:
    """The character view of a text plus maps back to the original.

    ``starts[i]``/``ends[i]`` give the original ``[start, end)`` that produced ``text[i]``; a span
    ``[s, e)`` of ``text`` maps to ``original[starts[s]:ends[e - 1]]``. The pinyin view is built on
    first access.
    """

    original: str
    text: str
    starts: list[int]
    ends: list[int]
    _pinyin_map: list[int] | None = field(default=None, repr=False)
    _pinyin: str | None = field(default=None, repr=False)

    def span(self, s: int, e: int) -> tuple[int, int]:
        """Original span of character-view span ``[s, e)``."""
        return self.starts[s], self.ends[e - 1]

    @property
    def pinyin(self) -> str:
        """The pinyin view (C-speed ``translate``; its offset map is only built when needed)."""
        if self._pinyin is None:
            t = self.text
            self._pinyin = t.translate(_ASCII_PINYIN) if t.isascii() else t.translate(_PINYIN)
        return self._pinyin

    @property
    def pinyin_map(self) -> list[int]:
        """``pinyin_map[k]`` = character-view index that produced pinyin character ``k``."""
        if self._pinyin_map is None:
            lens = map(len, map(_PINYIN.__getitem__, map(ord, self.text)))
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
        while a > 0 and self.text[a - 1] in _LATIN:
            a -= 1
        b = j2
        while b < len(self.text) and self.text[b] in _LATIN:
            b += 1
        return SOFT if j2 - a in latin_boundaries(self.text[a:b]) else NONE

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


# --------------------------------------------------------------------------- normaliser
class Normalizer:
    """Builds :class:`NormalizedText`; holds the compiled variant map (e.g. 薇信 → 微信).

    Variant keys and values are themselves normalised, so the table can be written in any form.
    """

    def __init__(self, variants: Mapping[str, str] | None = None) -> None:
        self.variants: dict[str, str] = {}
        for k, v in (variants or {}).items():
            nk, nv = self._base(k).text, self._base(v).text
            if nk and nk != nv:
                self.variants[nk] = nv
        self._variant_ac: Any = None
        if self.variants:
            import ahocorasick

            self._variant_ac = ahocorasick.Automaton()
            for k in self.variants:
                self._variant_ac.add_word(k, k)
            self._variant_ac.make_automaton()

    def __call__(self, text: str) -> NormalizedText:
        return self.normalize(text)

    def normalize(self, text: str) -> NormalizedText:
        """Character view of ``text`` with offsets into ``text``."""
        nt = self._base(text)
        if self._variant_ac is not None:
            found = self._variants_in(nt.text)
            if found:
                nt = self._apply_variants(nt, found)
        return nt

    def _variants_in(self, t: str) -> list[tuple[int, int]]:
        """Leftmost-longest, non-overlapping variant keys; latin edges need word boundaries."""
        out: list[tuple[int, int]] = []
        last = 0
        for end, k in self._variant_ac.iter_long(t):
            a, b = end - len(k) + 1, end + 1
            if a < last:
                continue
            if (k[0] in _ALNUM_ASCII and a > 0 and t[a - 1] in _ALNUM_ASCII) or (
                k[-1] in _ALNUM_ASCII and b < len(t) and t[b] in _ALNUM_ASCII
            ):
                continue
            out.append((a, b))
            last = b
        return out

    @staticmethod
    def _base(text: str) -> NormalizedText:
        if text.isascii():  # NFKC is the identity and casefold is lower() for ASCII
            n = len(text)
            return _collapse_separators(text, text.lower(), list(range(n)), list(range(1, n + 1)))
        conv = to_simplified(text)
        mapped = conv.translate(_CHARS)
        if len(mapped) == len(conv) and (
            not _CHARS.not_one_to_one or _CHARS.not_one_to_one.isdisjoint(conv)
        ):
            starts = list(range(len(conv)))
            ends = list(range(1, len(conv) + 1))
        else:  # expansions or deletions (zero-width, "ß"...): copy 1:1 stretches between them
            parts: list[str] = []
            starts, ends = [], []
            pos = 0
            for mt in _irregular_re(frozenset(_CHARS.not_one_to_one)).finditer(conv):
                i = mt.start()
                parts.append(conv[pos:i].translate(_CHARS))
                starts.extend(range(pos, i))
                ends.extend(range(pos + 1, i + 1))
                m = _CHARS[ord(conv[i])]
                parts.append(m)
                starts.extend([i] * len(m))
                ends.extend([i + 1] * len(m))
                pos = i + 1
            parts.append(conv[pos:].translate(_CHARS))
            starts.extend(range(pos, len(conv)))
            ends.extend(range(pos + 1, len(conv) + 1))
            mapped = "".join(parts)
        return _collapse_separators(text, mapped, starts, ends)

    def _apply_variants(self, nt: NormalizedText, found: list[tuple[int, int]]) -> NormalizedText:
        parts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        for a, b in found:
            parts.append(nt.text[pos:a])
            starts.extend(nt.starts[pos:a])
            ends.extend(nt.ends[pos:a])
            rep = self.variants[nt.text[a:b]]
            parts.append(rep)
            if len(rep) == b - a:
                starts.extend(nt.starts[a:b])
                ends.extend(nt.ends[a:b])
            else:
                starts.extend([nt.starts[a]] * len(rep))
                ends.extend([nt.ends[b - 1]] * len(rep))
            pos = b
        parts.append(nt.text[pos:])
        starts.extend(nt.starts[pos:])
        ends.extend(nt.ends[pos:])
        return NormalizedText(nt.original, "".join(parts), starts, ends)


def _lone(m: str, i: int, j: int) -> bool:
    """Whether ``m[i]`` is a one-character token on the side of ``m[j]`` (its neighbour away from the
    gap): the neighbour is outside the string or not a word character; a latin letter next to Han
    also counts, so "们A_I" still treats "A" as a spelled-out letter."""
    if j < 0 or j >= len(m) or not _WORD_RE.match(m, j):
        return True
    return not is_han(m[i]) and is_han(m[j])


def _collapse_separators(original: str, m: str, starts: list[int], ends: list[int]) -> NormalizedText:
    """Remove or collapse separator runs; see the module docstring for the rules."""
    parts: list[str] = []
    st: list[int] = []
    en: list[int] = []
    pos = 0
    n = len(m)
    for g in _GAP_RE.finditer(m):
        a, b = g.span()
        parts.append(m[pos:a])
        st.extend(starts[pos:a])
        en.extend(ends[pos:a])
        pos = b
        if a == 0 or b == n:  # leading / trailing separators carry nothing
            continue
        left, right = m[a - 1], m[b]
        single = _lone(m, a - 1, a - 2) and _lone(m, b, b + 1)
        # next to Han: join unless clause punctuation separates real words; latin: only spelled letters
        join = single or ((is_han(left) or is_han(right)) and _CLAUSE.isdisjoint(m[a:b]))
        if not join:
            parts.append(" ")
            st.append(starts[a])
            en.append(ends[b - 1])
    parts.append(m[pos:])
    st.extend(starts[pos:])
    en.extend(ends[pos:])
    return NormalizedText(original, "".join(parts), st, en)


_default: Normalizer | None = None


def normalize(text: str) -> NormalizedText:
    """Normalise with no variant map (the matcher uses a :class:`Normalizer` with the lexicon's)."""
    global _default
    if _default is None:
        _default = Normalizer()
    return _default.normalize(text)
