"""Near-duplicate lines between text sets by character-bigram Jaccard similarity, through an
inverted index, so that checking thousands of lines against thousands does not compare every pair.

Two bigram sets ``a`` and ``b`` are near when ``|a ∩ b| ≥ bar · |a ∪ b|``. Only lines that share a
bigram can be near (a bigram set is never empty: a one-character line is its own "bigram"), so the
index counts shared bigrams per candidate and decides each from that count exactly — the same answer
as the pairwise test, which :func:`near` keeps for the unit test of the bar itself.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable


def near(a: frozenset[str] | set[str], b: frozenset[str] | set[str], bar: float) -> bool:
    """The pairwise test."""
    return len(a & b) >= bar * len(a | b)


class NearIndex:
    """Bigram sets of one or more texts, queried for any near one."""

    def __init__(self, grams: Iterable[frozenset[str] | set[str]], bar: float) -> None:
        self.bar = bar
        self.sizes: list[int] = []
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, g in enumerate(grams):
            self.sizes.append(len(g))
            for bg in g:
                self.postings[bg].append(i)

    def has_near(self, g: frozenset[str] | set[str]) -> bool:
        """Whether any indexed set is near ``g``."""
        shared: Counter[int] = Counter()
        for bg in g:
            shared.update(self.postings.get(bg, ()))
        n = len(g)
        return any(k >= self.bar * (n + self.sizes[i] - k) for i, k in shared.items())
