"""Characters a pattern's every match must contain, read off its regex once.

The line screen (:mod:`moderation.text.prefilter`) clears a line whose only keys are pattern
anchors when none of those patterns can match its view. Building the view to run a pattern costs
a separator pass, a variant scan and the regex itself; a line that lacks a character every match
needs is cleared from the screen's stripped text instead. (妈 anchors a pattern about spending a
parent's card, which needs one of 用, 拿, 花, 刷 before it: "早上妈妈复习英语单词" has none.)
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as _sre_c  # type: ignore[attr-defined]  # the regex parser (3.11+)
from re import _parser as _sre_p  # type: ignore[attr-defined]
from typing import Any

#: Sets of characters of one pattern: a match holds at least one character of each set.
Needles = tuple[frozenset[str], ...]

#: The most sets kept per pattern (the first ones; each is a regex search per screened line).
MAX_SETS = 3


@lru_cache(maxsize=4096)  # parsing every pattern again on each lexicon reload costs ~50 ms
def needles(regex: re.Pattern[str]) -> Needles:
    """Sets of letters and digits such that every match of ``regex`` holds a character of each.

    Only constructs whose match always consumes one of a known set of characters yield a set: a
    literal, a class of literals, an alternation whose every branch yields one, a group, a repeat
    of at least one. Everything else (lookarounds, ``.``, negated classes, ranges, back-references)
    is skipped, which only makes the sets fewer. A set holding anything but letters and digits is
    dropped too: the stripped text it is tested against keeps nothing else. With ``IGNORECASE``
    nothing is said.
    """
    if regex.flags & re.IGNORECASE:
        return ()
    try:
        parsed = _sre_p.parse(regex.pattern, regex.flags)
    except Exception:  # compiled already, so not expected: then nothing is said
        return ()
    return tuple(s for s in _required(parsed) if all(c.isalnum() for c in s))[:MAX_SETS]


def _required(items: Any) -> list[frozenset[str]]:
    """The required sets of a parsed sequence, in order."""
    out: list[frozenset[str]] = []
    for op, av in items:
        if op is _sre_c.LITERAL:
            out.append(frozenset(chr(av)))
        elif op is _sre_c.IN:
            if all(o is _sre_c.LITERAL for o, _ in av):
                out.append(frozenset(chr(v) for _, v in av))
        elif op is _sre_c.BRANCH:
            firsts = [_required(b) for b in av[1]]
            if all(firsts):
                out.append(frozenset().union(*(f[0] for f in firsts)))
        elif op is _sre_c.SUBPATTERN:
            if not av[1] & re.IGNORECASE:  # (?i:...) inside: its literals match either case
                out.extend(_required(av[-1]))
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT) and av[0] >= 1:
            out.extend(_required(av[2]))
    return out


@lru_cache(maxsize=4096)
def literal_words(regex: re.Pattern[str]) -> frozenset[str]:
    """The words a pattern spells out: each run of literal characters in a sequence, and each
    branch of an alternation written as plain characters (the gift names of ``(?:火箭|游艇|嘉年华)``,
    the 下播 of ``就?(?:不播|下播)``). What a class, a repeat or a lookaround stands for is no word."""
    try:
        parsed = _sre_p.parse(regex.pattern, regex.flags)
    except Exception:  # compiled already, so not expected: then no word is read
        return frozenset()
    out: set[str] = set()
    _words(parsed, out)
    return frozenset(out)


#: The most spellings one run of literals and literal classes may stand for (``不[刷送]`` is two).
_MAX_SPELLINGS = 16


def _words(items: Any, out: set[str]) -> None:
    """Add the literal runs of a parsed sequence to ``out``, and those of every group in it. The
    parser folds a shared first character out of an alternation (``不刷|不送`` → ``不[刷送]``), so a
    class of a few literals continues a run as each of its characters."""
    runs: list[str] = [""]
    for op, av in [*items, (None, None)]:
        if op is _sre_c.LITERAL:
            runs = [r + chr(av) for r in runs]
            continue
        if op is _sre_c.IN and all(o is _sre_c.LITERAL for o, _ in av) and len(runs) * len(av) <= _MAX_SPELLINGS:
            runs = [r + chr(v) for r in runs for _, v in av]
            continue
        out.update(r for r in runs if r)
        runs = [""]
        if op is _sre_c.BRANCH:
            for branch in av[1]:
                _words(branch, out)
        elif op is _sre_c.SUBPATTERN:
            _words(av[-1], out)
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT):
            _words(av[2], out)
