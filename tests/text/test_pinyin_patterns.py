"""Lexicon patterns read in pinyin: a sentence typed in pinyin meets the same pattern families as
the Han text it spells, English and ordinary pinyin chat do not, and the rewrite keeps a pattern's
structure (optional parts stay optional, dropped characters do not block a match)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from re import _constants as _sre_c  # type: ignore[attr-defined]
from re import _parser as _sre_p  # type: ignore[attr-defined]
from typing import Any

import pytest

from moderation.text.matcher import KeywordMatcher
from moderation.text.pinyin_patterns import pinyin_runs, reads_as_pinyin, to_pinyin_regex


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("da ge men shua ge huo jian ba", "tipping_inducement"),  # gift_send
        ("song liang ge you ting gei zhu bo", "tipping_inducement"),
        ("ni quan jia dou si le", "vulgar"),  # family_curse
        ("zhu bo ba yi fu tuo le gei wo men kan kan", "vulgar"),  # garment_then_undress
        ("ya da ya xiao kuai lai", "gambling"),  # bet_side
    ],
)
def test_pinyin_sentence_meets_the_pattern_families(matcher: KeywordMatcher, text: str, category: str) -> None:
    hits = [h for h in matcher.match(text) if h.category == category and h.context == "plain"]
    assert hits and max(h.weight for h in hits) >= 0.5, matcher.match(text)
    assert any(h.via == "pinyin" for h in hits)


@pytest.mark.parametrize(
    "text",
    [
        "wo men qu chi fan ba",
        "jin tian tian qi hen hao",
        "zhu bo chang ge zhen hao ting",
        "send me the link please",
        "i love this song so much",
    ],
)
def test_ordinary_chat_has_no_pattern_hit(matcher: KeywordMatcher, text: str) -> None:
    assert [h for h in matcher.match(text) if h.weight > 0.1] == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("出售色情shipin，量大从优", "vulgar"),  # a pinyin word written into a Han line
        ("不shua就xia播了啊", "tipping_inducement"),
        ("宝宝们song个paoche给主播", "tipping_inducement"),
    ],
)
def test_a_pinyin_word_in_a_han_line_meets_the_patterns(matcher: KeywordMatcher, text: str, category: str) -> None:
    hits = [h for h in matcher.match(text) if h.category == category and h.context == "plain"]
    assert hits and max(h.weight for h in hits) >= 0.5, matcher.match(text)
    assert matcher.match_many([text]) == [matcher.match(text)]  # the batch screen lets it through too


@pytest.mark.parametrize(
    "text",
    [
        "今天去shopping了",  # English, no syllables
        "这个角色很man啊",  # a pinyin-shaped English word, no pattern around it
        "我在玩原神hhh",
        "主播唱歌真好听，loving it",
    ],
)
def test_han_lines_with_latin_words_stay_clean(matcher: KeywordMatcher, text: str) -> None:
    assert [h for h in matcher.match(text) if h.weight > 0.1] == []


def test_pinyin_runs_are_latin_words_of_a_han_line() -> None:
    assert pinyin_runs("色情shipin出售") == [(2, 8)]
    assert pinyin_runs("加v私聊sm") == []  # initialisms are too short to be read as pinyin
    assert pinyin_runs("shipin chushou") == []  # no Han: the whole-sentence test decides


def test_only_pinyin_sentences_are_read_as_pinyin() -> None:
    assert reads_as_pinyin("song ge pao che ba")
    assert reads_as_pinyin("ni hao, zai ma")
    assert not reads_as_pinyin("ni hao")  # too short to tell
    assert not reads_as_pinyin("send gifts please")  # English words do not segment into syllables
    assert not reads_as_pinyin("song ge 520 ba")  # a number is no syllable


def test_rewrite_keeps_optional_parts_and_drops_guards() -> None:
    rx = to_pinyin_regex("(?<![鸡鸭])胸(?:好|真)(?:大|挺)")
    assert rx is not None
    assert rx.fullmatch("xionghaoda") and rx.fullmatch("xiongzhenting")
    assert not rx.fullmatch("xionghao")
    counted = to_pinyin_regex("刷[0-9一二]+个?火箭")
    assert counted is not None
    assert counted.fullmatch("shuayigehuojian") and counted.fullmatch("shuahuojian")  # digits are dropped
    assert to_pinyin_regex("dick ?pics?") is None  # latin only: the character view has it


def _repeats(parsed: Any) -> list[tuple[int, Any, Any]]:
    """Every repeat node (lo, hi, body) of a parsed regex, however deep."""
    out: list[tuple[int, Any, Any]] = []
    for op, av in parsed:
        if op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT):
            out.append(av)
            out += _repeats(av[2])
        elif op is _sre_c.SUBPATTERN:
            out += _repeats(av[-1])
        elif op is _sre_c.BRANCH:
            for branch in av[1]:
                out += _repeats(branch)
    return out


def test_no_rewritten_pattern_can_backtrack_catastrophically(matcher: KeywordMatcher) -> None:
    """A repeat whose body can match nothing, or is itself a variable repeat, makes a regex
    backtrack exponentially on a long line: one run-on pinyin chat line would stall the matcher."""
    assert matcher._pinyin_patterns
    for _k, rx in matcher._pinyin_patterns:
        for _lo, hi, body in _repeats(_sre_p.parse(rx.pattern)):
            if hi == 1:
                continue
            lo_w, hi_w = body.getwidth()
            assert lo_w > 0, f"nullable body repeated: {rx.pattern[:160]}"
            only_repeat = len(body) == 1 and body[0][0] in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT)
            assert not (only_repeat and lo_w != hi_w), f"nested quantifier: {rx.pattern[:160]}"


def test_long_run_on_pinyin_lines_are_matched_without_stalling() -> None:
    """Adversarial lines through the whole matcher in a child process: it must finish (the old
    rewrite never did on a 46-letter line)."""
    lines = [  # spaced: a line is read as pinyin only when it has three words or more
        "jia ren men xiao shi bang di er ming cha yi dian jiu di yi le",
        "jia ren men " + "yi er san si wu liu qi ba jiu " * 8 + "cha " + "yi " * 40,
        "cha " + "yi er san " * 30 + "pk",
        "song ge li wu " * 25,
    ]
    code = (
        "import json, sys\n"
        "from moderation.text.lexicon import Lexicon\n"
        "from moderation.text.matcher import KeywordMatcher\n"
        "m = KeywordMatcher(Lexicon.load())\n"
        "print(sum(len(m.match(x)) for x in json.loads(sys.argv[1])))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(lines)], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_a_leetspeak_pinyin_word_in_a_han_line_meets_the_patterns(matcher: KeywordMatcher) -> None:
    hits = [h for h in matcher.match("5e情sh1pin 出售") if h.category == "vulgar" and h.context == "plain"]
    assert hits and hits[0].via == "pinyin", matcher.match("5e情sh1pin 出售")


@pytest.mark.parametrize(
    "text",
    [
        "cz zhao wo, zk ba zhe, bi pt pian yi",  # initialisms spelled out (充值, 折扣, 平台) in a pinyin line
        "shua ge jnh jiu gei ni si liao",  # a gift's initialism in a pinyin sentence
        "gh rw hai cha wu qian, qiu qiu jia ren men",
    ],
)
def test_a_gift_rooms_initialisms_read_in_a_pinyin_line(matcher: KeywordMatcher, text: str) -> None:
    assert "tipping_inducement" in {h.category for h in matcher.match(text) if h.weight > 0}, matcher.match(text)


@pytest.mark.parametrize("text", ["my pt session ran long today", "new sp update is out, cz servers down"])
def test_those_initialisms_in_english_chat_are_not(matcher: KeywordMatcher, text: str) -> None:
    assert not [h for h in matcher.match(text) if h.weight > 0.1], matcher.match(text)
