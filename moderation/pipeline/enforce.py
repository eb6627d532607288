"""Acting on a verdict back at the origin: ``cut`` and ``warn`` (POLICY.md: the ability to warn or
cut a stream).

* ``cut`` — HTTP GET ``{control_url}/drop/publisher?app=APP&name=KEY`` on nginx-rtmp's
  ``rtmp_control``: the origin disconnects the publisher (the broadcaster may reconnect; what
  happens next is the platform's account policy, not ours).
* ``warn`` — HTTP POST of ``{"action": "warn", "app", "name", "verdict": <§4.2 record>}`` as JSON
  to ``warn_webhook``; the platform shows the streamer a warning.

Every enforcement is logged WITH its verdict record (the audit trail of why a stream was cut).
A failure (origin down, 4xx/5xx, timeout) is logged and returned as an unsuccessful
:class:`EnforcementResult`; it never raises into the stream pipeline. Plain ``urllib`` in a worker
thread: no extra HTTP client dependency for two requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from typing import Any

from moderation.config import EnforcementConfig
from moderation.messages import Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Where a stream is published at the origin (nginx-rtmp application and stream key)."""

    stream: str
    app: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class EnforcementResult:
    action: str
    ok: bool
    detail: str
    status: int | None = None

    @property
    def outcome(self) -> str:
        return "ok" if self.ok else "failed"


class Enforcer:
    """Delivers warn/cut for verdicts; counts outcomes in :attr:`counts` ((action, outcome) → n)."""

    def __init__(self, cfg: EnforcementConfig) -> None:
        self.cfg = cfg
        self.counts: Counter[tuple[str, str]] = Counter()

    def _request(self, req: urllib.request.Request) -> tuple[int, str]:
        with urllib.request.urlopen(req, timeout=self.cfg.timeout_s) as resp:
            return int(resp.status), resp.read(4096).decode("utf-8", "replace").strip()

    def cut(self, verdict: Verdict, target: Target) -> EnforcementResult:
        del verdict  # the drop names the publisher only; the verdict is logged by the caller
        return self._drop(target)

    def _drop(self, target: Target) -> EnforcementResult:
        if not self.cfg.control_url:
            return EnforcementResult("cut", False, "no enforcement.control_url configured")
        if not target.app or not target.name:
            return EnforcementResult("cut", False, f"stream {target.stream}: origin app/name unknown")
        query = urllib.parse.urlencode({"app": target.app, "name": target.name})
        url = f"{self.cfg.control_url.rstrip('/')}/drop/publisher?{query}"
        status, body = self._request(urllib.request.Request(url, method="GET"))
        return EnforcementResult("cut", 200 <= status < 300, f"GET {url} -> {status} {body[:80]}", status)

    def warn(self, verdict: Verdict, target: Target) -> EnforcementResult:
        return self._post_warn(target, {"verdict": verdict.to_record()})

    def _post_warn(self, target: Target, about: dict[str, Any]) -> EnforcementResult:
        if not self.cfg.warn_webhook:
            return EnforcementResult("warn", False, "no enforcement.warn_webhook configured")
        payload = {"action": "warn", "stream": target.stream, "app": target.app, "name": target.name, **about}
        req = urllib.request.Request(
            self.cfg.warn_webhook,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        status, _ = self._request(req)
        return EnforcementResult("warn", 200 <= status < 300, f"POST {self.cfg.warn_webhook} -> {status}", status)

    def enforce_sync(self, verdict: Verdict, target: Target) -> EnforcementResult | None:
        """Act on ``verdict.action`` (``warn``/``cut``); None when there is nothing to do."""
        action = verdict.action
        if not self.cfg.enabled or action not in ("warn", "cut"):
            return None
        try:
            result = self.cut(verdict, target) if action == "cut" else self.warn(verdict, target)
        except urllib.error.HTTPError as exc:
            result = EnforcementResult(action, False, f"HTTP {exc.code}: {exc.reason}", exc.code)
        except Exception as exc:  # origin down, timeout, bad URL: log, count, carry on
            result = EnforcementResult(action, False, f"{type(exc).__name__}: {exc}")
        self.counts[(result.action, result.outcome)] += 1
        record = json.dumps(verdict.to_record(), ensure_ascii=False)
        if result.ok:
            log.warning("enforced %s on %s: %s; verdict %s", action, target.stream, result.detail, record)
        else:
            log.error("enforcement %s on %s FAILED: %s; verdict %s", action, target.stream, result.detail, record)
        return result

    def order(self, action: str, target: Target, reason: str, ref: dict[str, Any]) -> EnforcementResult:
        """Carry out a ``warn``/``cut`` a reviewer decided (a pending action of the governance
        source; no verdict at hand): the same origin calls, whether or not ``enabled`` lets live
        verdicts enforce themselves. Never raises; counted like the others."""
        try:
            if action == "cut":
                result = self._drop(target)
            elif action == "warn":
                result = self._post_warn(target, {"reason": reason, **ref})
            else:
                result = EnforcementResult(action, False, f"unknown action {action!r}")
        except urllib.error.HTTPError as exc:
            result = EnforcementResult(action, False, f"HTTP {exc.code}: {exc.reason}", exc.code)
        except Exception as exc:  # origin down, timeout, bad URL
            result = EnforcementResult(action, False, f"{type(exc).__name__}: {exc}")
        self.counts[(result.action, result.outcome)] += 1
        level = logging.WARNING if result.ok else logging.ERROR
        log.log(level, "ordered %s on %s: %s (%s): %s", action, target.stream, result.outcome, reason, result.detail)
        return result

    async def enforce(self, verdict: Verdict, target: Target) -> EnforcementResult | None:
        """:meth:`enforce_sync` in a worker thread (the HTTP call must not stall the stream)."""
        return await asyncio.to_thread(self.enforce_sync, verdict, target)
