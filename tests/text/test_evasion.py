"""Every term survives evasion: property tests plus a recall number over generated variants."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from text_evasion import SEPARATORS, en_variants, fullwidth, traditional, wrap, zh_variants

from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher
from moderation.text.normalize import char_pinyin, is_han

_LEX = Lexicon.load()
_M = KeywordMatcher(_LEX)
_ZH = [e for e in _LEX.entries if e.lang == "zh"]
_ZH_PINYIN = [e.term for e in _ZH if e.pinyin is not False and all(is_han(c) for c in e.term) and len(e.term) > 1]
_EN = [e for e in _LEX.entries if e.lang == "en"]
_CAT = {e.term: e.category for e in _LEX.entries}


def _found(entry_term: str, category: str, text: str) -> bool:
    return any(h.term == entry_term or h.category == category for h in _M.match(text))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_zh_terms_survive_mixed_evasion(data: st.DataObject) -> None:
    term = data.draw(st.sampled_from(_ZH_PINYIN))
    parts = []
    for c in term:
        form = data.draw(st.sampled_from(["plain", "trad", "pinyin", "PINYIN", "Pinyin"]))
        parts.append(
            {
                "plain": c,
                "trad": traditional(c),
                "pinyin": char_pinyin(c),
                "PINYIN": char_pinyin(c).upper(),
                "Pinyin": char_pinyin(c).capitalize(),
            }[form]
        )
    seps = [data.draw(st.sampled_from(["", *SEPARATORS])) for _ in parts[1:]]
    text = parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=True))
    if data.draw(st.booleans()):
        text = fullwidth(text)
    hits = _M.match(f"大家{text}吧")
    # a synonym of the same category at the same place counts (压大压小 / 押大押小 share a pinyin key)
    assert any(h.term == term or h.category == _CAT[term] for h in hits), (term, text, hits)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([e.term for e in _ZH]), st.sampled_from(SEPARATORS), st.booleans())
def test_all_zh_terms_survive_traditional_and_separators(term: str, sep: str, full: bool) -> None:
    text = sep.join(traditional(term))
    if full:
        text = fullwidth(text)
    assert any(h.term == term for h in _M.match(text)), (term, text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([e.term for e in _EN]), st.sampled_from(["upper", "title", "full"]))
def test_en_terms_survive_case_and_fullwidth(term: str, form: str) -> None:
    text = {"upper": term.upper(), "title": term.title(), "full": fullwidth(term)}[form]
    line = f"hey {text} now"
    cat = next(e.category for e in _EN if e.term == term)
    start = line.index(text)
    # the term, or a longer reading of the same category that takes it in ("send gifts now", an ask)
    assert any(
        h.term == term or (h.category == cat and h.span[0] <= start and start + len(text) <= h.span[1])
        for h in _M.match(line)
    ), (term, text)


def evasion_recall(seed: int = 1) -> tuple[float, int, list[tuple[str, str]]]:
    """Share of generated evasion variants (all terms) that are still found; also the misses."""
    rng = random.Random(seed)
    total, misses = 0, []
    for e in _LEX.entries:
        pin = e.term in _ZH_PINYIN
        variants = zh_variants(e.term, pin, rng) if e.lang == "zh" else en_variants(e.term, rng)
        for v in variants:
            text = wrap(v, e.lang, rng)
            total += 1
            if not _found(e.term, e.category, text):
                misses.append((e.term, text))
    return 1 - len(misses) / total, total, misses


def test_evasion_recall_at_least_95_percent() -> None:
    recall, total, misses = evasion_recall()
    print(f"evasion recall {recall:.4f} over {total} variants; misses: {misses[:20]}")
    assert recall >= 0.95, misses[:50]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_ZH_PINYIN),
    st.sampled_from(["", " ", "-", "'", ".", "_", "  "]),
    st.lists(st.sampled_from(["lower", "upper", "title"]), min_size=1, max_size=4),
    st.booleans(),
    st.booleans(),
)
def test_zh_terms_survive_full_pinyin_rewriting(term: str, sep: str, cases: list[str], tones: bool, full: bool) -> None:
    """The whole term written in pinyin: any separator, per-syllable case, tone digits, full-width."""
    syl = [char_pinyin(c) for c in term]
    forms = [getattr(s, cases[i % len(cases)])() for i, s in enumerate(syl)]
    if tones:
        forms = [f"{s}{(i % 4) + 1}" for i, s in enumerate(forms)]
    text = sep.join(forms)
    if full:
        text = fullwidth(text)
    hits = _M.match(f"快来{text}吧")
    assert any(h.term == term or h.category == _CAT[term] for h in hits), (term, text, hits)
