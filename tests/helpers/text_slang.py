"""What the slang-family tests share: sentences built from a family's parts, the weight a lone line
needs to open a verdict, and what fusion makes of one viewer's line."""

from __future__ import annotations

import itertools

from moderation.text.matcher import KeywordMatcher

# The weight a lone text needs to open a verdict (CategoryPolicy thresholds: vulgar 0.6, others 0.5).
OPENS = {"vulgar": 0.6, "gambling": 0.5, "tipping_inducement": 0.5}


def family(parts: list[list[str]], around: str = "{}") -> list[str]:
    """Every sentence of one part from each list, joined, set into ``around``."""
    return [around.format("".join(p)) for p in itertools.product(*parts)]


def score(matcher: KeywordMatcher, text: str, category: str) -> float:
    """What fusion makes of one viewer's line: each term (a pattern is one term, however many of
    its phrases the line holds) at its best plain weight, the terms combined by noisy-OR."""
    best: dict[str, float] = {}
    for h in matcher.match(text):
        if h.category == category and h.context == "plain":
            best[h.term] = max(best.get(h.term, 0.0), h.weight)
    miss = 1.0
    for w in best.values():
        miss *= 1.0 - w
    return 1.0 - miss
