"""What a line counts as evidence of, for tests that assert categories rather than hit lists."""

from __future__ import annotations

from moderation.text.matcher import KeywordMatcher

#: The weight from which a hit opens a verdict on its own at the default thresholds.
FULL_WEIGHT = 0.5


def evidence(matcher: KeywordMatcher, text: str) -> set[str]:
    """Categories with a plain (not framed, not ambiguous) hit that counts at full weight."""
    return {h.category for h in matcher.match(text) if h.context == "plain" and h.weight >= FULL_WEIGHT}
