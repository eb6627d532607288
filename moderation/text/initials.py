"""Terms spelled with one character's pinyin initial in its place ("s情" for 色情, "时时c" for 时时彩)
or with a digit that sounds like it ("6合彩", "4聊我", "1夜情", "5码资源").

Writing one character of a banned word as the first letter of its reading is among the commonest
ways chat slips past a filter, and a lexicon cannot list every such spelling by hand. This module
derives them from the lexicon's own Han terms as variant spellings (so the normaliser maps "s情片"
back to 色情片 and everything downstream sees the term): one character of the term, any one,
replaced by its initial (zh, ch and sh also by z, c and s). At least one Han character is kept, so
a key is never latin letters alone, and variant keys that begin or end with a letter need word
edges, so "this情" holds no "s情". Spellings the lexicon's variant table lists win over these.

A digit stands for a character read as its Chinese name (5 for 无 wu, 4 for 私 si, 6 for 六), but
digits are mostly numbers: a two-character term gets a digit only in second place (快3, 榜1, 鸡8),
since one in first place would read counts as terms ("第4处伤口" is no 私处).

The words a pattern spells out (gift names, 下播, 私聊) get initial spellings too, without digits
(:func:`word_initial_variants`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from moderation.text.lexicon import LexiconEntry
from moderation.text.pinyin import char_pinyin, is_han

#: Terms this long or shorter get initial spellings; longer ones are rarely abbreviated this way.
MAX_TERM_CHARS = 4
#: A pattern word at least this frequent in jieba's dictionary gets no initial spellings.
COMMON_WORD = 5000
#: Digits by the syllable they are read as.
DIGITS = {
    "ling": "0",
    "yi": "1",
    "er": "2",
    "san": "3",
    "si": "4",
    "wu": "5",
    "liu": "6",
    "qi": "7",
    "ba": "8",
    "jiu": "9",
}


def _initials(ch: str) -> tuple[str, ...]:
    """The letters a writer may put for ``ch``: its pinyin's first letter, or both spellings of a
    retroflex initial (zh → z and zh)."""
    py = char_pinyin(ch)
    if not py:
        return ()
    return (py[0], py[:2]) if py[:2] in ("zh", "ch", "sh") else (py[0],)


def initial_variants(entries: Iterable[LexiconEntry]) -> dict[str, str]:
    """``{spelling: term}`` for every Chinese term of 2 to :data:`MAX_TERM_CHARS` Han characters,
    one character at a time written as its initial or its digit; a spelling that is itself a term
    (傻b) stays that term."""
    entries = list(entries)
    terms = {e.term.lower() for e in entries}
    out: dict[str, str] = {}
    for e in entries:
        t = e.term
        if e.lang != "zh" or not 2 <= len(t) <= MAX_TERM_CHARS or not all(is_han(c) for c in t):
            continue
        for i, ch in enumerate(t):
            spellings = list(_initials(ch))
            digit = DIGITS.get(char_pinyin(ch))
            if digit is not None and (i > 0 or len(t) > 2):
                spellings.append(digit)
            for letter in spellings:
                key = t[:i] + letter + t[i + 1 :]
                if key not in terms:
                    out.setdefault(key, t)
    return out


def word_initial_variants(words: Iterable[str], freq: Mapping[str, int]) -> dict[str, str]:
    """``{spelling: word}`` for the Han words the lexicon's patterns spell out (gift names, 下播,
    任务, 私聊: see :func:`~moderation.text.needles.literal_words`), one character at a time written
    as its initial ("嘉年h", "任w没完成", "不下b"), so a pattern reads the word back. No digits: a
    pattern's words hold numerals, and a digit for a numeral is the number, not a disguise. A
    spelling that is a dictionary word of its own (``freq``: K歌, T恤, B超) is that word, and one that
    two words share is left out, since it could stand for either. Everyday words (:data:`COMMON_WORD`:
    这个, 我们, 可以) are nobody's disguise, and a pattern may read their letter itself ("z个火箭":
    z for 砸), so they get none."""
    seen: dict[str, set[str]] = {}
    for w in words:
        if not 2 <= len(w) <= MAX_TERM_CHARS or not all(is_han(c) for c in w) or freq.get(w, 0) >= COMMON_WORD:
            continue
        for i, ch in enumerate(w):
            for letter in _initials(ch):
                key = w[:i] + letter + w[i + 1 :]
                if freq.get(key, 0) <= 0:
                    seen.setdefault(key, set()).add(w)
    return {key: next(iter(found)) for key, found in seen.items() if len(found) == 1}
