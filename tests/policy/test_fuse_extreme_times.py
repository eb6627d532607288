"""The fuser accepts any finite media time: a signal from the far future or far past never breaks
it (an untrusted chat line's time reaches it), and a non-finite time is refused clearly."""

from __future__ import annotations

import math

import pytest
from factories import signal

from moderation.config import CategoryPolicy, PolicyConfig
from moderation.policy.fuse import Fuser


def _fuser() -> Fuser:
    return Fuser("s1", PolicyConfig(categories={"gambling": CategoryPolicy(merge_gap_s=5.0)}))


@pytest.mark.parametrize("far", [1e18, 1e300, 2.0**1023])
def test_a_far_future_signal_is_accepted_and_later_ones_do_not_break(far: float) -> None:
    f = _fuser()
    verdicts = f.add(signal(1.0))
    verdicts += f.add(signal(far))  # t - lookback == t in floating point: it must not prune itself
    verdicts += f.add(signal(2.0))  # late now: behind the far-future clock
    verdicts += f.add(signal(far))
    verdicts += f.finish()
    assert [v.start for v in verdicts] == [1.0, far]
    assert f.late_dropped == 1


def test_a_signal_older_than_the_lookback_is_dropped_not_a_crash() -> None:
    f = _fuser()
    f.add(signal(1000.0))
    assert f.add(signal(1.0)) == []  # far behind: nothing within its window is kept any more
    assert f.late_dropped == 1
    (v,) = f.finish()
    assert v.start == 1000.0 and len(v.signals) == 1


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_times_are_refused(bad: float) -> None:
    f = _fuser()
    with pytest.raises(ValueError, match="finite"):
        f.add(signal(bad))
    f.add(signal(1.0))  # the fuser is unharmed
    assert len(f.finish()) == 1


def test_nan_watermark_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        _fuser().advance(math.nan)
