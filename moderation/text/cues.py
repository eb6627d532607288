"""Compiled cue lists for the context rules: one regex per list, scanned in C.

Chinese cues are one literal alternation; English cues are whole words behind a first-letter test;
lures and reported speech have shapes of their own (:class:`Lures`, :func:`reported_regex`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from moderation.text.clauses import SENTENCE_CLASS

__all__ = ["EnCues", "Lures", "alt", "en_regex", "reported_en_regex", "reported_regex"]


NEVER = re.compile(r"(?!)")


def alt(words: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a cue list (a single C-level scan instead of a Python loop per cue)."""
    return re.compile("|".join(re.escape(w) for w in words)) if words else NEVER


class EnCues:
    """English cues as whole words, behind a test for their first characters: the leading
    lookbehind keeps the regex engine from skipping ahead to a possible start by itself, so a
    Chinese sentence would try every cue at every position."""

    def __init__(self, words: list[str]) -> None:
        cues = {w.casefold() for w in words if w.strip()}
        alts = sorted({re.escape(w) for w in cues}, key=len, reverse=True)
        self.regex = re.compile(r"(?<![a-z0-9])(?:" + "|".join(alts) + r")(?![a-z0-9])")
        # no cue (only blank words): the regex matches an empty word boundary, with no first letter
        firsts = "".join(re.escape(c) for c in sorted({w[0] for w in cues}))
        self.first = re.compile(f"[{firsts}]") if firsts else None

    def _possible(self, text: str) -> bool:
        return self.first is None or self.first.search(text) is not None

    def search(self, text: str) -> re.Match[str] | None:
        return self.regex.search(text) if self._possible(text) else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.regex.finditer(text) if self._possible(text) else iter(())


_LATIN = re.compile(r"[a-z0-9 ]+")


class Lures:
    """Lure cues in one literal alternation (a fast C scan); a latin cue must not run into other
    letters, checked per match. The view drops a URL's dots ("hg0088.com" → "hg0088 com"), so ".com"
    is matched as "com" and must stand apart from letters: "welcome", "comment" and "internet" are
    not links. (Lookarounds inside the alternation would cost the regex its literal prefix scan.)"""

    def __init__(self, words: tuple[str, ...]) -> None:
        self.regex = alt(tuple(sorted(words, key=len, reverse=True)))
        self.latin = frozenset(w for w in words if _LATIN.fullmatch(w))

    def finditer(self, view: str) -> Iterator[re.Match[str]]:
        for m in self.regex.finditer(view):
            if m.group() in self.latin:
                s, e = m.span()
                if (s > 0 and "a" <= view[s - 1] <= "z") or (e < len(view) and "a" <= view[e] <= "z"):
                    continue
            yield m


def en_regex(words: list[str]) -> EnCues | None:
    return EnCues(words) if words else None


#: How far (in characters of the view) a speech verb may follow its reporter: 有人 + 私信我说,
#: 刚才那个主播 + 说, "someone in chat" + "sent".
_REPORT_GAP = 10


def reported_regex(reporters: tuple[str, ...], verbs: tuple[str, ...]) -> re.Pattern[str] | None:
    """A reporter, then a speech verb within the same sentence (Chinese cues)."""
    if not reporters or not verbs:
        return None
    who = "|".join(re.escape(w) for w in reporters)
    said = "|".join(re.escape(w) for w in verbs)
    return re.compile(f"(?:{who})(?:(?!{SENTENCE_CLASS}).){{0,{_REPORT_GAP}}}?(?:{said})")


def reported_en_regex(reporters: list[str], verbs: list[str], norm: Callable[[str], str]) -> re.Pattern[str] | None:
    """As :func:`reported_regex` for English: whole words, up to three words in between."""
    who = sorted({norm(w) for w in reporters if w.strip()} - {""}, key=len, reverse=True)
    said = sorted({norm(w) for w in verbs if w.strip()} - {""}, key=len, reverse=True)
    if not who or not said:
        return None
    alt_who = "|".join(re.escape(w) for w in who)
    alt_said = "|".join(re.escape(w) for w in said)
    return re.compile(rf"(?<![a-z0-9])(?:{alt_who})(?: [a-z0-9]+){{0,3}}? (?:{alt_said})(?![a-z0-9])")
