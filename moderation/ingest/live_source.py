"""Follow a live stream (or a file at real-time pace) as a sequence of typed events.

Why it is one generator with a connection loop inside:

* A live stream drops, stalls and restarts; the stream worker above must not care. A drop
  (network error, read timeout) reconnects with exponential backoff and jitter; a publisher that
  restarts on the same connection (nginx-rtmp keeps subscribers while its clock jumps back) is
  detected by the timestamp jump and reopened so codec parameters are fresh. Either way a
  :class:`Gap` is recorded and the timeline stays continuous: the next connection starts at
  ``last media time + wall-clock outage``, so verdict times never go backwards or collide.
* The end is an event, not an error loop: a file's EOF is :class:`Ended` ``"eof"``; a live
  stream whose publisher left (EOF) gets ``eof_grace_s`` to come back, then ``"publisher_left"``;
  an outage beyond the attempt/time limits is ``"gave_up"`` with the last error.
* Decode is per packet (PyAV 18's ``container.decode()`` dies for good on one InvalidDataError)
  and a packet of a stream that appeared mid-demux (PyAV raises a bare IndexError) is skipped;
  both are counted in :class:`LiveStats`, never fatal.
* Each event carries the UTC wall-clock time its data arrived, next to its media time, so a
  verdict can carry both and frame-to-verdict latency can be measured.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from moderation.ingest.decode import MediaError, skip_decoding
from moderation.ingest.live_connection import Connection, Drop, now_utc
from moderation.ingest.packets import CodecTemplates
from moderation.ingest.source import (
    Connected,
    Disconnected,
    Ended,
    EndReason,
    Gap,
    LiveEvent,
    LiveStats,
    Opened,
    SourceConfig,
    TransientError,
    _classify,
    open_source,
)
from moderation.ingest.urlguard import UrlRefused
from moderation.sample.audio import SAMPLE_RATE, AudioWindower
from moderation.sample.frames import FpsSampler, GopSkip
from moderation.sample.pause import PauseDetector

log = logging.getLogger(__name__)


class LiveSource:
    """Iterate ``LiveSource(url, "s1", config)`` for events; ``close()`` ends it from another thread.

    Permanent problems (refused URL, not media, frame over the cap) raise from the first
    ``next()``; a refusal met later (an HLS segment, a redirect) raises when it happens.
    Everything else ends in exactly one :class:`Ended` event.
    """

    def __init__(
        self,
        url: str,
        stream_id: str,
        config: SourceConfig | None = None,
        *,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        start_at: float = 0.0,
    ) -> None:
        """``start_at``: timeline time of the first packet. A stream worker restarted mid-stream
        passes the seconds since the stream's timeline began, so verdicts after the restart never
        reuse the media times (and review-queue keys) of verdicts from before it."""
        if start_at < 0:
            raise ValueError(f"start_at must be >= 0, got {start_at}")
        self.url = url
        self.stream_id = stream_id
        self.config = config or SourceConfig()
        self.stats = LiveStats()
        self._stop = threading.Event()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._epoch = -1
        self._t_last = float(start_at)  # newest timeline time seen (seconds)
        self._wall_last = now_utc()
        self._t_first: float | None = None
        self._sampler = FpsSampler(self.config.fps)
        self._gop = GopSkip(self._sampler) if self.config.skip_to_keyframe and not self.config.keyframes_only else None
        c = self.config
        pause = PauseDetector(SAMPLE_RATE, c.audio_pause_s) if c.audio_pause_s > 0 else None
        self._windower = AudioWindower(
            c.audio_window_s, c.audio_hop_s, SAMPLE_RATE, pause=pause, min_window_s=c.audio_min_window_s
        )
        self._audio_retime: tuple[float, float | None, float] | None = None
        self._audio_lock = threading.Lock()
        self._frame_index = 0

    def close(self) -> None:
        """Stop at the next packet or backoff wait (then Ended 'closed' is yielded)."""
        self._stop.set()

    def set_audio_window(self, window_s: float, hop_s: float | None, pause_s: float) -> None:
        """Cut audio windows of ``window_s`` every ``hop_s``, ending early after ``pause_s`` of quiet
        (0: never), from the next window on; the reading thread applies it at its next audio."""
        update = {"audio_window_s": window_s, "audio_hop_s": hop_s, "audio_pause_s": pause_s}
        self.config = self.config.model_copy(update=update)
        with self._audio_lock:
            self._audio_retime = (window_s, hop_s, pause_s)

    def set_fps(self, fps: float) -> None:
        """Sample frames at ``fps`` from the next one on (thread-safe enough: one attribute swap
        the reading thread sees at its next frame); later reconnects keep the new rate."""
        self.config = self.config.model_copy(update={"fps": float(fps)})
        self._sampler.retime(fps)

    def wall_at(self, t: float) -> datetime:
        """Estimated UTC time at which timeline time ``t`` arrived (linear from the newest packet)."""
        return self._wall_last - timedelta(seconds=self._t_last - t)

    def backoff(self, attempt: int) -> float:
        """Delay before reconnect attempt ``attempt`` (1-based): the first is immediate (the
        origin is often fine and the publisher already back), then exponential, capped, jittered."""
        c = self.config
        if attempt <= 1:
            return 0.0
        base = min(c.backoff_max_s, c.backoff_initial_s * c.backoff_factor ** (attempt - 2))
        return max(0.0, base * (1 + self._rng.uniform(-c.backoff_jitter, c.backoff_jitter)))

    def _wait(self, seconds: float) -> bool:
        """Sleep; True when close() was called meanwhile."""
        if self._sleep is not None:
            self._sleep(seconds)
            return self._stop.is_set()
        return self._stop.wait(seconds)

    def _end(self, reason: EndReason, error: str | None = None) -> Ended:
        return Ended(self.stream_id, reason, self._t_last, now_utc(), error)

    def __iter__(self) -> Iterator[LiveEvent]:
        opened = open_source(self.url, self.config)
        attempts = 1
        while True:
            self._epoch += 1
            self.stats.connects += 1
            if self._epoch:
                self.stats.reconnects += 1
            try:
                yield from self._follow(opened, attempts)
                return  # _follow yielded Ended
            except Drop as drop:
                reason, eof = drop.reason, drop.eof
            finally:
                opened.container.close()
            outage_wall = self._wall_last
            log.warning("%s: connection lost: %s", self.stream_id, reason)
            yield Disconnected(self.stream_id, self._t_last, now_utc(), reason)
            if not self.config.reconnect:
                yield self._end("publisher_left" if eof else "gave_up", reason)
                return
            result = self._reconnect(reason, eof)
            if isinstance(result, Ended):
                yield result
                return
            opened, attempts = result
            wall_end = now_utc()
            gap_end = self._t_last + max(0.0, (wall_end - outage_wall).total_seconds())
            gap = Gap(self.stream_id, self._t_last, gap_end, outage_wall, wall_end, attempts, reason)
            self.stats.gaps.append(gap)
            log.info("%s: reconnected after %.2fs (%d attempts)", self.stream_id, gap.wall_s, attempts)
            self._t_last, self._wall_last = gap_end, wall_end
            yield gap

    def _reconnect(self, reason: str, eof: bool) -> tuple[Opened, int] | Ended:
        """Reopen until it works or the limits say stop; UrlRefused still propagates."""
        c = self.config
        limit = c.eof_grace_s if eof else c.give_up_after_s
        started = time.monotonic()
        last_error = reason
        attempt = 0
        while True:
            attempt += 1
            delay = self.backoff(attempt)
            over_attempts = c.max_attempts and attempt > c.max_attempts
            if over_attempts or time.monotonic() - started + delay > limit:
                if eof:
                    return self._end("publisher_left", last_error)
                spent = time.monotonic() - started
                return self._end("gave_up", f"{attempt - 1} attempts in {spent:.1f}s: {last_error}")
            if self._wait(delay):
                return self._end("closed")
            try:
                return open_source(self.url, c), attempt
            except UrlRefused:
                raise
            except (TransientError, MediaError) as exc:  # a restarting origin may answer with nothing yet
                self.stats.failed_attempts += 1
                last_error = str(exc)
                log.info("%s: reconnect attempt %d failed: %s", self.stream_id, attempt, exc)

    def _follow(self, opened: Opened, attempts: int) -> Iterator[LiveEvent]:
        """Events of one connection; raises Drop when it is lost (live) — Ended otherwise."""
        c, container, guard = self.config, opened.container, opened.guard
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is not None:
            if c.decode_threads:  # a pool of streams: one thread each (see StreamOpenConfig)
                video.codec_context.thread_count = c.decode_threads
                video.codec_context.thread_type = "SLICE"
            else:
                video.codec_context.thread_type = "AUTO"
            skip_decoding(
                video.codec_context,
                keyframes_only=c.keyframes_only,
                skip_nonref=c.skip_nonref,
                skip_loop_filter=c.skip_loop_filter,
            )
        yield Connected(self.stream_id, self._epoch, self._t_last, now_utc(), attempts, CodecTemplates(video, audio))
        conn = Connection(self, opened, video, audio)
        it = container.demux()
        while True:
            if self._stop.is_set():
                yield self._end("closed")
                return
            try:
                read_at = time.monotonic()
                packet = next(it)
                conn.read_s = time.monotonic() - read_at
            except StopIteration:
                if guard.refusals:  # e.g. a reloaded live playlist now lists a forbidden entry
                    raise guard.refusals[0] from None
                if opened.live and opened.io is not None and opened.io.read_errors:
                    # The guarded reader ended the body because a read broke off: a drop, not an end.
                    raise Drop(f"read failed: {opened.io.read_errors[-1]}") from None
                if opened.live:
                    raise Drop("end of stream (publisher left)", eof=True) from None
                yield from conn.flush()
                yield self._end("eof")
                return
            except IndexError:  # PyAV 18: packet of a stream that appeared after open
                self.stats.unknown_stream_packets += 1
                it = container.demux()
                continue
            except UrlRefused:
                raise
            except Exception as exc:
                if guard.refusals:
                    raise guard.refusals[0] from exc
                if not opened.live:  # truncated file: keep what was read, end cleanly
                    self.stats.demux_errors += 1
                    yield from conn.flush()
                    yield self._end("eof", f"demux stopped early: {exc}")
                    return
                raise Drop(str(_classify(self.url, opened.checked, exc, "read"))) from exc
            if guard.refusals:
                raise guard.refusals[0]
            if conn.over_duration(packet):
                yield self._end("max_duration")
                return
            yield from conn.packet(packet)
