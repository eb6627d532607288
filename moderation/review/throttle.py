"""Throttling of failed logins: backoff per account and per client address, in memory.

Each key (``user:<name>`` or ``addr:<ip>``) may fail ``free`` times; every failure after that
blocks the key for ``backoff_s`` doubled per extra failure, up to ``max_s``. A key forgets its
failures once it has been quiet for ``max_s``. Memory is bounded: at most ``max_keys`` keys are
kept and the least recently failed is dropped first, so a flood of fresh names cannot grow the
process (it can push old entries out, but the flooding address is itself blocked after its own
free failures).

Only failures are recorded; a successful login clears its account key but not the address (or
one valid account would let an address reset its own counter between guesses). Blocked keys are
refused before any credential is checked, so a blocked caller learns nothing from the answer.
State is per process: several server processes each throttle on their own.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass
class _Entry:
    failures: int
    last: float
    blocked_until: float


class LoginThrottle:
    """Failure counts and backoff per key (thread-safe; the API runs sync routes in threads)."""

    def __init__(
        self,
        *,
        free: int = 5,
        backoff_s: float = 1.0,
        max_s: float = 900.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.backoff_s, self.max_s, self.max_keys = free, backoff_s, max_s, max_keys
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> _Entry | None:
        e = self._entries.get(key)
        if e is not None and now - e.last > self.max_s and now >= e.blocked_until:
            del self._entries[key]
            return None
        return e

    def retry_after(self, keys: Iterable[str]) -> int:
        """Whole seconds until every key may try again; 0 when none is blocked."""
        now = self.clock()
        with self._lock:
            wait = 0.0
            for key in keys:
                e = self._live(key, now)
                if e is not None:
                    wait = max(wait, e.blocked_until - now)
        return math.ceil(wait) if wait > 0 else 0

    def failure(self, keys: Iterable[str], free: dict[str, int] | None = None) -> None:
        """Record one failed attempt for each key; ``free`` overrides the free count per key prefix."""
        now = self.clock()
        with self._lock:
            for key in keys:
                e = self._live(key, now) or _Entry(0, now, 0.0)
                e.failures += 1
                e.last = now
                allowed = (free or {}).get(key.split(":", 1)[0], self.free)
                extra = e.failures - allowed
                if extra > 0:
                    e.blocked_until = now + min(self.max_s, self.backoff_s * 2 ** min(extra - 1, 60))
                self._entries[key] = e
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_keys:
                    self._entries.popitem(last=False)

    def success(self, keys: Iterable[str]) -> None:
        """Forget the failures of these keys (call with the account key only)."""
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
