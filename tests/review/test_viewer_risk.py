"""Viewer verdicts are queued under the viewer and never move the streamer's risk tier."""

from __future__ import annotations

import pytest
from review_factories import verdict

from moderation.config import PolicyConfig
from moderation.messages import ChatMessage
from moderation.policy.fuse import fuse
from moderation.review.records import RecordError, parse_record
from moderation.review.risk import counts_against_streamer
from moderation.review.store import ReviewStore
from moderation.signals.chat import chat_signals
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher


def test_pipeline_viewer_verdict_is_stored_as_the_viewer_and_leaves_the_tier(store: ReviewStore) -> None:
    msgs = [ChatMessage("s1", 5.0, "spam_bot", "百家乐上线，加微信下注")]
    (v,) = fuse("s1", chat_signals(msgs, KeywordMatcher(Lexicon.load()).match), PolicyConfig())
    rec = {**v.to_record(), "streamer": "alice"}
    assert rec["subject"] == {"kind": "viewer", "id": "spam_bot"}
    item_id = store.upsert_verdict(rec).item_id
    item = store.get(item_id)
    assert item.subject == "viewer" and item.record["subject_id"] == "spam_bot"
    store.decide(item_id, "ann", "confirm", category="gambling")
    risk = store.streamer_risk("alice")
    assert (risk.tier, risk.confirmed) == (0, 0)
    own = store.upsert_verdict(
        verdict(streamer="alice", start=40.0, end=41.0, subject={"kind": "streamer", "id": "s1"})
    )
    store.decide(own.item_id, "ann", "confirm", category="gambling")
    assert store.streamer_risk("alice").confirmed == 1


def test_subject_record_forms() -> None:
    assert parse_record(verdict(subject="room")).subject == "room"
    assert counts_against_streamer("streamer") and counts_against_streamer(None)
    assert not counts_against_streamer("viewer")
    for bad in ({"kind": "viewer", "id": 3}, {"kind": "viewer", "who": "x"}, {"kind": "cat", "id": "x"}):
        with pytest.raises(RecordError):
            parse_record(verdict(subject=bad))
