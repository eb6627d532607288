"""The intent section's scoring: rules, intent, their union and the veto, counted per class."""

from __future__ import annotations

import pytest

from benchmarks.text_quality_intent import _score
from moderation.config import IntentConfig

ROWS = [
    {"text": "a", "category": "gambling", "evasion": "plain"},  # rules catch it
    {"text": "b", "category": "gambling", "evasion": "slang"},  # only the classifier does
    {"text": "c", "category": "vulgar", "evasion": "implicit"},  # nobody does
    {"text": "d"},  # benign, a rule fires but the classifier is sure it is harmless
    {"text": "e"},  # benign, quiet
]
RULES = [{"gambling"}, set(), set(), {"gambling"}, set()]
PROBS = [
    {"benign": 0.5, "gambling": 0.4, "vulgar": 0.1},
    {"benign": 0.1, "gambling": 0.85, "vulgar": 0.05},
    {"benign": 0.6, "gambling": 0.0, "vulgar": 0.4},
    {"benign": 0.95, "gambling": 0.05, "vulgar": 0.0},
    {"benign": 0.7, "gambling": 0.1, "vulgar": 0.2},
]


def test_modes_count_what_each_channel_adds() -> None:
    res = _score(ROWS, RULES, PROBS, IntentConfig(min_score=0.7, veto_score=0.9, min_units=1))
    assert res["rules"]["recall"] == {"gambling": 0.5, "vulgar": 0.0}
    assert res["rules"]["benign_fp_rate"] == pytest.approx(0.5)
    assert res["intent"]["recall"]["gambling"] == 0.5 and res["intent"]["benign_fp_rate"] == 0.0
    assert res["rules+intent"]["recall"]["gambling"] == 1.0
    assert res["rules+intent"]["recall_by_evasion"] == {"implicit": 0.0, "plain": 1.0, "slang": 1.0}
    veto = res["rules+intent+veto"]
    assert veto["benign_fp_rate"] == 0.0 and veto["recall"]["gambling"] == 1.0


def test_intent_section_measures_every_held_out_set() -> None:
    from benchmarks.text_quality import intent_sets

    sets = intent_sets(smoke=False)
    splits = {name: {r.get("split") for r in rows} for name, rows in sets.items()}
    assert {"heldout"} in splits.values() and {"fresh3"} in splits.values() and {"fresh4"} in splits.values()
    assert {"fresh2"} not in splits.values()  # the older hand-written sets are training data now
    for name, rows in sets.items():
        cats = {r.get("category", "benign") for r in rows}
        assert cats == {"benign", "gambling", "tipping_inducement", "vulgar"}, name
    assert all(len(rows) == 20 for rows in intent_sets(smoke=True).values())


def test_dense_feeds_add_the_classifiers_signals_through_the_fusion() -> None:
    from benchmarks.text_quality import KeywordMatcher, Lexicon, intent_dense_feeds, load_pipeline

    # the feed takes a set's unlabelled (benign) rows; the last one is tipping pressure no rule names
    texts = ["今天的晚饭真好吃", "主播唱得真好听", "哥哥们再来两个大的，今晚就能上小时榜了"]
    rows = [{"text": t} for t in texts]
    feeds = intent_dense_feeds({"tiny": rows}, KeywordMatcher(Lexicon.load()), load_pipeline("default").policy)
    rules, both = feeds["tiny"]["rules"], feeds["tiny"]["rules+intent"]
    assert rules["messages"] == both["messages"] == 3
    assert rules["messages_in_verdicts"] == 0 and both["messages_in_verdicts"] == 1


def test_short_lines_get_no_classifier_signal_as_in_the_pipeline() -> None:
    res = _score(ROWS, RULES, PROBS, IntentConfig(min_score=0.7, veto_score=0.9))  # one-letter lines: rules only
    assert res["rules+intent+veto"] == res["rules"]
