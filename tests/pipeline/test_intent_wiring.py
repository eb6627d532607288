"""The chat intent classifier as a pipeline stage: lines go through the ``intent`` batcher family,
its ``chat.intent`` signals are the viewer's and fuse like keyword hits — through the real
``moderation scan`` with the real classifier, and the live queue's batching, drops and failures
with a stand-in."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from fakes import FakeClients
from feed_server import FeedServer
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.config.intent import IntentConfig
from moderation.messages import ChatMessage, Signal, Verdict
from moderation.pipeline.failures import TaskFailures
from moderation.pipeline.intent_feed import IntentFeed, classify_lines, drop_vetoed
from moderation.pipeline.sinks import CallbackSink
from moderation.pipeline.status import StreamSpec
from moderation.pipeline.stream import StreamPipeline
from moderation.report import read_report

NO_MODELS = (
    "vision: {enabled: false}\nocr: {enabled: false}\nasr: {enabled: false}\nqr: {enabled: false}\n"
    "synthetic: {enabled: false}\n"
)
#: Pressure to tip that names no lexicon term (the rules alone miss it).
PRESSURE = "兄弟们，今晚能不能让我站到第一"  # tipping pressure with no gift, rank word or lexicon term


class StandIn:
    """Inference clients with only the intent family: a line containing 'bad' is vulgar."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on = fail_on

    async def intent(self, texts: Sequence[str]) -> list[dict[str, float] | Exception]:
        self.calls.append(len(texts))
        out: list[dict[str, float] | Exception] = []
        for t in texts:
            if self.fail_on is not None and self.fail_on in t:
                out.append(ValueError(f"cannot embed {t!r}"))
            else:
                p = 0.99 if "bad" in t else 0.01
                out.append({"benign": 1 - p, "vulgar": p})
        return out


def _line(t: float, text: str, user: str = "u1") -> ChatMessage:
    return ChatMessage("s1", t, user, text)


def test_classify_lines_batches_and_skips_a_failed_line() -> None:
    clients = StandIn(fail_on="boom")
    failures = TaskFailures("s1")
    lines = [_line(float(i), "bad words" if i % 2 else "hello") for i in range(5)] + [_line(9.0, "bad boom")]
    cfg = IntentConfig(enabled=True, batch_size=4, veto_score=None, min_units=1)
    sigs = asyncio.run(classify_lines(clients, lines, cfg, failures))  # type: ignore[arg-type]
    assert clients.calls == [4, 2]
    assert [(s.kind, s.t, s.user, s.category) for s in sigs] == [
        ("chat.intent", 1.0, "u1", "vulgar"),
        ("chat.intent", 3.0, "u1", "vulgar"),
    ]
    assert failures.errors == 1


def test_live_feed_sends_waiting_lines_together_and_drops_the_oldest_when_full() -> None:
    async def go() -> tuple[list[list[str]], IntentFeed]:
        emitted: list[list[str]] = []
        feed = IntentFeed(
            StandIn(),
            IntentConfig(enabled=True, min_units=1),
            lambda s: emitted.append([x.text or "" for x in s]),
            TaskFailures("s1"),
            max_pending=3,
        )  # type: ignore[arg-type]
        for i in range(5):  # more than fit: the two oldest go
            feed.push(_line(float(i), f"bad {i}", user=f"u{i}"))
        task = asyncio.create_task(feed.run())
        await asyncio.sleep(0.05)
        task.cancel()
        return emitted, feed

    emitted, feed = asyncio.run(go())
    assert emitted == [["bad 2", "bad 3", "bad 4"]] and feed.dropped == 2 and feed.classified == 3


def _scan(tmp_path: Path, intent: bool) -> list[dict[str, object]]:
    media = make_clip(tmp_path / "room.mp4", seconds=4.0, size=(160, 120), with_audio=False)
    pipe = tmp_path / "p.yaml"
    pipe.write_text(NO_MODELS + f"intent: {{enabled: {str(intent).lower()}}}\n")
    chat = tmp_path / "chat.jsonl"
    lines = [{"t": 0.5, "user": "fan", "text": "晚上好呀"}, {"t": 1.5, "user": "mike", "text": PRESSURE}]
    chat.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    out = tmp_path / "r.jsonl"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "moderation",
            "scan",
            str(media),
            "--chat",
            str(chat),
            "--pipeline",
            str(pipe),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    return read_report(out)


@pytest.mark.slow
def test_scan_with_the_classifier_flags_wording_no_rule_names_as_the_viewers(tmp_path: Path) -> None:
    assert _scan(tmp_path / "rules", intent=False) == []  # the rules alone see nothing here
    (v,) = _scan(tmp_path / "intent", intent=True)
    assert v["category"] == "tipping_inducement" and v["subject"] == {"kind": "viewer", "id": "mike"}
    assert [(s["kind"], s["text"]) for s in v["signals"]] == [("chat.intent", PRESSURE)]  # type: ignore[union-attr]


class IntentFakes(FakeClients):
    """The stand-in models of the live tests, plus a classifier that knows one pressure line."""

    async def intent(self, texts: Sequence[str]) -> list[dict[str, float] | Exception]:
        return [
            {"benign": 0.02, "tipping_inducement": 0.98}
            if t == PRESSURE
            else {"benign": 0.99, "tipping_inducement": 0.01}
            for t in texts
        ]


@pytest.mark.parametrize("veto", [None, 0.5])
def test_a_live_streams_chat_goes_through_the_classifier(tmp_path: Path, veto: float | None) -> None:
    # with the veto on, "晚上好呀" also yields counter-evidence: never a verdict of its own
    clip = make_clip(tmp_path / "c.mp4", seconds=6.0, gop_s=0.5)

    def body() -> str:
        lines = [
            {"ts": time.time(), "user": "fan", "text": "晚上好呀"},
            {"ts": time.time(), "user": "mike", "text": PRESSURE},
        ]
        return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)

    got: list[Verdict] = []
    with FeedServer(body, send_after=2.0, open_for=3.5) as srv:
        cfg = PipelineConfig.model_validate(
            {
                "sampling": {"fps": 2.0},
                "ocr": {"gate": {"enabled": False}},
                "intent": {"enabled": True, "veto_score": veto},
                "live": {
                    "allow_files": True,
                    "allow_networks": ["127.0.0.0/8"],
                    "chat_source": srv.url + "/chat/{stream}",
                },
            }
        )
        pipe = StreamPipeline(
            StreamSpec.from_url(str(clip), "s1"), cfg, IntentFakes(ocr_span=(100.0, 101.0)), [CallbackSink(got.append)]
        )
        status = asyncio.run(pipe.run())
    assert status.state == "ended" and status.chat_messages == 2
    (v,) = got
    assert (
        v.category == "tipping_inducement"
        and v.subject is not None
        and (v.subject.kind, v.subject.id) == ("viewer", "mike")
    )
    assert [s.kind for s in v.signals] == ["chat.intent"]


def _hit(m: ChatMessage, category: str = "gambling") -> Signal:
    return Signal(kind="chat.keyword", stream=m.stream, t=m.t, score=0.9, category=category, user=m.user, text=m.text)


def test_live_veto_holds_a_lines_keyword_hits_until_it_is_classified() -> None:
    async def go() -> tuple[list[tuple[str, str | None]], IntentFeed]:
        emitted: list[tuple[str, str | None]] = []
        feed = IntentFeed(
            StandIn(),
            IntentConfig(enabled=True, veto_score=0.8, min_units=1),
            lambda sigs: emitted.extend((s.kind, s.user) for s in sigs),
            TaskFailures("s1"),
        )  # type: ignore[arg-type]
        quoted = _line(1.0, "news: a casino was closed", user="news")  # the stand-in: P(benign) 0.99, vetoed
        spam = _line(2.0, "bad casino link", user="spam")  # P(benign) 0.01
        for m in (quoted, spam):
            feed.push(m)
            feed.hold([_hit(m)])
        assert emitted == []  # each waits for its line's answer
        task = asyncio.create_task(feed.run())
        await asyncio.sleep(0.05)
        feed.hold([_hit(quoted)])  # a hit arriving after its line was vetoed: dropped at once
        feed.hold([_hit(_line(3.0, "never classified", user="late"))])
        feed.release_all()  # the stream ends: undecided lines keep their hits
        task.cancel()
        return emitted, feed

    emitted, feed = asyncio.run(go())
    assert emitted == [
        ("chat.intent", "news"),  # the veto's counter-evidence (a non-verdict category), not its hit
        ("chat.intent", "spam"),
        ("chat.keyword", "spam"),  # released by its line's answer
        ("chat.keyword", "late"),  # released at the end
    ]
    assert feed.vetoed_hits == 2


def test_without_the_veto_keyword_hits_pass_at_once() -> None:
    emitted: list[Signal] = []
    cfg = IntentConfig(enabled=True, veto_score=None, min_units=1)
    feed = IntentFeed(StandIn(), cfg, emitted.extend, TaskFailures("s1"))  # type: ignore[arg-type]
    feed.hold([_hit(_line(1.0, "news: a casino was closed"))])
    assert len(emitted) == 1


def test_a_scan_drops_the_keyword_hits_of_vetoed_lines() -> None:
    quoted, spam = _line(1.0, "news: a casino was closed", user="news"), _line(2.0, "bad casino", user="spam")
    vetoed: set[tuple[str, str, float]] = set()
    cfg = IntentConfig(enabled=True, veto_score=0.8, min_units=1)
    intent = asyncio.run(classify_lines(StandIn(), [quoted, spam], cfg, vetoed=vetoed))  # type: ignore[arg-type]
    assert vetoed == {("s1", "news", 1.0)}
    kept = drop_vetoed([_hit(quoted), _hit(spam), *intent], vetoed, cfg)
    assert sorted((s.kind, s.user) for s in kept) == [
        ("chat.intent", "news"),  # the veto's own counter-evidence (a non-verdict category)
        ("chat.intent", "spam"),
        ("chat.keyword", "spam"),
    ]


def test_the_veto_never_drops_a_category_the_classifier_does_not_read() -> None:
    """A viewer disclosing their age reads as harmless chat to a head trained on gambling, tipping
    and vulgar lines; its minors hit must count whatever the head says, in a scan and live."""
    cfg = IntentConfig(enabled=True, veto_score=0.8, min_units=1)
    line = _line(1.0, "news: i am 13", user="kid")  # the stand-in calls it harmless: vetoed
    vetoed: set[tuple[str, str, float]] = set()
    asyncio.run(classify_lines(StandIn(), [line], cfg, vetoed=vetoed))  # type: ignore[arg-type]
    assert vetoed == {("s1", "kid", 1.0)}
    kept = drop_vetoed([_hit(line, "minors"), _hit(line, "gambling")], vetoed, cfg)
    assert [s.category for s in kept] == ["minors"]
    emitted: list[Signal] = []
    feed = IntentFeed(StandIn(), cfg, emitted.extend, TaskFailures("s1"))  # type: ignore[arg-type]
    feed.push(line)
    feed.hold([_hit(line, "minors"), _hit(line, "gambling")])
    assert [s.category for s in emitted] == ["minors"]  # not held: no answer can drop it


def test_held_hits_count_anyway_when_the_classifier_stalls() -> None:
    emitted: list[Signal] = []
    feed = IntentFeed(
        StandIn(), IntentConfig(enabled=True, veto_score=0.8, min_units=1), emitted.extend, TaskFailures("s1")
    )  # type: ignore[arg-type]
    line = _line(1.0, "news: a casino was closed")
    feed.push(line)  # its run task never starts: the classifier is stalled
    feed.hold([_hit(line)])
    feed.release_older_than(60.0)
    assert emitted == []  # still within its wait
    feed.release_older_than(0.0)
    assert [s.kind for s in emitted] == ["chat.keyword"]
    feed.release_all()
    assert len(emitted) == 1  # released once


def test_only_lines_held_past_the_wait_are_released(monkeypatch: pytest.MonkeyPatch) -> None:
    import moderation.pipeline.intent_feed as feed_mod

    clock = [100.0]
    monkeypatch.setattr(feed_mod.time, "monotonic", lambda: clock[0])
    emitted: list[Signal] = []
    feed = IntentFeed(
        StandIn(), IntentConfig(enabled=True, veto_score=0.8, min_units=1), emitted.extend, TaskFailures("s1")
    )  # type: ignore[arg-type]
    old, new = _line(1.0, "casino one", user="a"), _line(2.0, "casino two", user="b")
    feed.hold([_hit(old)])
    clock[0] = 103.0
    feed.hold([_hit(new), _hit(old)])  # a second hit of the old line keeps the old line's age
    clock[0] = 105.5
    feed.release_older_than(5.0)
    assert [s.user for s in emitted] == ["a", "a"]
    clock[0] = 108.0
    feed.release_older_than(5.0)
    assert [s.user for s in emitted] == ["a", "a", "b"]


def test_short_lines_are_left_to_the_rules() -> None:
    """A greeting of a few characters is not classified (the head over-reads such lines): no
    signal, no veto, and live its keyword hits are not held."""
    cfg = IntentConfig(enabled=True, veto_score=0.8)  # the default min_units
    short, long = _line(1.0, "主播你好", user="fan"), _line(2.0, "兄弟们今晚一起去那个平台下注", user="spam")
    asked: list[str] = []

    class Recording(StandIn):
        async def intent(self, texts: Sequence[str]) -> list[dict[str, float] | Exception]:
            asked.extend(texts)
            return await super().intent(texts)

    asyncio.run(classify_lines(Recording(), [short, long], cfg))  # type: ignore[arg-type]
    assert asked == [long.text]
    emitted: list[Signal] = []
    feed = IntentFeed(Recording(), cfg, emitted.extend, TaskFailures("s1"))  # type: ignore[arg-type]
    feed.push(short)
    feed.hold([_hit(short)])
    assert [s.user for s in emitted] == ["fan"]  # at once, not after the hold's wait
