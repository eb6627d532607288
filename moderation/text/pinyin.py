"""Pinyin side of normalisation: Han detection, per-character readings, syllable segmentation.

Split from :mod:`moderation.text.normalize` (which re-exports these names); pypinyin is imported on
first use, never at import time.
"""

from __future__ import annotations

import re
from functools import cache

HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{HAN_CLASS}]")
LATIN = frozenset("abcdefghijklmnopqrstuvwxyz")

HAN_LO = "\u3400"  # nothing below this code point is Han (a cheap pre-test)


def is_han(ch: str) -> bool:
    """True for a CJK ideograph (the characters that have a pinyin reading)."""
    return ch >= HAN_LO and _HAN_RE.match(ch) is not None


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
        out = ch if ch in LATIN else (char_pinyin(ch) if is_han(ch) else "")
        self[key] = out
        return out


PINYIN_TABLE = _PinyinTable()
#: bytes.translate deletes these in one C pass (much faster than str.translate with a dict)
ASCII_DROP = bytes(c for c in range(128) if chr(c) not in LATIN)


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


def load_syllables() -> None:
    """Build the syllable table now (about half a second, once per process) rather than inside the
    first match that reads a latin word as pinyin, which on a live stream is its first QR code or
    caption."""
    _syllables()


def segment_ends(run: str) -> list[bool]:
    """``ends[p]``: the first ``p`` letters of a latin run split into pinyin syllables (``ends[0]``
    is True; ``ends[len(run)]`` says whether the whole run does)."""
    syl = _syllables()
    n = len(run)
    ends = [False] * (n + 1)
    ends[0] = True
    for i in range(n):
        if ends[i]:
            for k in range(1, min(6, n - i) + 1):
                if run[i : i + k] in syl:
                    ends[i + k] = True
    return ends


@cache
def latin_boundaries(run: str) -> frozenset[int]:
    """Offsets inside a latin run where *some* full segmentation into pinyin syllables cuts.

    "baijiale" → {3, 6}. A run that cannot be segmented at all (an English word) has none, so a
    pinyin key never matches inside it.
    """
    syl = _syllables()
    n = len(run)
    fwd = segment_ends(run)
    bwd = [False] * (n + 1)
    bwd[n] = True
    for i in range(n - 1, -1, -1):
        bwd[i] = any(bwd[i + k] and run[i : i + k] in syl for k in range(1, min(6, n - i) + 1))
    return frozenset(p for p in range(1, n) if fwd[p] and bwd[p])


@cache
def latin_required_cuts(run: str) -> frozenset[int]:
    """Offsets inside a latin run where *every* segmentation into pinyin syllables cuts.

    "zhaowoxiazhu" → includes 6 (zhaowo|xiazhu); "xiazhuang" has no cut at 6 (xia|zhuang also
    segments it), so a two-syllable key must not be read out of it.
    """
    syl = _syllables()
    n = len(run)
    fwd = [0] * (n + 1)
    fwd[0] = 1
    for i in range(n):
        if fwd[i]:
            for k in range(1, min(6, n - i) + 1):
                if run[i : i + k] in syl:
                    fwd[i + k] += fwd[i]
    bwd = [0] * (n + 1)
    bwd[n] = 1
    for i in range(n - 1, -1, -1):
        bwd[i] = sum(bwd[i + k] for k in range(1, min(6, n - i) + 1) if run[i : i + k] in syl)
    total = fwd[n]
    return frozenset(p for p in range(1, n) if total and fwd[p] * bwd[p] == total)
