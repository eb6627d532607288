"""Small factories for test objects (supervision-style): tiny, explicit, no models."""

from __future__ import annotations

from moderation.messages import Signal


def signal(
    t: float,
    category: str = "gambling",
    score: float = 0.9,
    kind: str = "asr.keyword",
    stream: str = "s1",
    **kw: object,
) -> Signal:
    return Signal(kind=kind, stream=stream, t=t, score=score, category=category, **kw)  # type: ignore[arg-type]
