"""Chinese word boundaries from jieba's dictionary, so ambiguous terms match only as words.

Substring matching finds 快三 inside 快三点 and 刷火箭 inside 刷火箭队; a homophone key finds 实时彩
inside 实时菜价. A segmenter knows these are ordinary words. jieba ships its dictionary in its PyPI
package; the tokenizer is created on first use (loading the dictionary costs about a second, once per
process) and only clauses that contain a candidate hit are segmented, so the matcher keeps its
Aho–Corasick speed on text with no hits.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

_lock = threading.RLock()
_tokenizer: Any = None
_terms: set[str] = set()
#: Length of the longest dictionary word (no word can cross a point from further away).
_longest = 1
#: Bumped whenever the clause caches are emptied (the dictionary changed, or a cold start is timed),
#: so caches built on these decisions elsewhere (a matcher's line cache) know to empty themselves.
_generation = 0


def register_terms(terms: set[str]) -> None:
    """Make lexicon terms dictionary words, so a term is one word where the text allows it
    ("返水吧" → 返水/吧, not 返/水吧) yet still loses to a longer real word (刷/火箭队). Each gets the
    lowest frequency that keeps it whole on its own. Cheap before the tokenizer is loaded."""
    with _lock:
        new = terms - _terms
        _terms.update(new)
        if _tokenizer is not None and new:
            _add(_tokenizer, new)


def _add(tok: Any, terms: set[str]) -> None:
    global _longest
    for t in sorted(terms):
        tok.add_word(t, max(tok.FREQ.get(t) or 0, tok.suggest_freq(t)))
    _longest = max((len(w) for w, f in tok.FREQ.items() if f), default=1)
    clear_caches()


def clear_caches() -> None:
    """Forget every clause decided so far (after the dictionary changed, or to time a cold start)."""
    global _generation
    _generation += 1
    word_edges.cache_clear()
    is_word.cache_clear()
    reads_as.cache_clear()


def generation() -> int:
    """How many times the clause caches were emptied: a cache of answers that depend on word
    edges is valid only while this stays the same."""
    return _generation


def tokenizer() -> Any:
    """The process-wide jieba tokenizer (dictionary mode, no HMM guessing of new words)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                _add(tok, _terms)
                _tokenizer = tok
    return _tokenizer


@lru_cache(maxsize=8192)
def word_edges(clause: str) -> frozenset[int]:
    """Offsets in ``clause`` where a dictionary word starts or ends (0 and ``len(clause)`` included)."""
    edges = {0}
    pos = 0
    for w in tokenizer().cut(clause, HMM=False):
        pos += len(w)
        edges.add(pos)
    return frozenset(edges)


#: Sentence-final particles: at the very end of a clause they are their own word, though the
#: dictionary may join them to the character before (菠菜网吧 → 菠菜/网吧 "internet cafe").
_FINAL_PARTICLES = frozenset("吧呢啊呀嘛啦哦哈")


#: jieba joins runs of these single characters into one word ("a1")
_ENG = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _forced_edge(clause: str, p: int, freq: dict[str, int] | None = None) -> bool:
    """Whether every segmentation jieba can produce has a word edge at ``p``: no dictionary word
    of ``clause`` runs across it, and it is not inside a run of latin letters or digits (which jieba
    joins) or a line break (kept whole).

    jieba builds its word graph from dictionary words (every prefix of a word is in its ``FREQ``
    table, with frequency 0 unless it is a word itself) and single characters; a point that no
    word crosses is an edge of whichever path scores best, so most candidates are decided without
    segmenting the clause, which costs tens of microseconds per clause."""
    n = len(clause)
    if p <= 0 or p >= n:
        return True
    a, b = clause[p - 1], clause[p]
    if (a in _ENG and b in _ENG) or a == "\r":
        return False
    if freq is None:
        freq = tokenizer().FREQ
    get = freq.get
    for i in range(p - 1, max(p - _longest, 0) - 1, -1):
        j = p + 1
        f = get(clause[i:j])
        while f is not None:  # a prefix of some word (0) or a word
            if f:
                return False
            if j == n:
                break
            j += 1
            f = get(clause[i:j])
    return True


@lru_cache(maxsize=8192)
def is_word(clause: str, start: int, end: int) -> bool:
    """Whether ``clause[start:end]`` begins and ends on word edges (no word runs across them).

    A clause-final particle right after the span is read as a particle, not as the end of a word
    that swallows the span's last character. Cached like :func:`word_edges` (live chat repeats
    itself), and most spans are decided by :func:`_forced_edge` without segmenting at all."""
    freq = (_tokenizer or tokenizer()).FREQ
    if _forced_edge(clause, start, freq) and _forced_edge(clause, end, freq):
        return True
    edges = word_edges(clause)
    if start in edges and end in edges:
        return True
    if end == len(clause) - 1 and clause[end] in _FINAL_PARTICLES:
        return is_word(clause[:end], start, end)
    return False


def _log_prob(tok: Any, sentence: str) -> float:
    """Log-probability of the best segmentation under jieba's unigram model."""
    route: dict[int, tuple[float, int]] = {}
    tok.calc(sentence, tok.get_DAG(sentence), route)
    return float(route[0][0])


@lru_cache(maxsize=4096)
def reads_as(clause: str, start: int, end: int, term: str, margin: float = 1.0) -> bool:
    """Whether ``clause`` reads better with ``clause[start:end]`` replaced by ``term``.

    A homophone written to dodge a filter (白家乐 for 百家乐) is nonsense as it stands and makes
    sense once replaced; ordinary words that happen to sound like a term (实时菜价 ~ 时时彩) read
    at least as well as they are. ``margin`` is in natural-log units of the unigram model.
    Cached like :func:`is_word`: both readings cost a pass of the segmenter each.
    """
    tok = tokenizer()
    swapped = clause[:start] + term + clause[end:]
    return _log_prob(tok, swapped) >= _log_prob(tok, clause) + margin


#: Characters of context either side of a short homophone that :func:`reads_as_short` looks at: the
#: unigram reading of two characters depends on their neighbours, not on a whole transcript's run.
SHORT_WINDOW = 10


def reads_as_short(clause: str, start: int, end: int, term: str) -> bool:
    """A two-character homophone (下住 for 下注) is a spelling of ``term`` when it begins and ends on
    word edges (一下主播 holds no 下住) and the text reads at least as well with the term in it.

    The margin is 0, not :func:`reads_as`'s default: a lexicon term is added to the dictionary at the
    lowest frequency that keeps it whole, so it rarely beats two common single characters by a
    margin; the word-edge test and the corroboration the matcher asks of such hits carry the rest.
    Only a window of the clause is segmented, so a long clause costs no more than a short one."""
    a = max(0, start - SHORT_WINDOW)
    window = clause[a : end + SHORT_WINDOW]
    s, e = start - a, end - a
    return is_word(window, s, e) and reads_as(window, s, e, term, margin=0.0)
