"""The words a pattern is built around, typed with a homophone in place of one character ("十个飞鸡"
for 飞机, "来几个火见" for 火箭, "开了守户" for 守护).

A pinyin input method offers every character of a syllable, so a chatter who wants a filtered word
through picks a neighbour of the right sound; the lexicon lists the common ones for its terms
(:mod:`moderation.text.initials` and ``variants.yaml``), but the anchor words of its patterns — gift
names, 守护, 舰长, 荷官 — are many more and are disguised the same way. This module derives those
spellings: one character of the word, any one, replaced by a common character of the same toneless
syllable. The normaliser applies them as *weak* variants (they yield to listed spellings) and only
where the spelling stands as words of its own in its clause: "时间长没人" holds 间长, which sounds
like 舰长, but 时间 claims its first character, so it is not read as 舰长.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cache

from moderation.text.initials import MAX_TERM_CHARS
from moderation.text.pinyin import char_pinyin, is_han

#: How many characters of a syllable stand in for one of its characters: the commonest, as an input
#: method lists them first.
PER_SYLLABLE = 16
#: A stand-in must be at least this frequent a single-character word in jieba's dictionary.
MIN_CHAR_FREQ = 100
#: The most frequent characters (了 是 我 你 这): a spelling that keeps only such characters of its
#: word ("死我" for 私我) is mostly where two ordinary words meet ("笑死我了"), not a disguise.
FUNCTION_CHARS = 30


def _common(ch: str) -> bool:
    """Whether ``ch`` is in GB 2312, the character set every Simplified input method offers first."""
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


#: The last dictionary's single characters, keyed by its identity and size (a word added to jieba's
#: dictionary, as the matcher does with its terms, changes the size): every matcher build of a
#: process reads the same dictionary, and listing them walks all of its ~350,000 words.
_singles: tuple[int, int, tuple[tuple[str, int], ...]] | None = None


def _single_chars(freq: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """The Han single-character words of ``freq`` with their counts, most frequent first."""
    global _singles
    if _singles is None or _singles[:2] != (id(freq), len(freq)):
        found = sorted(((k, v) for k, v in freq.items() if len(k) == 1 and is_han(k)), key=lambda kv: -kv[1])
        _singles = (id(freq), len(freq), tuple(found))
    return _singles[2]


@cache
def _by_syllable(freq_items: tuple[tuple[str, int], ...]) -> Mapping[str, tuple[str, ...]]:
    """Common characters by toneless syllable, most frequent first."""
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for ch, f in freq_items:
        if f >= MIN_CHAR_FREQ and _common(ch):
            syl = char_pinyin(ch)
            if syl:
                found[syl].append((f, ch))
    return {syl: tuple(ch for _, ch in sorted(chars, reverse=True)[:PER_SYLLABLE]) for syl, chars in found.items()}


def word_homophone_variants(
    words: Iterable[str], freq: Mapping[str, int], stand_ins: frozenset[str] | None = None
) -> dict[str, str]:
    """``{spelling: word}`` for the Han words of 2 to :data:`MAX_TERM_CHARS` characters among
    ``words``, one character at a time written as another common character of its syllable (read
    in the word: 长 in 舰长 is zhang). A spelling that is a dictionary word or the start of one
    (``freq``: 肥鸡, 睡一 of 睡一觉) or another of ``words`` (硬了 and 赢了) is read as itself, a word
    whose other characters are all :data:`FUNCTION_CHARS` gets none for them, and a spelling that two
    words share is left out, since it could stand for either. ``stand_ins``, when given, is the
    alphabet a stand-in must come from (the matcher passes the characters its lexicon already
    writes, so the line screen, which maps every other character to one placeholder, stays fast)."""
    from pypinyin import lazy_pinyin

    singles = _single_chars(freq)
    by_syl = _by_syllable(singles)
    function = frozenset(ch for ch, _ in singles[:FUNCTION_CHARS])
    words = [w for w in words if 2 <= len(w) <= MAX_TERM_CHARS and all(is_han(c) for c in w)]
    own = set(words)
    seen: dict[str, set[str]] = {}
    for w in words:
        for i, (ch, syl) in enumerate(zip(w, lazy_pinyin(w), strict=True)):
            if all(c in function for c in w[:i] + w[i + 1 :]):
                continue
            for alt in by_syl.get(syl, ()):
                key = w[:i] + alt + w[i + 1 :]
                if alt != ch and key not in freq and key not in own and (stand_ins is None or alt in stand_ins):
                    seen.setdefault(key, set()).add(w)
    return {key: next(iter(found)) for key, found in seen.items() if len(found) == 1}
