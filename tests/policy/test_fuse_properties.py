"""Fusion never fails on what streams actually deliver: signals of any channel, in any order,
late ones included, interleaved with watermark advances."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.config import PipelineConfig
from moderation.messages import Signal
from moderation.policy.fuse import Fuser

_POLICY = PipelineConfig().policy
_KINDS = ("asr.keyword", "ocr.keyword", "chat.keyword")


@st.composite
def _signal(draw: st.DrawFn) -> Signal:
    kind = draw(st.sampled_from(_KINDS))
    t = draw(st.floats(0, 60, allow_nan=False))
    end = t + draw(st.sampled_from([0.0, 0.5, 2.0])) if kind == "asr.keyword" else None
    return Signal(
        stream="s",
        kind=kind,
        t=t,
        end=end,
        score=draw(st.sampled_from([0.3, 0.5, 0.9, 1.0])),
        category=draw(st.sampled_from(["gambling", "tipping_inducement"])),
        term=draw(st.sampled_from(["百家乐", "下注", "刷礼物"])),
        text="x",
        user=draw(st.sampled_from(["u1", "u2"])) if kind == "chat.keyword" else None,
    )


_steps = st.lists(st.one_of(_signal(), st.floats(0, 60, allow_nan=False)), min_size=1, max_size=14)


@settings(max_examples=400, deadline=None)
@given(_steps)
def test_any_order_of_signals_and_advances_fuses_without_error(steps: list[Signal | float]) -> None:
    fuser = Fuser("s", _POLICY)
    verdicts = []
    for step in steps:
        verdicts += fuser.advance(step) if isinstance(step, float) else fuser.add(step)
    verdicts += fuser.finish()
    for v in verdicts:
        assert v.signals, "a verdict without evidence"
        assert v.start <= v.end


def test_late_signal_before_a_closed_episode_opens_from_the_later_evidence() -> None:
    # Found by the property above: a signal older than the end of an episode that already closed
    # raised the score at later moments, and opening then found no evidence at or before it.
    def sig(kind: str, t: float, score: float, term: str, user: str | None = None) -> Signal:
        return Signal(stream="s", kind=kind, t=t, score=score, category="gambling", term=term, text=term, user=user)

    fuser = Fuser("s", _POLICY)
    out = []
    for step in [
        sig("ocr.keyword", 6.92, 0.5, "百家乐"),
        sig("ocr.keyword", 17.34, 1.0, "下注"),
        26.01,  # closes the episode that 17.34 opened
        sig("ocr.keyword", 16.59, 0.9, "百家乐"),  # late: before that episode's end
        sig("chat.keyword", 0.28, 0.5, "下注", "u1"),
        21.79,
        sig("asr.keyword", 13.18, 0.5, "百家乐"),
        sig("ocr.keyword", 5.03, 1.0, "百家乐"),
        20.1,
        sig("chat.keyword", 17.51, 0.5, "下注", "u1"),
        27.4,
    ]:
        out += fuser.advance(step) if isinstance(step, float) else fuser.add(step)
    out += fuser.finish()
    assert out and all(v.signals and v.start <= v.end for v in out)
