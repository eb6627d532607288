"""Media time ↔ arrival wall time of one live stream.

Why a mapping and not ``start_wall + t``: a live timeline has gaps (reconnects) and the pace of
arrival is not the pace of media when the origin bursts or stalls. Each arriving frame/window is
a (media time, arrival wall time) point; a verdict's ``wallclock_start``, its latency and a chat
message's media time are read off these points. The ingest thread writes, the event loop reads.
"""

from __future__ import annotations

import bisect
import threading
from collections import deque
from datetime import datetime, timedelta


class WallClock:
    """Arrival wall time of media time ``t`` from the last ``maxlen`` observed points."""

    def __init__(self, maxlen: int = 4096) -> None:
        self._points: deque[tuple[float, datetime]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def observe(self, t: float, wall: datetime) -> None:
        with self._lock:
            if self._points and t < self._points[-1][0]:
                return  # keep it sorted; late audio starts add nothing the frames did not
            self._points.append((t, wall))

    def wall_at(self, t: float) -> datetime | None:
        """Wall time ``t`` arrived: the nearest point at or after ``t`` (media is complete once
        a later point arrived), else extrapolated from the last one; None before any point."""
        with self._lock:
            if not self._points:
                return None
            ts = [p[0] for p in self._points]
            i = bisect.bisect_left(ts, t)
            if i < len(ts):
                return self._points[i][1]
            last_t, last_wall = self._points[-1]
            return last_wall + timedelta(seconds=t - last_t)

    def media_at(self, wall: datetime) -> float | None:
        """Media time that was arriving at ``wall`` (e.g. a chat message's send time): from the last
        point at or before it, plus the time since, but never past the next point (a reconnect gap
        maps to where media resumed); from the first point when ``wall`` is earlier (floored at 0).
        None before any point."""
        with self._lock:
            if not self._points:
                return None
            walls = [p[1] for p in self._points]
            i = bisect.bisect_right(walls, wall) - 1
            if i < 0:
                t0, w0 = self._points[0]
                return max(0.0, t0 - (w0 - wall).total_seconds())
            t, w = self._points[i]
            t += (wall - w).total_seconds()
            return min(t, self._points[i + 1][0]) if i + 1 < len(self._points) else t
