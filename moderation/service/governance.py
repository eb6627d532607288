"""The pool's side of the governance loop (POLICY.md: warn, cut, ban; 分类分级管理): the review
store decides, the pool acts. State lives in the store and is read through a
:class:`~moderation.policy.governance.GovernanceSource` (the cli wires the store's implementation
in; this package never imports the review package), so a restarted ``serve`` or a second origin
sees the same bans and tiers.

* **at publish** — :func:`publish_steering`: a streamer with an active ban is refused (the hook
  answers non-2xx and nginx-rtmp drops the publisher); otherwise the stream starts with its
  standing's profile and sampling multiplier (an explicit ``profile`` in the request wins; the
  multiplier still applies). The streamer is the pool's stream id.
* **while live** — :class:`GovernanceLoop`, every ``live.governance_poll_s``: standings changed
  since the last poll re-steer the running streams of those streamers (``Pool.reconfigure``);
  pending warn/cut actions are carried out through the :class:`~moderation.pipeline.enforce.Enforcer`
  at the stream's origin app/name and each outcome is reported back with ``finish_action`` (a
  failure is recorded; the source decides when to retry). Nothing here raises into the pool.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from moderation.config import profile_names
from moderation.pipeline.enforce import Enforcer, Target
from moderation.pipeline.status import Steering, StreamStatus
from moderation.policy.governance import Ban, GovernanceSource, PendingAction, Standing

__all__ = ["Banned", "GovernanceLoop", "PollReport", "ProfileError", "checked_profile", "publish_steering"]

log = logging.getLogger(__name__)

#: States in which a stream is still followed (an action can reach its publisher).
LIVE_STATES = ("starting", "live", "reconnecting")


class ProfileError(ValueError):
    """A requested profile that is not a known pipeline preset; the message lists the known ones."""


class Banned(Exception):
    """The streamer is banned: the publish is refused with this reason."""

    def __init__(self, ban: Ban) -> None:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ban.until)) if ban.until is not None else None
        until = f"until {when}" if when else "permanently"
        super().__init__(f"streamer {ban.streamer!r} is banned {until}: {ban.reason}")
        self.ban = ban


class SteeredPool(Protocol):
    async def status(self, stream_id: str) -> StreamStatus | None: ...

    async def reconfigure(self, stream_id: str, steering: Steering) -> StreamStatus | None: ...


def checked_profile(name: str | None) -> str | None:
    """``name`` when it is a preset under ``pipelines/`` (or None); else :class:`ProfileError`."""
    if name is None:
        return None
    known = profile_names()
    if name not in known:
        raise ProfileError(f"profile: unknown profile {name!r}; known profiles: {', '.join(known)}")
    return name


def steering_of(standing: Standing, profile: str | None = None) -> Steering:
    """The steering a standing asks for; ``profile`` (asked for at publish) is pinned over it. A
    profile the store names but this pool does not have falls back to the pool's own, logged."""
    if profile is not None:
        return Steering(profile, standing.sampling, standing.tier, standing.changed_at, pinned=True)
    chosen: str | None = standing.profile
    if chosen not in profile_names():
        log.error("standing of %s names unknown profile %r: using the pool's pipeline", standing.streamer, chosen)
        chosen = None
    return Steering(chosen, standing.sampling, standing.tier, standing.changed_at)


async def publish_steering(
    source: GovernanceSource | None,
    streamer: str,
    profile: str | None,
    now: float | None = None,
    *,
    refuse_banned: bool = True,
) -> Steering | None:
    """How a stream published now starts: raises :class:`Banned` for an active ban (unless
    ``refuse_banned`` is False: an operator watching a banned streamer); None when there is
    neither a source nor a requested profile (the pool's pipeline as is). The source's own errors
    propagate (the caller decides whether to fail open or closed)."""
    if source is None:
        return Steering(profile, pinned=True) if profile is not None else None
    at = time.time() if now is None else now
    standing = await asyncio.to_thread(source.standing, streamer, at)
    if refuse_banned and standing.ban is not None and standing.ban.active(at):
        raise Banned(standing.ban)
    return steering_of(standing, profile)


@dataclass
class PollReport:
    """What one poll did (for logs and tests)."""

    steered: list[str] = field(default_factory=list)  # streams re-steered
    actions: list[tuple[int, bool, str]] = field(default_factory=list)  # (action id, ok, detail)


class GovernanceLoop:
    """Polls ``source`` and applies what changed to ``pool``; run :meth:`run` as a task."""

    def __init__(
        self,
        pool: SteeredPool,
        source: GovernanceSource,
        enforcer: Enforcer,
        interval_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pool, self.source, self.enforcer = pool, source, enforcer
        self.interval_s, self.clock = interval_s, clock
        self.cursor = 0.0  # from the start after a restart: running streams get their standing again
        self.polls = 0

    async def run(self) -> None:
        """Poll until cancelled; a failing poll is logged and the next one tried."""
        while True:
            try:
                await self.poll_once()
            except Exception as exc:  # the store unreachable: try again next time
                log.error("governance poll failed: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(self.interval_s)

    async def poll_once(self) -> PollReport:
        report = PollReport()
        cursor, changed = await asyncio.to_thread(self.source.changed_since, self.cursor)
        for standing in changed:
            try:
                if await self._steer(standing):
                    report.steered.append(standing.streamer)
            except Exception as exc:  # one stream's failure must not stop the others
                log.error("re-steering %s failed: %s: %s", standing.streamer, type(exc).__name__, exc)
        self.cursor = cursor
        for action in await asyncio.to_thread(self.source.pending_actions):
            ok, detail = await self._carry_out(action)
            report.actions.append((action.id, ok, detail))
            try:
                await asyncio.to_thread(self.source.finish_action, action.id, ok, detail, self.clock())
            except Exception as exc:  # it stays pending at the source and is tried again
                log.error("recording action %d failed: %s: %s", action.id, type(exc).__name__, exc)
        self.polls += 1
        return report

    async def _steer(self, standing: Standing) -> bool:
        st = await self.pool.status(standing.streamer)
        if st is None or st.state not in LIVE_STATES:
            return False
        new = await self.pool.reconfigure(standing.streamer, steering_of(standing))
        if new is not None:
            log.warning(
                "%s re-steered: tier %s, profile %s, vision %.2f fps, OCR %.2f fps%s",
                standing.streamer,
                new.tier,
                new.profile,
                new.vision_fps or 0.0,
                new.ocr_fps or 0.0,
                f"; at next publish: {', '.join(new.deferred)}" if new.deferred else "",
            )
        return new is not None

    async def _carry_out(self, action: PendingAction) -> tuple[bool, str]:
        """One pending action at the origin; (ok, detail), never raises."""
        try:
            st = await self.pool.status(action.stream)
            if st is None or st.state not in LIVE_STATES:
                return True, "not live"
            target = Target(action.stream, st.app, st.name)
            ref = {"action_id": action.id, "item_id": action.item_id, "streamer": action.streamer}
            res = await asyncio.to_thread(self.enforcer.order, action.action, target, action.reason, ref)
            return res.ok, res.detail
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
