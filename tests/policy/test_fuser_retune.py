"""Swapping a running fuser's policy (a stricter profile for a riskier streamer): thresholds and
actions change with the open episode kept; a change of look-back is refused."""

from __future__ import annotations

from factories import signal

from moderation.config import PolicyConfig, load_pipeline
from moderation.policy.fuse import Fuser


def test_stricter_thresholds_apply_to_the_open_episode_and_what_follows() -> None:
    lax = PolicyConfig.model_validate({"categories": {"gambling": {"threshold": 0.95, "close_threshold": 0.5}}})
    strict = load_pipeline("strict").policy
    f = Fuser("s1", lax)
    for t in (1.0, 2.0, 3.0):
        f.add(signal(t, score=0.6))
    assert f.active() == []  # 0.6 never opens at 0.95
    assert f.retune(strict)
    f.add(signal(4.0, score=0.6))
    (open_v,) = f.active()
    assert open_v.category == "gambling" and open_v.start <= 4.0
    out = f.finish()
    assert [v.category for v in out] == ["gambling"] and out[0].action in ("review", "warn", "cut")


def test_a_different_window_is_refused_and_nothing_changes() -> None:
    base = PolicyConfig()
    wide = PolicyConfig.model_validate({"categories": {"gambling": {"window_s": 99.0}}})
    f = Fuser("s1", base)
    assert not f.retune(wide)
    assert f.policy is base
