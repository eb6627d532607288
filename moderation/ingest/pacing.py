"""When an ingest thread reads: in short bursts, a few times a second, instead of once per packet.

A live stream delivers ~25-30 video and ~47 audio packets a second. Woken for each one, an ingest
thread spends more CPU on waking (cold caches, scheduler and GIL hand-offs) than on demuxing: on
the 2-core benchmark machine one 720p stream read at real-time pace cost 37 ms of CPU per media
second when it woke ~25 times a second and 26 ms when it woke 4 times (19.6 ms unpaced). A pool of
hundreds of streams pays that per stream, so the reader waits until ``batch_s`` of media is there
and then takes it in one go. That adds at most ``batch_s`` of latency, and the events carry the
time their data became available (not the time it was read), so measured latencies include it.

Two clocks, one rule (:class:`ReadPacer`):

* A **file read at real-time pace** (a simulated live stream): a packet becomes available at
  ``first wall time + (its media time - first media time)``. Nothing is delivered early; a packet
  not yet available is held until ``batch_s`` after it became available, so the packets that follow
  it within that span go out in the same burst.
* A **live stream**: the network decides when data arrives, and a read blocks inside libavformat
  until it does. A read that blocked (``blocked``: the caller timed it) means the reader has caught
  up, so it sleeps ``batch_s`` before delivering that packet; what arrives meanwhile waits in the
  socket buffer and is read at once afterwards. A read can also look blocked on a loaded machine
  (waiting for the GIL), so the pacer also tracks how late each packet is: its offset behind the
  media clock (``wall - media``) against the smallest offset of the last ``edge_window_s`` (the
  live edge: the packets that were read the moment they arrived). It sleeps only when the packet is
  at most ``batch_s`` late, so a reader that is behind is never put further behind by more than
  one batch, however often its reads look blocked.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["BLOCKED_READ_S", "Paced", "ReadPacer"]

#: A demux read that took this long waited for the network (a buffered read takes microseconds).
BLOCKED_READ_S = 0.002


@dataclass(frozen=True, slots=True)
class Paced:
    """What to do with one packet: sleep ``sleep_s`` first. At the call it had been available for
    ``late_s`` seconds (negative: it becomes available that much later), so it became available at
    ``now - late_s``: the time its events carry."""

    sleep_s: float
    late_s: float


class ReadPacer:
    """Decide per packet how long to wait before delivering it (see the module docstring).

    ``live``: a network stream (the blocked-read rule) rather than a file at real-time pace (the
    media clock rule). ``edge_window_s``: how long the smallest offset behind the media clock is
    remembered as the live edge (a lasting rise in network delay becomes the new edge after it).
    """

    def __init__(self, batch_s: float, *, live: bool, edge_window_s: float = 10.0) -> None:
        if batch_s < 0:
            raise ValueError("batch_s must be >= 0")
        self.batch_s = batch_s
        self.live = live
        self.edge_window_s = edge_window_s
        self._origin: tuple[float, float] | None = None  # (media t, monotonic) of the first packet
        self._edge: deque[tuple[float, float]] = deque()  # (monotonic, offset): a sliding-window minimum
        self.sleeps = 0

    def packet(self, t: float, now: float, *, blocked: bool = False) -> Paced:
        """``t``: the packet's media (decode) time in seconds; ``now``: ``time.monotonic()`` after
        the read; ``blocked``: the read waited for data (live streams only)."""
        if self._origin is None:
            self._origin = (t, now)
        t0, w0 = self._origin
        behind = (now - w0) - (t - t0)  # file clock: > 0 the packet has been available this long
        if not self.live:
            if behind >= 0:
                return Paced(0.0, behind)
            self.sleeps += 1
            return Paced(-behind + self.batch_s, behind)
        edge = self._edge
        while edge and edge[-1][1] >= behind:
            edge.pop()
        edge.append((now, behind))
        while edge[0][0] < now - self.edge_window_s:
            edge.popleft()
        late = behind - edge[0][1]
        if blocked and self.batch_s > 0 and late <= self.batch_s:
            self.sleeps += 1
            return Paced(self.batch_s, late)
        return Paced(0.0, late)
