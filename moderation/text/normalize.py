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
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from moderation.text.pinyin import HAN_LO as _HAN_LO
from moderation.text.pinyin import LATIN as _LATIN
from moderation.text.pinyin import (
    char_pinyin,
    is_han,
    latin_boundaries,
    term_pinyins,
)
from moderation.text.view import HARD, NONE, SOFT, NormalizedText, Offsets

__all__ = [
    "HARD",
    "NONE",
    "SOFT",
    "NormalizedText",
    "Normalizer",
    "char_pinyin",
    "is_han",
    "latin_boundaries",
    "normalize",
    "term_pinyins",
    "to_simplified",
]

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064\u034f\u200e\u200f")
#: Clause punctuation (after NFKC). A run containing one of these between multi-character words is a
#: real boundary ("以下，注意" must not become "以下注意"); a run of spaces or symbols is not.
_CLAUSE = frozenset(",。!?;:、…\n\r\"'()[]{}<>《》「」『』【】“”‘’")
#: Pictographs (emoji, dingbats) that the lexicon does not spell as words. Between words they are
#: tokens of their own, like a word the matcher does not know: "开心😂博主" does not become 开心博主
#: (emoji the lexicon maps, 🚀 → 火箭, are words before this point). After a one-character token they
#: are filler like any other symbol: "约🔥吗" is spelled out, and so is a term cut by one emoji in the
#: middle of a longer run ("约❤炮吗", "加😘微信"), since nobody writes a lone character and then an
#: emoji as a sentence. An emoji the lexicon spells as a word is filler too where it is used as one:
#: the same emoji between one-character tokens again and again ("加🌹微🌹信"), see
#: :func:`_emoji_chain_re`.
_PICTOGRAPHS = frozenset(
    chr(c)
    for lo, hi in ((0x2190, 0x21FF), (0x2300, 0x27BF), (0x2B00, 0x2BFF), (0x1F000, 0x1FAFF))
    for c in range(lo, hi + 1)
)
#: Runs next to Han that are a boundary between words (clause punctuation, pictographs).
_BOUNDARY = _CLAUSE | _PICTOGRAPHS
#: A run holding one of these is a kept boundary even between one-character tokens: sentence
#: punctuation ("输！赢？" are two sentences). Evasive separators (".", "-", "*", spaces, pictographs)
#: are not in it, so "赌 . 博", "博-彩" and "b o c a i" still collapse.
_STOP = frozenset("。!?;\n\r")
#: Commas join one-character tokens only in a chain of three or more ("百，家，乐" is spelled out);
#: two lone characters on either side of one comma are two clauses ("对，博" does not make 对博).
_COMMAS = frozenset(",、")
#: Separator runs that need a decision. A single space between two ASCII words of two or more
#: characters is left alone (identity), which keeps ordinary English text off the Python path.
#: Written as one leading character class (then the cases) so the regex engine can skip ahead fast;
#: equivalent to ``[\W_]{2,}|[^\w ]|_|(?<![a-z0-9][a-z0-9]) | (?![a-z0-9][a-z0-9])``.
_GAP_RE = re.compile(r"[\W_](?:[\W_]+|(?<! )|(?<![a-z0-9][a-z0-9] )|(?![a-z0-9][a-z0-9]))")
_ALNUM_ASCII = _LATIN | frozenset("0123456789")


# --------------------------------------------------------------------------- lazily-built tables
_lock = threading.Lock()
_opencc: Any = None
_CLIB_CONVERT: Any = None


def _converter() -> Any:
    """The OpenCC t2s converter, created on first use (loading dictionaries costs a few ms)."""
    global _opencc
    if _opencc is None:
        with _lock:
            if _opencc is None:
                import opencc

                global _CLIB_CONVERT
                _CLIB_CONVERT = opencc.opencc_clib._OpenCC.convert
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
    raw = text.encode("utf-8")
    cc = _opencc or _converter()
    out = str(_CLIB_CONVERT(cc, raw, len(raw)))  # the C method, without the wrapper's Python frame
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
        if len(out) == 1 and not out.isascii():
            out = _fold_tone(out)
        if len(out) != 1:
            self.not_one_to_one.add(ch)
        self[key] = out
        return out

    def with_words(self, words: Mapping[str, str]) -> _CharTable:
        """A table that also spells some symbols as words (🚀 → 火箭), for one normaliser."""
        table = _CharTable()
        for ch, word in words.items():
            table[ord(ch)] = word
            if len(word) != 1:
                table.not_one_to_one.add(ch)
        return table


def _fold_tone(ch: str) -> str:
    """Latin letter with tone marks or other diacritics → the bare letter ("ǎ" → "a", "ü" → "v",
    the way pinyin is typed), so tone-marked pinyin matches like plain pinyin."""
    if ch in "üǖǘǚǜ":
        return "v"
    base = unicodedata.normalize("NFD", ch)
    if len(base) > 1 and base[0] in _LATIN and all(unicodedata.combining(c) for c in base[1:]):
        return base[0]
    return ch


_CHARS = _CharTable()


@cache
def _irregular_re(chars: frozenset[str]) -> re.Pattern[str]:
    """A character class of the characters known not to normalise 1:1 (grows rarely; cached)."""
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


# --------------------------------------------------------------------------- normaliser
class Normalizer:
    """Builds :class:`NormalizedText`; holds the compiled variant map (e.g. 薇信 → 微信).

    Variant keys and values are themselves normalised, so the table can be written in any form.
    """

    def __init__(self, variants: Mapping[str, str] | None = None, emoji: Mapping[str, str] | None = None) -> None:
        # symbols spelled as words (🚀 → 火箭) take the slower offset-tracking path, so that table is
        # used only for texts that contain one of them
        self._emoji_chars = _CHARS.with_words(emoji) if emoji else None
        self._emoji_re = re.compile("[" + "".join(re.escape(c) for c in emoji) + "]") if emoji else None
        self._emoji_chain = _emoji_chain_re(emoji) if emoji else None
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
        chars = _CHARS
        if self._emoji_re is not None and not text.isascii() and self._emoji_re.search(text):
            assert self._emoji_chars is not None
            chars = self._emoji_chars
            assert self._emoji_chain is not None
            source = _unchained(self._emoji_chain, text)
            if source != text:
                return self._with_variants(self._base(text, chars, source))
        return self._with_variants(self._base(text, chars))

    def from_mapped(self, text: str, mapped: str) -> NormalizedText:
        """What :meth:`normalize` returns for ``text`` when converting and translating it gave
        ``mapped`` character for character (the batch matcher computes that for many texts at once)."""
        return self._with_variants(_collapse_separators(text, mapped, None))

    def _with_variants(self, nt: NormalizedText) -> NormalizedText:
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
    def _base(text: str, chars: _CharTable = _CHARS, source: str | None = None) -> NormalizedText:
        """Character view of ``text``, converted from ``source`` (``text`` with some characters
        swapped one for one) when given."""
        if text.isascii():  # NFKC is the identity and casefold is lower() for ASCII
            return _collapse_separators(text, text.lower(), None)
        conv = to_simplified(source or text)
        mapped = conv.translate(chars)
        if len(mapped) == len(conv) and (not chars.not_one_to_one or chars.not_one_to_one.isdisjoint(conv)):
            return _collapse_separators(text, mapped, None)
        # expansions or deletions (zero-width, "ß"...): copy 1:1 stretches between them
        parts: list[str] = []
        irregular: list[tuple[int, int]] = []  # (index in conv, length of its form)
        pos = 0
        for mt in _irregular_re(frozenset(chars.not_one_to_one)).finditer(conv):
            i = mt.start()
            parts.append(conv[pos:i].translate(chars))
            m = chars[ord(conv[i])]
            parts.append(m)
            irregular.append((i, len(m)))
            pos = i + 1
        parts.append(conv[pos:].translate(chars))
        n = len(conv)

        def offsets() -> Offsets:
            starts: list[int] = []
            ends: list[int] = []
            p = 0
            for i, k in irregular:
                starts.extend(range(p, i))
                ends.extend(range(p + 1, i + 1))
                starts.extend([i] * k)
                ends.extend([i + 1] * k)
                p = i + 1
            starts.extend(range(p, n))
            ends.extend(range(p + 1, n + 1))
            return starts, ends

        return _collapse_separators(text, "".join(parts), offsets)

    def _apply_variants(self, nt: NormalizedText, found: list[tuple[int, int]]) -> NormalizedText:
        parts: list[str] = []
        reps: list[str] = []
        pos = 0
        src = nt.text
        for a, b in found:
            parts.append(src[pos:a])
            rep = self.variants[src[a:b]]
            parts.append(rep)
            reps.append(rep)
            pos = b
        parts.append(src[pos:])

        def offsets() -> Offsets:
            st0, en0 = nt.offsets()
            starts: list[int] = []
            ends: list[int] = []
            p = 0
            for (a, b), rep in zip(found, reps, strict=True):
                starts.extend(st0[p:a])
                ends.extend(en0[p:a])
                if len(rep) == b - a:
                    starts.extend(st0[a:b])
                    ends.extend(en0[a:b])
                else:
                    starts.extend([st0[a]] * len(rep))
                    ends.extend([en0[b - 1]] * len(rep))
                p = b
            starts.extend(st0[p:])
            ends.extend(en0[p:])
            return starts, ends

        return NormalizedText(nt.original, "".join(parts), offsets=offsets)


#: An unmapped pictograph that stands in for a mapped emoji used as a separator (one for one, so
#: offsets are unchanged).
_FILLER = "\u2b1a"
#: Han characters, for the separator-chain pattern.
_HAN_CLASS = "\u3400-\u9fff\uf900-\ufaff"


def _emoji_chain_re(emoji: Mapping[str, str]) -> re.Pattern[str]:
    """One mapped emoji between one-character Han tokens at least twice ("加🌹微🌹信"): the emoji is a
    separator there, not the word it spells elsewhere ("送个🌹" is a rose)."""
    keys = "".join(re.escape(c) for c in emoji if len(c) == 1 and c != _FILLER)
    han = f"[{_HAN_CLASS}]"
    return re.compile(rf"{han}([{keys}])\ufe0f?{han}(?:\1\ufe0f?{han})+")


def _unchained(chain: re.Pattern[str], text: str) -> str:
    """``text`` with every emoji of a separator chain replaced by :data:`_FILLER`."""
    return chain.sub(lambda mt: mt.group(0).replace(mt.group(1), _FILLER), text)


def _lone(m: str, i: int, j: int) -> bool:
    """Whether ``m[i]`` is a one-character token on the side of ``m[j]`` (its neighbour away from the
    gap): the neighbour is outside the string or not a word character; a latin letter next to Han
    also counts, so "们A_I" still treats "A" as a spelled-out letter."""
    if j < 0 or j >= len(m) or not m[j].isalnum():  # isalnum() is exactly the class [^\W_]
        return True
    return not is_han(m[i]) and is_han(m[j])


def _spelled_out(m: str, a: int, b: int) -> bool:
    """Whether the separator run ``m[a:b]`` between two one-character tokens is evasive spacing
    rather than a sentence or clause boundary (see :data:`_STOP` and :data:`_COMMAS`)."""
    gap = m[a:b]
    if not _STOP.isdisjoint(gap):
        return False
    if _COMMAS.isdisjoint(gap):
        return True
    # a third one-character token right across the next separator on either side, and that
    # separator a comma too: "冲 冲 冲，票 砸" is two spaced-out clauses, not one comma chain
    return _comma_run(m, a - 2, -1) or _comma_run(m, b + 1, 1)


def _comma_run(m: str, i: int, step: int) -> bool:
    """Whether a separator run holding a comma starts at ``m[i]`` (going in direction ``step``) and
    ends at a word character: the next link of a comma chain."""
    seen = False
    while 0 <= i < len(m) and not m[i].isalnum():
        seen = seen or m[i] in _COMMAS
        i += step
    return seen and 0 <= i < len(m)


def _collapse_separators(original: str, m: str, base: Callable[[], Offsets] | None) -> NormalizedText:
    """Remove or collapse separator runs; see the module docstring for the rules.

    Only the decisions are made here; the offset maps are composed lazily from ``base`` (the
    offsets of ``m`` in ``original``; None when ``m`` maps 1:1 onto it) when a hit needs them.
    """
    gaps: list[tuple[int, int, bool]] = []  # (start, end, keep one space)
    parts: list[str] = []
    n = len(m)
    pos = 0
    for g in _GAP_RE.finditer(m):
        a, b = g.span()
        parts.append(m[pos:a])
        pos = b
        if a == 0 or b == n:  # leading / trailing separators carry nothing
            gaps.append((a, b, False))
            continue
        # next to Han: join unless clause punctuation separates real words; latin: only spelled
        # letters (one-character tokens on both sides) are joined. Cheapest tests first: a Han
        # character with a word character before it is no one-letter token, so a gap after it that
        # does not join Han text is kept (most Chinese punctuation) without the general test.
        left, right = m[a - 1], m[b]
        if (left >= _HAN_LO or right >= _HAN_LO) and _BOUNDARY.isdisjoint(m[a:b]) and (is_han(left) or is_han(right)):
            gaps.append((a, b, False))
        elif a >= 2 and left >= _HAN_LO and m[a - 2].isalnum() and is_han(left):
            gaps.append((a, b, True))  # _lone(m, a - 1, a - 2) is False: a Han word ends here
            parts.append(" ")
        elif _lone(m, a - 1, a - 2) and _lone(m, b, b + 1) and _spelled_out(m, a, b):
            gaps.append((a, b, False))
        elif is_han(left) and is_han(right) and _CLAUSE.isdisjoint(m[a:b]):
            # a pictograph run after a lone Han character (a Han word before it took the branch
            # above): one emoji cutting a term that more text follows ("约❤炮吗")
            gaps.append((a, b, False))
        else:
            gaps.append((a, b, True))
            parts.append(" ")
    if not gaps:
        return NormalizedText(original, m, offsets=base)
    parts.append(m[pos:])

    def offsets() -> Offsets:
        st: list[int] = []
        en: list[int] = []
        p = 0
        if base is None:  # starts[i] == i, ends[i] == i + 1: no lists to copy from
            for a, b, keep in gaps:
                st.extend(range(p, a))
                en.extend(range(p + 1, a + 1))
                if keep:
                    st.append(a)
                    en.append(b)
                p = b
            st.extend(range(p, n))
            en.extend(range(p + 1, n + 1))
            return st, en
        starts, ends = base()
        for a, b, keep in gaps:
            st.extend(starts[p:a])
            en.extend(ends[p:a])
            if keep:
                st.append(starts[a])
                en.append(ends[b - 1])
            p = b
        st.extend(starts[p:])
        en.extend(ends[p:])
        return st, en

    return NormalizedText(original, "".join(parts), offsets=offsets)


_default: Normalizer | None = None


def normalize(text: str) -> NormalizedText:
    """Normalise with no variant map (the matcher uses a :class:`Normalizer` with the lexicon's)."""
    global _default
    if _default is None:
        _default = Normalizer()
    return _default.normalize(text)
