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

#: How much longer than the media between two points their arrival may take and still count as
#: steady (interpolated by :meth:`WallClock.wall_at`): decode and queue jitter, not a stall.
STEADY_SLACK_S = 1.0


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
        """Wall time ``t`` arrived; None before any point.

        Between two points that arrived at the media's pace (a sampled frame a second, audio
        window starts) it is interpolated: a word said between two sampled frames arrived
        between them, and taking the later frame's arrival would make every speech latency look
        up to a frame interval shorter than it was. Across a stall or an outage (the wall span
        exceeds the media span by more than :data:`STEADY_SLACK_S`) it is the later point's
        arrival: the media was complete only then. Past the last point: extrapolated.
        """
        with self._lock:
            if not self._points:
                return None
            ts = [p[0] for p in self._points]
            i = bisect.bisect_left(ts, t)
            if i < len(ts):
                t1, w1 = self._points[i]
                if i == 0 or t1 <= t:
                    return w1
                t0, w0 = self._points[i - 1]
                wall_span = (w1 - w0).total_seconds()
                if 0 <= wall_span <= (t1 - t0) + STEADY_SLACK_S:
                    return w0 + timedelta(seconds=wall_span * (t - t0) / (t1 - t0))
                return w1
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
