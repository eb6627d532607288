"""The lexicon compiled for matching: rules, normalised keys and the Aho–Corasick automatons.

:class:`~moderation.text.matcher.KeywordMatcher` builds one :class:`LexiconIndex` per lexicon
version and only reads it; keeping the build here leaves the matcher module to the matching itself.

Automaton values are ``(key, entries, latin_edge)``. An entry is ``(_TERM, rule, loose)``,
``(_CTX, category, term, length)`` (an allow-context phrase; ``term`` None for a category-wide one)
or ``(_ANCHOR, pattern)``; ``latin_edge`` says the key begins or ends with a latin letter or digit,
so a hit needs word boundaries there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ahocorasick

from moderation.text import segment
from moderation.text.context import ContextRules
from moderation.text.lexicon import Lexicon, LexiconEntry, PatternEntry
from moderation.text.normalize import Normalizer, is_han, term_pinyins
from moderation.text.pinyin import load_syllables, segment_ends
from moderation.text.pinyin_patterns import to_pinyin_regex

_TERM, _CTX, _ANCHOR = 0, 1, 2
#: digits and symbols read as letters inside latin words ("ca5ino", "p0rn", "b0cai")
_LEET = str.maketrans("0134579@$", "oieastgas")
_DIGITISH = re.compile(r"[0-9@$]")
_MIXED_HINT = re.compile(r"[a-z][0-9@$]|[0-9@$][a-z]")
_MIXED_RE = re.compile(r"(?<![a-z0-9])(?=[a-z0-9]*[a-z])[a-z0-9]*[0-9@$][a-z0-9@$]*")
_HAS_LATIN = re.compile(r"[a-z]")


def _wordish(c: str) -> bool:
    """A letter or digit that is not Han: English words need boundaries made of anything else."""
    return c.isalnum() and not is_han(c)


def _edges_ok(text: str, s: int, e: int) -> bool:
    """Word-boundary check on the character view for keys that begin/end with a letter or digit."""
    if _wordish(text[s]) and s > 0 and _wordish(text[s - 1]):
        return False
    return not (_wordish(text[e - 1]) and e < len(text) and _wordish(text[e]))


#: a number written with the letter o for zero ("8oo", "1oo%", "5O一包")
_O_FOR_ZERO = re.compile(r"[1-9][0-9o]*o[0-9o]*")


@lru_cache(maxsize=4096)
def _fold_word(word: str) -> str:
    """One word that mixes letters and digits, read as what its writer spelled.

    The common reading (0134579@$ as oieastgas) serves English ("ca5ino", "p0rn") and most pinyin
    ("b0cai", "j1an"). A 1 also stands for an l, which only pinyin tells apart: "1iwu" is liwu and
    "1ei" is lei, so where reading 1 as l (and only that) makes the word whole pinyin syllables
    and the common reading does not, that reading wins. Digits written with o for zero stay a
    number. The copy keeps the word's length (view offsets map back to the original).
    """
    if _O_FOR_ZERO.fullmatch(word):
        return word.replace("o", "0")
    folded = word.translate(_LEET)
    if "1" in word and not segment_ends(folded)[-1]:
        alt = word.replace("1", "l").translate(_LEET)
        if segment_ends(alt)[-1]:
            return alt
    return folded


def _fold_leet(view: str) -> str:
    """Same-length copy of ``view`` with leetspeak folded inside words that mix letters and digits."""
    return _MIXED_RE.sub(lambda m: _fold_word(m.group()), view)


@dataclass(frozen=True)
class _Rule:
    """A term or a pattern, as the resolver needs it."""

    term: str
    category: str
    weight: float
    ambiguous: bool
    word: bool  # only as a whole word of the jieba segmentation
    allow_context: tuple[str, ...]


def automaton(keys: dict[str, Any]) -> Any:
    """An Aho–Corasick automaton over ``keys`` (None when there is none)."""
    if not keys:
        return None
    a = ahocorasick.Automaton()
    for k, v in keys.items():
        # a key that starts and ends with Han (or a symbol) needs no word-boundary test
        a.add_word(k, (k, tuple(v), _wordish(k[0]) or _wordish(k[-1])))
    a.make_automaton()
    return a


@dataclass(frozen=True)
class LexiconIndex:
    """Everything the matcher looks up, built once per lexicon version."""

    entries: list[LexiconEntry]
    context: ContextRules
    #: terms first, then patterns (rule index = entry index for terms)
    rules: list[_Rule]
    #: normalised term of each rule ("" for patterns)
    keys: list[str]
    pattern_base: int
    patterns: list[PatternEntry]
    #: patterns without anchors, run on every line
    always: list[int]
    #: the patterns read in pinyin, for lines typed as a pinyin sentence
    pinyin_patterns: list[tuple[int, re.Pattern[str]]]
    char: Any
    #: the ASCII keys only: pyahocorasick searches a node's children linearly and the full root has
    #: every first character of every key, so ASCII text (English chat, pinyin) scans ≈3× faster here
    char_ascii: Any
    pinyin: Any
    #: keys of at least ``min_homophone_syllables`` syllables: the only ones a view without latin
    #: letters (all syllables from Han characters) can keep outside the short-homophone pass
    pinyin_han: Any
    #: the short keys only, scanned by the short-homophone pass
    pinyin_han_short: Any
    pinyin_term_count: int


def build_index(
    lex: Lexicon, normalizer: Normalizer, min_homophone_syllables: int, min_han_key_syllables: int
) -> LexiconIndex:
    """Compile ``lex`` with ``normalizer``; registers the Han terms with the segmenter and loads it."""
    entries = list(lex.entries)
    context = ContextRules(lex.context, lambda x: normalizer(x).text)
    rules: list[_Rule] = []
    keys_of: list[str] = []
    char_keys: dict[str, list[tuple[Any, ...]]] = {}
    pin_keys: dict[str, list[tuple[int, int]]] = {}
    word_keys: set[str] = set()

    def add_ctx(phrase: str, category: str, term: str | None) -> None:
        key = normalizer(phrase).text
        if key:
            char_keys.setdefault(key, []).append((_CTX, category, term, len(key)))

    norm_terms = {normalizer(e.term).text for e in entries}
    for i, ent in enumerate(entries):
        key = normalizer(ent.term).text
        all_han = bool(key) and all(is_han(c) for c in key)
        word = ent.word if ent.word is not None else (ent.lang == "zh" and all_han and len(key) <= 3)
        rules.append(_Rule(ent.term, ent.category, ent.weight, ent.ambiguous, word, ent.allow_context))
        keys_of.append(key)
        if all_han:
            word_keys.add(key)
        if not key:
            continue
        keys = {key}
        if ent.lang == "en" and key[-1].isalpha() and key[-1] != "s" and key + "s" not in norm_terms:
            keys.add(key + "s")  # plurals: "slot machines", "place your bets"
        ent_keys = set(keys)
        if ent.lang == "en":
            keys |= {k.replace(" ", "") for k in keys}  # OCR drops spaces: "onlinecasino"
        for k in keys:
            # OCR runs words together ("bestonlinecasino"): a long space-less form of a
            # multi-word term may sit inside a longer latin run
            loose = ent.lang == "en" and k not in ent_keys and len(k) >= 8
            char_keys.setdefault(k, []).append((_TERM, i, loose))
        for phrase in ent.allow_context:
            add_ctx(phrase, ent.category, ent.term)
        use_pinyin = ent.pinyin if ent.pinyin is not None else (all_han and len(key) >= 2)
        if use_pinyin and ent.lang == "zh" and all_han and len(key) >= 2:
            for pk in term_pinyins(key):
                pin_keys.setdefault(pk, []).append((i, len(key)))
    for cat in lex.categories:
        for phrase in lex.category_context(cat):
            add_ctx(phrase, cat, None)
    segment.register_terms(word_keys)
    # Load jieba's dictionary now (about a second, once per process), not on the first message
    # of a live stream, which would then be seconds late.
    segment.tokenizer()
    load_syllables()  # the pinyin syllable table likewise
    pattern_base = len(rules)
    patterns = list(lex.patterns)
    for p in patterns:
        rules.append(_Rule(p.name, p.category, p.weight, p.ambiguous, p.word, ()))
    for n, p in enumerate(patterns):
        for a in p.anchors:
            key = normalizer(a).text
            if key:
                char_keys.setdefault(key, []).append((_ANCHOR, n))
    return LexiconIndex(
        entries=entries,
        context=context,
        rules=rules,
        keys=keys_of + [""] * len(patterns),
        pattern_base=pattern_base,
        patterns=patterns,
        always=[n for n, p in enumerate(patterns) if not p.anchors],
        pinyin_patterns=[
            (n, rx) for n, p in enumerate(patterns) if (rx := to_pinyin_regex(p.regex.pattern)) is not None
        ],
        char=automaton(char_keys),
        char_ascii=automaton({k: v for k, v in char_keys.items() if k.isascii()}),
        pinyin=automaton(pin_keys),
        pinyin_han=automaton(
            {k: kept for k, v in pin_keys.items() if (kept := [(i, n) for i, n in v if n >= min_homophone_syllables])}
        ),
        pinyin_han_short=automaton(
            {
                k: kept
                for k, v in pin_keys.items()
                if (kept := [(i, n) for i, n in v if min_han_key_syllables <= n < min_homophone_syllables])
            }
        ),
        pinyin_term_count=len({i for v in pin_keys.values() for i, _ in v}),
    )
