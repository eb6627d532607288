"""Shared fixtures: the real lexicon and one matcher (building the automatons once per session)."""

from __future__ import annotations

import pytest

# text_corpus / text_evasion are plain helper modules beside these tests (pytest runs with importlib mode).
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    return Lexicon.load()


@pytest.fixture(scope="session")
def matcher(lexicon: Lexicon) -> KeywordMatcher:
    return KeywordMatcher(lexicon)


@pytest.fixture(scope="session")
def uncached_matcher(lexicon: Lexicon) -> KeywordMatcher:
    """A matcher without a line cache, for tests of the matching paths themselves (with one, a
    line matched once is answered from the cache by every later call)."""
    return KeywordMatcher(lexicon, line_cache=0)
