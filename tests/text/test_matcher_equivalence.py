"""The optimised matcher gives exactly the hits of the straightforward reference path.

The shortcuts (no offset maps for lines without a candidate, a homophone-only pinyin automaton for
lines without latin letters, pinyin duplicates of text hits dropped before resolution) must never
change a hit; this compares every field of every hit over the benchmark corpora and generated
evasion variants of every lexicon term.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from text_corpus import benign_sentences
from text_evasion import en_variants, wrap, zh_variants
from text_reference import ReferenceMatcher

from moderation.text.lexicon import DEFAULT_DIR, Lexicon
from moderation.text.matcher import KeywordMatcher

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"


def _texts(lexicon: Lexicon) -> list[str]:
    texts = []
    for p in sorted(DATA.glob("text_*.jsonl")):
        texts += [json.loads(line)["text"] for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(11)
    texts += rng.sample(benign_sentences(), 400)
    for e in lexicon.entries:
        vs = zh_variants(e.term, True, rng) if e.lang == "zh" else en_variants(e.term, rng)
        texts += [wrap(v, e.lang, rng) for v in rng.sample(vs, min(4, len(vs)))]
    # leetspeak, mixed scripts and separators around Han text reach every shortcut
    texts += ["b0cai 平台", "百.家.乐 baijiale", "bai jia le 走起", "白家乐 来了", "ca5ino 888", "实时菜价"]
    return texts


def _key(hits: list) -> list[tuple]:
    return [(h.term, h.category, h.weight, h.span, h.matched, h.via, h.context) for h in hits]


@pytest.fixture(scope="module")
def reference(lexicon: Lexicon) -> ReferenceMatcher:
    return ReferenceMatcher(lexicon)


def test_optimised_matcher_equals_reference(
    uncached_matcher: KeywordMatcher, reference: ReferenceMatcher, lexicon: Lexicon
) -> None:
    matcher = uncached_matcher
    texts = _texts(lexicon)
    assert len(texts) > 2000
    diffs = [(t, _key(matcher.match(t)), _key(reference.match(t))) for t in texts]
    diffs = [d for d in diffs if d[1] != d[2]]
    assert not diffs, f"{len(diffs)} texts differ, first: {diffs[0]}"
    # the comparison covers hits of every kind, not only empty results
    vias = {h.via for t in texts for h in matcher.match(t)}
    assert {"text", "pinyin", "pattern"} <= vias


def _edge_cases(lexicon: Lexicon) -> list[str]:
    """Lines that take every branch of the batch path: the joiner itself, emoji spelled as words,
    Traditional text, characters that do not map 1:1, empty and separator-only lines, separators
    at the edges, leetspeak."""
    emoji = next(iter(lexicon.emoji), "🚀")
    return [
        "",
        " ",
        "，，，",
        "\x1e",
        "百家乐\x1e下注",
        "a\x1eb casino",
        f"{emoji}走一波",
        f"刷{emoji}{emoji}",
        "乾隆皇帝的頭髮",
        "百家樂 皇后娛樂城",
        "百\u200b家\u200b乐",  # zero-width characters
        "ﬃ casino straße",  # expansions under NFKC / casefold
        "...百家乐...",
        "  baijiale  ",
        "!!下注!!",
        "b0cai 平台",
        "c.a.5.i.n.o",
        "ca5ino",
        "b.0cai",
        "p0rn",
        "薇信 加我",
        "V信 dd12345",
        "CASINO",
        "ｃａｓｉｎｏ",
        "百 家 乐",
        "以下，注意",
        "dà gē men shuā gè huǒ jiàn ba，xiè xiè",  # tone-marked pinyin sentences: ASCII views
        "jīn wǎn yǒu zhēn qián jú，kuài lái",
    ]


@pytest.mark.parametrize("size", [1, 3, 64, 500])
def test_match_many_equals_match(uncached_matcher: KeywordMatcher, lexicon: Lexicon, size: int) -> None:
    matcher = uncached_matcher
    texts = _texts(lexicon)
    edge = _edge_cases(lexicon)
    rng = random.Random(size)
    # edge cases land at the start, the end and in the middle of batches
    mixed = edge + texts + edge
    for t in edge:
        mixed.insert(rng.randrange(len(mixed)), t)
    want = [_key(matcher.match(t)) for t in mixed]
    got: list[list[tuple]] = []
    for i in range(0, len(mixed), size):
        got += [_key(h) for h in matcher.match_many(mixed[i : i + size])]
    diffs = [(t, g, w) for t, g, w in zip(mixed, got, want, strict=True) if g != w]
    assert not diffs, f"{len(diffs)} texts differ, first: {diffs[0]}"
    assert sum(1 for w in want if w) > 500  # many lines with hits, not only empty results


def test_match_many_of_nothing(matcher: KeywordMatcher) -> None:
    assert matcher.match_many([]) == []
    assert matcher.match_many(["", ""]) == [[], []]


def test_match_many_when_conversion_changes_length(
    uncached_matcher: KeywordMatcher, lexicon: Lexicon, monkeypatch: pytest.MonkeyPatch
) -> None:
    matcher = uncached_matcher
    # OpenCC's bundled t2s dictionaries keep lengths; a phrase rule that does not must send its line
    # (and only its line) down the per-line path, which converts character by character
    from moderation.text import normalize

    normalize._converter()
    convert = normalize._CLIB_CONVERT

    def longer(cc: object, raw: bytes, n: int) -> str:
        return str(convert(cc, raw, n)).replace("头发", "头头发")

    monkeypatch.setattr(normalize, "_CLIB_CONVERT", longer)
    texts = ["頭髮 百家樂", "百家乐 走起", *_edge_cases(lexicon), "剪頭髮 下注"]
    assert normalize.to_simplified("頭髮") == "头发"  # the per-line path keeps lengths
    want = [_key(matcher.match(t)) for t in texts]
    assert [_key(h) for h in matcher.match_many(texts)] == want
    assert want[0] and want[-1]


def test_match_many_scans_pinyin_made_by_a_variant(tmp_path: Path) -> None:
    """The batch path skips the pinyin scan of lines whose translated text has no pinyin key; a
    variant can make one ("zz家乐" → "白家乐", read as 百家乐), so such lines keep their scan."""
    for f in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    p = tmp_path / "variants.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("variants:\n", "variants:\n  zz: 白\n", 1), encoding="utf-8")
    m = KeywordMatcher(Lexicon.load(tmp_path), line_cache=0)
    texts = ["zz家乐", "今晚 zz家乐 走起", "你好"]
    want = [_key(m.match(t)) for t in texts]
    assert [h[0] for h in want[0]] == ["百家乐"] and want[0][0][5] == "pinyin"
    assert [_key(h) for h in m.match_many(texts)] == want


def test_tone_marked_pinyin_sentence_meets_patterns_in_batches(uncached_matcher: KeywordMatcher) -> None:
    matcher = uncached_matcher
    line = "jīn wǎn yǒu zhēn qián jú，kuài lái"  # no lexicon key in it: only a pattern read in pinyin
    one = matcher.match(line)
    assert any(h.via == "pinyin" and h.category == "gambling" for h in one)
    assert [_key(h) for h in matcher.match_many(["正常聊天", line, "百家乐"])][1] == _key(one)
