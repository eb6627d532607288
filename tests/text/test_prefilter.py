"""The line screen only clears lines that have no candidate, and its shortcuts compute exactly what
the general code does: the ASCII view from tokens, the needles of a pattern, the joined flags."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from text_corpus import benign_sentences
from text_evasion import en_variants, fullwidth, traditional, wrap, zh_variants

from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher
from moderation.text.needles import needles
from moderation.text.prefilter import JOINER
from moderation.text.separators import _collapse_separators, collapse_ascii

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
_SEPARATORS = [" ", ".", "，", "。", "\u200b", "_", "-", "@", "$", "  ", "、", "！", "*", "~", "\n", "😂", "\ufe0f"]


def _texts(lexicon: Lexicon) -> list[str]:
    """Corpora, evasion variants and random mixtures of lexicon keys, separators and benign text."""
    texts = [
        json.loads(line)["text"]
        for p in sorted(DATA.glob("text_*.jsonl"))
        for line in p.read_text("utf-8").splitlines()
        if line.strip()
    ]
    rng = random.Random(5)
    benign = benign_sentences()
    texts += rng.sample(benign, 600)
    keys = [e.term for e in lexicon.entries] + [a for p in lexicon.patterns for a in p.anchors] + list(lexicon.variants)
    for e in lexicon.entries:
        vs = zh_variants(e.term, True, rng) if e.lang == "zh" else en_variants(e.term, rng)
        texts += [wrap(v, e.lang, rng) for v in rng.sample(vs, min(3, len(vs)))]
    emoji = list(lexicon.emoji)
    chars = list("abcxyzABZ0189ßﬃāǎüＡ１的了我百家乐下注微信妈用拿卡頭髮") + emoji + _SEPARATORS
    for _ in range(3000):
        key = rng.choice(keys)
        key = traditional(key) if rng.random() < 0.3 else fullwidth(key) if rng.random() < 0.2 else key
        if rng.random() < 0.5:
            key = rng.choice(_SEPARATORS).join(key)
        line = rng.choice(benign)
        at = rng.randrange(len(line) + 1)
        texts.append(line[:at] + key + line[at:])
        texts.append("".join(rng.choice(chars) for _ in range(rng.randint(1, 25))))
    return texts


@pytest.fixture(scope="module")
def texts(lexicon: Lexicon) -> list[str]:
    return _texts(lexicon)


def test_screen_clears_only_lines_without_candidates(uncached_matcher: KeywordMatcher, texts: list[str]) -> None:
    m = uncached_matcher
    cleared = 0
    for t in texts:
        nt = m.screen.screen(t) if t else None
        full = m.normalizer.normalize(t)
        if nt is None:
            cleared += 1
            assert not full.text or not m._candidates(full)[0], t
        else:  # a line it hands on is normalised exactly as by the normaliser
            assert (nt.text, nt.offsets()) == (full.text, full.offsets()), t
    assert cleared > len(texts) // 4  # and it does clear lines


def test_joined_flags_cover_every_line_with_a_candidate(uncached_matcher: KeywordMatcher, texts: list[str]) -> None:
    m = uncached_matcher
    lines = [t for t in texts if t and not t.isascii() and JOINER not in t and not m.normalizer.spells_emoji(t)]
    from moderation.text.normalize import to_simplified

    for i in range(0, len(lines), 50):
        chunk = lines[i : i + 50]
        convs = [to_simplified(t) for t in chunk]
        full, anchored, with_pinyin = m.screen.flag_joined(JOINER.join(convs))
        for k, t in enumerate(chunk):
            nt = m.normalizer.normalize(t)
            if k not in with_pinyin:  # a line that skips its own pinyin scan would find nothing there
                found: list = []
                m._py.terms(nt, found)
                assert not found, t
            if k in full:
                continue
            patterns = m._pattern_base
            cands = m._candidates(nt)[0]
            assert all(c[2] >= patterns and c[2] - patterns in anchored.get(k, ()) for c in cands), t


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab1 Z.-_,;!?'\"@$\n\t~"), max_size=30))
def test_ascii_view_equals_the_general_rules(text: str) -> None:
    low = text.lower()
    fast, general = collapse_ascii(text, low), _collapse_separators(text, low, None)
    assert fast.text == general.text
    assert fast.offsets() == general.offsets()


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        ("(?:用|偷用|拿)(?:了)?(?:妈|爸)卡", [set("用偷拿"), set("妈爸"), {"卡"}]),
        ("流水[0-9]+倍|打满流水", [set("流打")]),
        ("(?<![a-z])bet(?!ter)", [{"b"}, {"e"}, {"t"}]),
        ("x*y?[^a]z", [{"z"}]),
        ("a{0,2}(?i:b)c", [{"c"}]),
        ("(?i)abc", []),
        ("a.b", [{"a"}, {"b"}]),
        ("a,b", [{"a"}, {"b"}]),  # a separator is never in a view, so it says nothing
    ],
)
def test_needles(regex: str, expected: list[set[str]]) -> None:
    assert [set(s) for s in needles(re.compile(regex))] == expected[:3]


def test_every_match_holds_its_needles(matcher: KeywordMatcher, texts: list[str]) -> None:
    seen = 0
    for t in texts:
        view = matcher.normalizer.normalize(t).text
        for p in matcher.patterns:
            for mt in p.regex.finditer(view):
                seen += 1
                assert all(any(c in view for c in s) for s in needles(p.regex)), (p.name, t)
                assert all(any(c in mt.group() for c in s) for s in needles(p.regex)) or mt.end() == mt.start()
    assert seen > 50
