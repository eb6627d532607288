r"""Separator decisions of normalisation: which runs of ``[\W_]`` between tokens are dropped, which
become one space (see :mod:`moderation.text.normalize` for the rules and why).

Split from :mod:`moderation.text.normalize`, which calls :func:`_collapse_separators` (every text)
and :func:`collapse_ascii` (ASCII texts, most of which need no decision made in Python).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from moderation.text.pinyin import HAN_LO as _HAN_LO
from moderation.text.pinyin import is_han
from moderation.text.view import NormalizedText, Offsets

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


#: Every byte but a lower-case letter or a digit as a space: ``split()`` then gives the tokens of a
#: lower-cased ASCII text (a C-level pass, faster than a regex that builds a string per token).
_TOKEN_BYTES = bytes(c if "0" <= chr(c) <= "9" or "a" <= chr(c) <= "z" else 32 for c in range(256))
#: Two one-character tokens with only separators between them, in such a text (after a space put
#: in front: a leading space lets the regex engine skip ahead to candidates).
_LONE_PAIR = re.compile(rb" [a-z0-9] +[a-z0-9](?![a-z0-9])")


def ascii_tokens(low: str) -> list[bytes] | None:
    """The tokens (runs of letters and digits) of a lower-cased ASCII text, or None when two
    one-character tokens meet across a separator run ("b o c a i", "c.a.5": spelled-out letters,
    which only the general rules decide)."""
    spaced = low.encode("ascii").translate(_TOKEN_BYTES)
    if _LONE_PAIR.search(b" " + spaced) is not None:
        return None
    return spaced.split()


def collapse_ascii(original: str, low: str) -> NormalizedText:
    r""":func:`_collapse_separators` of an ASCII text (``low``: ``original`` lower-cased), without
    a decision in Python for the common text.

    In ASCII, ``[\W_]`` is everything but letters and digits, and no rule about Han applies: a run
    at either end is dropped, a run between two tokens becomes one space unless both tokens have
    one character (see :func:`ascii_tokens`). Otherwise the view is the tokens joined by single
    spaces; the offset maps, needed only by a line with a candidate, still come from the general
    rules.
    """
    tokens = ascii_tokens(low)
    if tokens is None:
        return _collapse_separators(original, low, None)
    view = b" ".join(tokens).decode("ascii")
    if view == low:
        return NormalizedText(original, low)
    return NormalizedText(original, view, offsets=lambda: _collapse_separators(original, low, None).offsets())
