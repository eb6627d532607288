"""Verdict outlets for unit tests: a sink that keeps records, and an outlet whose clock, failures,
de-duplication and notifications are inert, so a test names only what it is about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moderation.messages import Verdict
from moderation.pipeline.failures import TaskFailures
from moderation.pipeline.outlet import VerdictOutlet
from moderation.pipeline.status import StreamSpec


class Records:
    """A verdict sink that keeps every record it is given."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def write(self, verdict: Verdict) -> None:
        self.records.append(verdict.to_record())

    def close(self) -> None:
        pass


def bare_outlet(spec: StreamSpec, sinks: Sequence[Any], **given: Any) -> VerdictOutlet:
    """A :class:`VerdictOutlet` of stream ``spec`` (its id also names the failures) with no evidence,
    no enforcement, a 1 s merge gap and inert hooks, except what ``given`` sets."""
    kwargs: dict[str, Any] = {
        "evidence": None,
        "enforcer": None,
        "gap_for": lambda _c: 1.0,
        "failures": TaskFailures(spec.stream_id),
        "wall_at": lambda _t: None,
        "model_versions": tuple,
        "seen": lambda *_a: None,
        "notify": lambda _w: None,
    }
    kwargs.update(given)
    return VerdictOutlet(spec, list(sinks), **kwargs)
