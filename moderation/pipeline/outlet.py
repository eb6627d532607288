"""Where a live stream's verdicts go: stamped, given evidence, written, enforced — each isolated.

Split from :mod:`moderation.pipeline.stream` because it is the pipeline's one side effect on
the world and has its own failure rules: a verdict is finished in its own task (a slow clip never
holds the fusers back); an evidence failure loses the clip, not the verdict; a sink that raises
loses the verdict for that sink only; ``warn``/``cut`` are enforced once per violation and action
(warn, then cut if it escalates), and the final record carries what was done (``enforcement``).
A cut that succeeded also ends the stream's connection for its evidence (``on_cut``): the
publisher is gone, so clips waiting for a post-roll are cut from what the ring holds at once.
Everything it survives is counted in the stream's :class:`~moderation.pipeline.failures.TaskFailures`.

A violation first seen open gets a *provisional* record at once (:meth:`VerdictOutlet.opened`):
the review queue shows it, marked live, about a second after its alert instead of when it closes.
When that violation is then enforced (warn/cut while open), its live item is rewritten once with
the ``enforcement``. Its final verdict carries the same ``violation_id``
(:class:`~moderation.pipeline.alerts.ViolationIds`), so the queue updates that item in place.
Only sinks that say so (``takes_provisional``) get provisional records: a JSONL report is one
final line per verdict.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from moderation.evidence.strategy import EvidenceStrategy
from moderation.messages import Enforcement, Verdict
from moderation.pipeline.alerts import ViolationIds, ViolationLog
from moderation.pipeline.enforce import Enforcer, Target
from moderation.pipeline.failures import TaskFailures
from moderation.pipeline.observe import VerdictWritten
from moderation.pipeline.room_check import is_room_verdict
from moderation.pipeline.sinks import VerdictSink, takes_provisional
from moderation.pipeline.status import StreamSpec

__all__ = ["VerdictOutlet"]

log = logging.getLogger(__name__)

#: Verdicts kept for status and tests (the sinks hold them all).
KEEP = 100


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z" if dt is not None else None


class VerdictOutlet:
    """Finishes the verdicts of one stream; ``drain()`` awaits those still in flight."""

    def __init__(
        self,
        spec: StreamSpec,
        sinks: Sequence[VerdictSink],
        *,
        evidence: EvidenceStrategy | None,
        room_evidence: EvidenceStrategy | None = None,
        enforcer: Enforcer | None,
        gap_for: Callable[[str], float],
        failures: TaskFailures,
        wall_at: Callable[[float], datetime | None],
        model_versions: Callable[[], tuple[tuple[str, str], ...]],
        seen: Callable[[Verdict, datetime, bool], object],
        notify: Callable[[VerdictWritten], None],
        refresh_s: float = 0.0,
        settle_after: Callable[[str], float] | None = None,
        on_cut: Callable[[], None] | None = None,
    ) -> None:
        self.spec, self.sinks, self.evidence, self.enforcer = spec, list(sinks), evidence, enforcer
        self.room_evidence = room_evidence
        self.failures, self._wall_at, self._versions = failures, wall_at, model_versions
        self._seen, self._notify = seen, notify
        self.verdicts: list[Verdict] = []  # the latest KEEP, stamped and with their clips
        self.count = 0
        self.enforced: Counter[tuple[str, str]] = Counter()  # (action, outcome)
        self._acted = ViolationLog(gap_for)  # violations enforced, by (category, action)
        self._ids = ViolationIds(gap_for)  # one id per violation: its provisional and final records
        self._tasks: set[asyncio.Task[Any]] = set()
        self._gap_for = gap_for
        #: enforcements asked for, as (category, start, end, task): the final record carries the result
        self._taken: deque[tuple[str, float, float, asyncio.Task[Enforcement | None]]] = deque(maxlen=256)
        # provisional writes in flight, by violation id: the final write waits for its own, so a
        # slow provisional write never lands over the final record
        self._provisional: dict[str, asyncio.Task[None]] = {}
        self.provisional_count = 0
        #: Rewrite an open violation's provisional record this often (0: once), so the queue and
        #: the patrol wall show its latest evidence frame and extent while it goes on.
        self.refresh_s = refresh_s
        self._written_at: OrderedDict[str, float] = OrderedDict()  # violation id -> last provisional write
        self._last_open: OrderedDict[str, Verdict] = OrderedDict()  # violation id -> its last provisional record
        #: how long after a violation's end evidence may still confirm it (merge gap + fusion window)
        self._settle_after = settle_after or gap_for
        #: called once a cut succeeded: the origin dropped the publisher, so the stream's
        #: connection is over and clips waiting for a post-roll from it are cut at once
        self._on_cut = on_cut

    def emit(self, verdicts: list[Verdict]) -> None:
        """Finish each closed verdict in its own task (its violation id is taken now, so a
        :meth:`settle` right after never calls it unconfirmed)."""
        for v in verdicts:
            self._spawn(self._finish(v, self._ids.close(v)))

    def settle(self, watermark: float) -> None:
        """The authoritative fuser has every signal up to ``watermark``: live items of violations
        it passed without a verdict stop being live and say they were not confirmed."""
        for vid in self._ids.settle(watermark, self._settle_after):
            self._unconfirm(vid)

    def finish_open(self) -> None:
        """The stream ended after its final verdicts were emitted: what is still open was never
        confirmed."""
        for vid in self._ids.settle(math.inf, lambda _category: 0.0):
            self._unconfirm(vid)

    def _unconfirm(self, vid: str) -> None:
        last = self._last_open.pop(vid, None)
        if last is None:  # no live item was written for it
            return
        write = self._write_live(replace(last, provisional=False, unconfirmed=True))
        pending = self._provisional.get(vid)
        task = asyncio.ensure_future(self._after(pending, write) if pending is not None else write)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._provisional[vid] = task  # a final verdict still to come waits for this write

    async def _write_live(self, v: Verdict) -> None:
        for sink in self.sinks:
            if takes_provisional(sink):
                await self._write(sink, v)

    def opened(self, v: Verdict) -> None:
        """``v`` is going on: the first time its violation is seen, write a provisional record to
        the sinks that take them (off the event loop, like a final verdict), and again every
        ``refresh_s`` while it stays open (never after its final verdict)."""
        vid, new = self._ids.open(v)
        if not any(takes_provisional(s) for s in self.sinks):
            return
        now = time.monotonic()
        if not new:
            last, pending = self._written_at.get(vid), self._provisional.get(vid)
            if self.refresh_s <= 0 or last is None or now - last < self.refresh_s or self._ids.is_closed(vid):
                return
            if pending is not None and not pending.done():
                return
        self._written_at[vid] = now
        self._written_at.move_to_end(vid)
        while len(self._written_at) > 256:
            self._written_at.popitem(last=False)
        live = replace(v, violation_id=vid, provisional=True)
        self._last_open[vid] = live
        self._last_open.move_to_end(vid)
        while len(self._last_open) > 256:
            self._last_open.popitem(last=False)
        task = asyncio.ensure_future(self._provisional_write(live))
        self._tasks.add(task)
        self._provisional[vid] = task
        task.add_done_callback(self._tasks.discard)

    async def _provisional_write(self, verdict: Verdict) -> None:
        try:
            v = self.stamp(verdict)
            evidence = self._evidence_for(v)
            if evidence is not None:
                try:
                    v = await evidence.thumbnail(v)
                except Exception as exc:  # a missing thumbnail must not hide the item
                    self.failures.item("evidence", exc)
            await self._write_live(v)
            self.provisional_count += 1
        except Exception as exc:  # spawned: never silent
            self.failures.item("verdict", exc)

    async def _write(self, sink: VerdictSink, v: Verdict) -> None:
        try:
            await asyncio.to_thread(sink.write, v)
        except Exception as exc:  # a sink failure must not lose the verdict for the others
            log.error("%s: sink %s failed for %s: %s", self.spec.stream_id, type(sink).__name__, v.category, exc)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _evidence_for(self, v: Verdict) -> EvidenceStrategy | None:
        """The room's images for a verdict about its metadata (no footage), else the stream's clips."""
        return self.room_evidence if is_room_verdict(v) else self.evidence

    def stamp(self, v: Verdict) -> Verdict:
        """``v`` with its wall-clock start and the model versions that made it."""
        return replace(v, wallclock_start=_iso(self._wall_at(v.start)), model_versions=self._versions())

    async def _finish(self, verdict: Verdict, vid: str) -> None:
        try:
            await self._finish_one(verdict, vid)
        except Exception as exc:  # spawned: nobody awaits it until the stream ends, so never silent
            self.failures.item("verdict", exc)

    async def _finish_one(self, verdict: Verdict, vid: str) -> None:
        self._seen(verdict, datetime.now(UTC), False)  # known now, if the preview did not know it first
        self._last_open.pop(vid, None)
        v = self.stamp(replace(verdict, violation_id=vid))
        evidence = self._evidence_for(v)
        if evidence is not None:
            try:
                v = await evidence.attach(v)
            except Exception as exc:  # evidence failure must not lose the verdict itself
                self.failures.item("evidence", exc)
        pending = self._provisional.pop(v.violation_id or "", None)
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)
        # Enforced before it is written, so the record (queue, JSONL) says what was done about it.
        self.maybe_enforce(v)
        taken = await self.taken(v)
        if taken is not None:
            v = replace(v, enforcement=taken)
        for sink in self.sinks:
            await self._write(sink, v)
        self._notify(VerdictWritten(self.spec.stream_id, v, self._wall_at(v.end), datetime.now(UTC)))
        self.verdicts.append(v)
        del self.verdicts[:-KEEP]
        self.count += 1

    def maybe_enforce(self, v: Verdict) -> None:
        """Enforce ``v.action`` once per violation and action (warn, then cut if it escalates)."""
        if self.enforcer is None or v.action not in ("warn", "cut"):
            return
        if not self._acted.first((v.category, v.action), v.start, v.end):
            return
        vid = None if v.violation_id is not None else self._ids.open(v)[0]  # open: its live item's id
        task = asyncio.ensure_future(self._enforce(self.stamp(v) if v.wallclock_start is None else v, vid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._taken.append((v.category, v.start, v.end, task))

    async def taken(self, v: Verdict) -> Enforcement | None:
        """The latest enforcement of ``v``'s violation (waiting for one still in flight)."""
        gap = self._gap_for(v.category)
        tasks = [t for c, a, b, t in self._taken if c == v.category and v.start <= b + gap and v.end >= a - gap]
        if not tasks:
            return None
        done = [r for r in await asyncio.gather(*tasks, return_exceptions=True) if isinstance(r, Enforcement)]
        return max(done, key=lambda e: e.at) if done else None

    async def _enforce(self, v: Verdict, open_id: str | None = None) -> Enforcement | None:
        assert self.enforcer is not None
        try:
            res = await self.enforcer.enforce(v, Target(self.spec.stream_id, self.spec.app, self.spec.name))
        except Exception as exc:
            self.failures.item("enforce", exc)
            return None
        if res is None:
            return None
        self.enforced[(res.action, res.outcome)] += 1
        if res.action == "cut" and res.ok and self._on_cut is not None:
            try:
                self._on_cut()
            except Exception as exc:  # the cut itself was done; only the clips would wait longer
                self.failures.item("enforce", exc)
        taken = Enforcement(res.action, time.time(), "policy", res.outcome, res.detail)
        earlier = self._provisional.get(open_id or "")
        if open_id is not None and earlier is not None:  # still live: its queue item shows the action now
            update = replace(v, violation_id=open_id, provisional=True, enforcement=taken)
            task = asyncio.ensure_future(self._after(earlier, self._provisional_write(update)))
            self._tasks.add(task)
            self._provisional[open_id] = task  # the final write waits for this one in turn
            task.add_done_callback(self._tasks.discard)
        return taken

    @staticmethod
    async def _after(first: asyncio.Task[None], then: Coroutine[Any, Any, None]) -> None:
        await asyncio.gather(first, return_exceptions=True)
        await then
