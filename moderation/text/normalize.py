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
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from moderation.text.pinyin import LATIN as _LATIN
from moderation.text.pinyin import (
    char_pinyin,
    is_han,
    latin_boundaries,
    term_pinyins,
)
from moderation.text.separators import _collapse_separators, collapse_ascii
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
_ALNUM_ASCII = _LATIN | frozenset("0123456789")
#: The first character outside the Basic Multilingual Plane.
_ASTRAL = "\U00010000"


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
    out = str(_CLIB_CONVERT(cc, raw, len(raw)))  # as convert_phrases, without a call between
    if len(out) == len(text):
        return out
    return "".join(_t2s_char(ch) for ch in text)


def convert_phrases(text: str) -> str:
    """OpenCC's own Traditional→Simplified conversion (phrase by phrase; may change the length)."""
    raw = text.encode("utf-8")
    cc = _opencc or _converter()
    return str(_CLIB_CONVERT(cc, raw, len(raw)))  # the C method, without the wrapper's Python frame


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


def _automaton(keys: Iterable[str]) -> Any:
    """An Aho–Corasick automaton whose values are its keys (None without keys)."""
    keys = list(keys)
    if not keys:
        return None
    import ahocorasick

    ac = ahocorasick.Automaton()
    for k in keys:
        ac.add_word(k, k)
    ac.make_automaton()
    return ac


def _keys_in(ac: Any, t: str) -> list[tuple[int, int]]:
    """Spans of the leftmost-longest, non-overlapping keys of ``ac`` (None: no keys) in ``t``; a
    key that begins or ends with a latin letter or digit needs a word boundary there."""
    out: list[tuple[int, int]] = []
    last = 0
    if ac is None:
        return out
    for end, k in ac.iter_long(t):
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


#: Characters either side of a spelling that :func:`_stands_alone` segments with it.
_WORD_WINDOW = 12


def _han_only(t: str, a: int, b: int) -> bool:
    return all(is_han(c) for c in t[a:b])


def _stands_alone(t: str, a: int, b: int) -> bool:
    """Whether ``t[a:b]`` begins and ends on word edges of its neighbourhood (no dictionary word
    runs across them): a homophone spelling made of Han characters is read as the word it sounds
    like only then ("时间长" holds 间长, but 时间 claims its 间)."""
    from moderation.text.segment import is_word

    lo, hi = max(0, a - _WORD_WINDOW), min(len(t), b + _WORD_WINDOW)
    return is_word(t[lo:hi], a - lo, b - lo)


# --------------------------------------------------------------------------- normaliser
class Normalizer:
    """Builds :class:`NormalizedText`; holds the compiled variant map (e.g. 薇信 → 微信).

    Variant keys and values are themselves normalised, so the table can be written in any form.
    """

    def __init__(
        self,
        variants: Mapping[str, str] | None = None,
        emoji: Mapping[str, str] | None = None,
        weak_variants: Mapping[str, str] | None = None,
    ) -> None:
        """``weak_variants`` are guesses that yield: a weak key is applied only where no key of
        ``variants`` overlaps it (so "开个d场" reads 赌场, a term, not 个点, a pattern's word)."""
        # symbols spelled as words (🚀 → 火箭) take the slower offset-tracking path, so that table is
        # used only for texts that contain one of them
        self._emoji_chars = _CHARS.with_words(emoji) if emoji else None
        self._emoji_re = re.compile("[" + "".join(re.escape(c) for c in emoji) + "]") if emoji else None
        # most emoji lie outside the BMP, where a regex class is a list of characters tried one by
        # one: a text is first searched for the BMP ones and any astral character (two ranges)
        bmp = "".join(re.escape(c) for c in sorted(set("".join(emoji or ()))) if c < _ASTRAL)
        self._emoji_maybe = re.compile(f"[{bmp}\U00010000-\U0010ffff]")
        self._emoji_chain = _emoji_chain_re(emoji) if emoji else None
        strong, weak = self._table(variants or {}), self._table(weak_variants or {})
        #: every key, weak ones included, and what it reads as
        self.variants: dict[str, str] = {**weak, **strong}
        self._variant_ac = _automaton(strong)
        # an ASCII view can hold only the ASCII keys, and a smaller root is a faster scan
        # (pyahocorasick searches a node's children one by one)
        self._variant_ac_ascii = _automaton([k for k in strong if k.isascii()])
        self._weak_ac = _automaton([k for k in weak if k not in strong])
        self._weak_ac_ascii = _automaton([k for k in weak if k not in strong and k.isascii()])

    def _table(self, variants: Mapping[str, str]) -> dict[str, str]:
        """``variants`` with keys and values normalised, keys that read as themselves left out."""
        out: dict[str, str] = {}
        for k, v in variants.items():
            nk, nv = self._base(k).text, self._base(v).text
            if nk and nk != nv:
                out[nk] = nv
        return out

    def __call__(self, text: str) -> NormalizedText:
        return self.normalize(text)

    def normalize(self, text: str) -> NormalizedText:
        """Character view of ``text`` with offsets into ``text``."""
        chars = _CHARS
        if self.spells_emoji(text):
            assert self._emoji_chars is not None
            chars = self._emoji_chars
            assert self._emoji_chain is not None
            source = _unchained(self._emoji_chain, text)
            if source != text:
                return self._with_variants(self._base(text, chars, source))
        return self._with_variants(self._base(text, chars))

    def spells_emoji(self, text: str) -> bool:
        """Whether ``text`` holds an emoji this normaliser spells as a word (then it is normalised with
        another character table)."""
        if self._emoji_re is None or text.isascii() or self._emoji_maybe.search(text) is None:
            return False
        return self._emoji_re.search(text) is not None

    def from_converted(self, text: str, conv: str) -> NormalizedText:
        """What :meth:`normalize` returns for a non-ASCII ``text`` that holds no emoji spelled as a
        word (:meth:`spells_emoji`) and that :func:`to_simplified` turned into ``conv`` (the line
        screen converts a line before it decides to normalise it)."""
        return self._with_variants(self._base(text, _CHARS, conv=conv))

    def _with_variants(self, nt: NormalizedText) -> NormalizedText:
        if self._variant_ac is not None or self._weak_ac is not None:
            found = self._variants_in(nt.text)
            if found:
                nt = self._apply_variants(nt, found)
        return nt

    def _variants_in(self, t: str) -> list[tuple[int, int]]:
        """Leftmost-longest, non-overlapping variant keys, then the weak keys that overlap none of
        them; latin edges need word boundaries, and a weak key of Han characters alone (a homophone
        spelling) needs word edges."""
        ascii_ = t.isascii()
        found = _keys_in(self._variant_ac_ascii if ascii_ else self._variant_ac, t)
        weak = _keys_in(self._weak_ac_ascii if ascii_ else self._weak_ac, t)
        if not weak:
            return found
        if found:
            weak = [(a, b) for a, b in weak if not any(x < b and a < y for x, y in found)]
        weak = [(a, b) for a, b in weak if not _han_only(t, a, b) or _stands_alone(t, a, b)]
        return sorted(found + weak)

    @staticmethod
    def _base(
        text: str, chars: _CharTable = _CHARS, source: str | None = None, conv: str | None = None
    ) -> NormalizedText:
        """Character view of ``text``, converted from ``source`` (``text`` with some characters
        swapped one for one) when given; ``conv`` is that conversion when already made."""
        if text.isascii():  # NFKC is the identity and casefold is lower() for ASCII
            return collapse_ascii(text, text.lower())
        if conv is None:
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


_default: Normalizer | None = None


def normalize(text: str) -> NormalizedText:
    """Normalise with no variant map (the matcher uses a :class:`Normalizer` with the lexicon's)."""
    global _default
    if _default is None:
        _default = Normalizer()
    return _default.normalize(text)
