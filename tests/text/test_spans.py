"""Hit spans survive every rewriting layer (irregular NFKC forms, separators, variants, pinyin).

Offset maps are built lazily and composed from three layers, so a hit's original span must still
cover exactly the evaded term: matching the span alone finds the same term again.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from text_evasion import SEPARATORS, fullwidth, traditional

from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher
from moderation.text.normalize import char_pinyin, is_han

_LEX = Lexicon.load()
_M = KeywordMatcher(_LEX)
_ZH = sorted(e.term for e in _LEX.entries if e.lang == "zh" and all(is_han(c) for c in e.term) and len(e.term) > 2)
#: terms whose lexicon entry turns pinyin matching off (看福利): their pinyin form is not a hit
_NO_PINYIN = {e.term for e in _LEX.entries if e.pinyin is False}
#: forms that take the slow paths: expansions (ß, ﬁ), deletions (zero-width), a variant key (薇信)
_NOISE = ["Straße", "ﬁne", "\u200b", "\u00ad", "薇信", "好的", "ok", "。", "，", " ", "ＡＢＣ", "後來"]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(_ZH),
    st.lists(st.sampled_from(_NOISE), max_size=4),
    st.lists(st.sampled_from(_NOISE), max_size=4),
    st.sampled_from(["plain", "trad", "sep", "full", "pinyin"]),
    st.sampled_from(SEPARATORS),
)
def test_hit_span_is_the_evaded_term(term: str, pre: list[str], post: list[str], form: str, sep: str) -> None:
    assume(not (form == "pinyin" and term in _NO_PINYIN))
    body = {
        "plain": term,
        "trad": traditional(term),
        "sep": sep.join(term),
        "full": fullwidth(term),
        "pinyin": " ".join(char_pinyin(c) for c in term),
    }[form]
    prefix, suffix = "".join(pre) + "，", "。" + "".join(post)
    text = prefix + body + suffix
    hits = [h for h in _M.match(text) if h.term == term]
    if not hits:  # another term of the same category may win the overlap
        assert any(h.span[0] < len(prefix) + len(body) and h.span[1] > len(prefix) for h in _M.match(text))
        return
    hit = hits[0]
    s, e = hit.span
    assert hit.matched == text[s:e]
    # the span covers the term and nothing of the (unrelated) surrounding text's words
    assert len(prefix) - 1 <= s and e <= len(prefix) + len(body) + 1, (text, hit)
    assert any(h.term == term for h in _M.match(hit.matched)), (text, hit)
