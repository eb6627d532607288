"""Lexicon patterns read in pinyin, for chat typed as a whole pinyin sentence.

A viewer who types "song ge pao che wo jiu lian mai ni" (送个跑车我就连麦你) has no Han character
for a pattern to match, and the pinyin automaton only knows single terms. Each pattern's regex is
therefore rewritten once into a regex over the pinyin view (every Han literal becomes the
alternation of its tone-less readings, a character class of Han characters the alternation of all
their readings, characters the pinyin view drops — digits, punctuation — become optional, and
lookarounds, which guard against neighbours the pinyin view cannot tell apart, are dropped). The
rewritten regexes run on a line that *reads as pinyin*: no Han, at least three latin words, and
every word segments into pinyin syllables — so English chat ("send gifts pls") never reaches them
— and on a Han line with a pinyin word written into it (色情shipin出售, 不shua就下播), where a hit
must take in that word: the Han characters around it are read as they are written elsewhere, and
a pattern read in pinyin over Han text alone would be a homophone match of every pattern. A hit
must also start and end on syllable boundaries.
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as _sre_c  # type: ignore[attr-defined]  # the regex parser (3.11+)
from re import _parser as _sre_p  # type: ignore[attr-defined]
from typing import Any

from moderation.text.pinyin import LATIN, char_pinyin, is_han, segment_ends

#: the least number of latin words of a line read as a pinyin sentence
MIN_WORDS = 3
#: Latin initialisms room chat mixes into a pinyin sentence ("pk zuihou yi fenzhong, huojian zou yi
#: bo", "shua ge jnh jiu si liao ni"): they neither make a line English nor count as one of its pinyin
#: words. Gift names (jnh 嘉年华, hj 火箭), ds (打赏), dg (大哥), gh (公会) and bd (榜单) among them.
CHAT_ACRONYMS = frozenset(
    {"pk", "qq", "v", "vx", "wx", "ok", "vip", "zb", "dd", "id", "app", "jnh", "hj", "ds", "dg", "gh", "bd", "lw"}
)
_CHAT_ACRONYMS_ASCII = frozenset(a.encode("ascii") for a in CHAT_ACRONYMS)
#: a Han character the pattern allows anywhere (``[^,.]``) is one syllable of at most this many letters
_ANY_SYLLABLE = "[a-z]{0,6}"


class _Unsupported(Exception):
    """The regex uses a construct with no pinyin reading (a back-reference, a category)."""


def _readings(ch: str) -> tuple[str, ...]:
    """The tone-less reading of a Han character, the one the pinyin view uses (rarer readings of
    heteronyms would widen every pattern for little gain)."""
    r = char_pinyin(ch)
    return (r,) if r else ()


def _char(c: int) -> tuple[str, bool]:
    """Regex of one literal in the pinyin view, and whether the view drops it (then it is optional)."""
    ch = chr(c)
    if ch in LATIN:
        return ch, False
    if is_han(ch):
        rs = _readings(ch)
        if not rs:
            return "", True
        return ("(?:" + "|".join(rs) + ")" if len(rs) > 1 else rs[0]), False
    if ch.isupper() and ch.lower() in LATIN:
        return ch.lower(), False
    return "", True


def _alternation(options: list[str], optional: bool) -> str:
    opts = sorted({o for o in options if o}, key=len, reverse=True)
    if not opts:
        return ""
    body = "(?:" + "|".join(opts) + ")"
    return body + "?" if optional else body


def _emit_class(items: list[tuple[Any, Any]]) -> str:
    """A character class: the readings of its Han members, its latin letters and ranges."""
    if items and items[0][0] is _sre_c.NEGATE:
        return _ANY_SYLLABLE
    options: list[str] = []
    optional = False
    for op, av in items:
        if op is _sre_c.LITERAL:
            rx, dropped = _char(av)
            options.append(rx)
            optional = optional or dropped
        elif op is _sre_c.RANGE:
            lo, hi = av
            letters = [chr(c) for c in range(max(lo, 97), min(hi, 122) + 1)]
            if letters:
                options.append(f"[{letters[0]}-{letters[-1]}]")
            if lo < 97 or hi > 122:
                optional = True  # digits and symbols in the range: dropped by the pinyin view
        else:
            optional = True  # categories (\s, \d): nothing the pinyin view keeps
    return _alternation(options, optional)


def _repeat(lo: int, hi: Any, sub: Any) -> str:
    """A repeat in the pinyin view, written so that it cannot backtrack exponentially: a repeat of
    "any syllable" is one bounded letter run (``[a-z]{0,6n}``, never a quantifier of a quantifier),
    and a repeat of something optional repeats the thing itself from zero (``(?:x){0,n}``, not
    ``(?:x?){1,n}``: a nullable body inside a repeat is the classic catastrophic-backtracking form)."""
    inner = _emit(sub)
    if not inner:
        return ""
    unbounded = hi is _sre_c.MAXREPEAT
    if inner == _ANY_SYLLABLE:
        return "[a-z]*" if unbounded else f"[a-z]{{0,{6 * hi}}}"
    if inner.endswith(")?") and inner.startswith("(?:") and _balanced(inner[3:-2]):
        inner, lo = inner[3:-2], 0
    if re.fullmatch(inner, "") is not None:  # still nullable (e.g. a sequence of optional parts)
        lo = 0
    return f"(?:{inner}){{{lo},{'' if unbounded else hi}}}"


def _balanced(body: str) -> bool:
    """Whether ``(?:body)`` is one group (its parentheses balance without closing early); emitted
    regexes hold no escaped parentheses (the pinyin view drops punctuation)."""
    depth = 0
    for c in body:
        depth += (c == "(") - (c == ")")
        if depth < 0:
            return False
    return depth == 0


def _emit(parsed: Any) -> str:
    out: list[str] = []
    for op, av in parsed:
        if op is _sre_c.LITERAL:
            out.append(_char(av)[0])
        elif op is _sre_c.NOT_LITERAL or op is _sre_c.ANY:
            out.append(_ANY_SYLLABLE)
        elif op is _sre_c.IN:
            out.append(_emit_class(av))
        elif op is _sre_c.BRANCH:
            alts = [_emit(b) for b in av[1]]
            out.append("(?:" + "|".join(alts) + ")")
        elif op is _sre_c.SUBPATTERN:
            out.append("(?:" + _emit(av[-1]) + ")")
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT):
            out.append(_repeat(*av))
        elif op in (_sre_c.ASSERT, _sre_c.ASSERT_NOT, _sre_c.AT):
            continue  # neighbour guards: the pinyin view cannot tell the neighbours apart
        else:
            raise _Unsupported(str(op))
    return "".join(out)


def to_pinyin_regex(regex: str) -> re.Pattern[str] | None:
    """The pinyin-view form of a pattern's regex; None when it has no pinyin reading (a pattern
    written only in latin letters, or one that uses an unsupported construct)."""
    if not any(is_han(c) for c in regex):
        return None  # latin only: the character view already matches it
    try:
        emitted = _emit(_sre_p.parse(regex))
    except _Unsupported:
        return None
    if not emitted:
        return None
    compiled = re.compile(emitted)
    if compiled.match(""):
        return None  # all optional: would match anywhere
    return compiled


@lru_cache(maxsize=8192)
def _segments(word: str) -> bool:
    """Whether a latin word splits into pinyin syllables ("baijiale", "zhu"; not "send")."""
    return segment_ends(word)[-1]


_WORD = re.compile(r"[a-z]+|[^a-z\s,.!?;:]+")
#: A latin word written into Han text that may be pinyin: three letters or more ("sm", "v" and
#: "pk" are initialisms, read by the lexicon's own terms).
_RUN = re.compile(r"(?<![a-z0-9])[a-z]{3,}(?![a-z0-9])")


def pinyin_runs(view: str) -> list[tuple[int, int]]:
    """Spans of the latin words of a line holding Han that split into pinyin syllables
    ("shipin" in 色情shipin出售); none for a line without Han (see :func:`reads_as_pinyin`)."""
    if view.isascii():
        return []
    return [m.span() for m in _RUN.finditer(view) if _segments(m.group())]


def reads_as_pinyin(view: str) -> bool:
    """Whether an ASCII character view is a sentence typed in pinyin: at least :data:`MIN_WORDS`
    latin words, every one of them pinyin syllables (a digit or symbol inside a word fails it)."""
    n = 0
    for m in _WORD.finditer(view):  # most English lines fail on their first word
        w = m.group()
        if w in CHAT_ACRONYMS:
            continue
        if not (w.isalpha() and _segments(w)):
            return False
        n += 1
    return n >= MIN_WORDS


def tokens_read_as_pinyin(tokens: list[bytes]) -> bool:
    """:func:`reads_as_pinyin` of an ASCII view given as its tokens (runs of letters and digits,
    one space between them): a token with a digit holds a word that is not all letters."""
    n = 0
    for t in tokens:  # most English lines fail on their first word
        if t in _CHAT_ACRONYMS_ASCII:
            continue
        if not (t.isalpha() and _segments_ascii(t)):
            return False
        n += 1
    return n >= MIN_WORDS


@lru_cache(maxsize=8192)
def _segments_ascii(word: bytes) -> bool:
    """:func:`_segments` of a word in bytes (the tokens of an ASCII line are bytes)."""
    return _segments(word.decode("ascii"))
