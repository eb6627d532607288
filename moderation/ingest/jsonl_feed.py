"""Shared machinery of the JSONL viewer feeds (chat, gifts): open through the URL guard, split
lines with a byte bound, map ``ts``/``t`` onto the media timeline, skip and count bad lines.

Every line of such a feed comes from outside, so nothing here raises on a line: a parser returns
the item or the reason (a short string) it is bad, and :func:`iter_feed` counts the reason, logs
the first few with their line number and goes on. Only failing to open the source raises
(:class:`InputError`, one line naming the feed).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from moderation.errors import InputError
from moderation.ingest.urlguard import UrlGuard, UrlGuardConfig, UrlRefused, redact

__all__ = [
    "MAX_TS",
    "FeedConfig",
    "FeedStats",
    "MaxTime",
    "WallToMedia",
    "check_feed_source",
    "feed_time",
    "iter_feed",
    "number",
    "writable",
]

_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_CHUNK = 64 * 1024

#: Latest ``ts`` accepted (Unix seconds, the end of year 9999): later ones cannot be a date.
MAX_TS = 253402300799.0

WallToMedia = Callable[[float], float | None]
#: An item's media time may be at most this (seconds; None = unbounded), asked per line.
MaxTime = Callable[[], float | None]

T = TypeVar("T")


class FeedConfig(Protocol):
    """What the feed reader needs of a config (``ChatConfig`` and ``GiftsConfig`` have it)."""

    @property
    def max_line_bytes(self) -> int: ...
    @property
    def max_bad_lines_logged(self) -> int: ...
    @property
    def timeout_s(self) -> float: ...


class _Readable(Protocol):
    def read(self, n: int = -1) -> bytes: ...

    def close(self) -> None: ...


@dataclass
class FeedStats:
    """What reading one feed saw."""

    lines: int = 0  # non-empty lines
    messages: int = 0  # lines that became items
    bad: int = 0  # lines skipped as bad input
    reasons: dict[str, int] = field(default_factory=dict)


def number(v: object) -> float | None:
    """A finite number >= 0, or None (bools, strings, NaN, infinities, huge ints are not)."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    try:
        f = float(v)  # an int beyond a float's range raises OverflowError
    except OverflowError:
        return None
    return f if math.isfinite(f) and f >= 0 else None


def writable(s: str) -> bool:
    """Text that reports, sinks and the review store can hold: JSON's ``\\ud800`` (an unpaired
    surrogate) cannot be written as UTF-8 and ``\\u0000`` not stored in PostgreSQL text."""
    if "\0" in s:
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def feed_time(obj: dict[str, Any], wall_to_media: WallToMedia | None, max_t: MaxTime | None) -> float | str:
    """Media time of a decoded line (``t``, or ``ts`` mapped by ``wall_to_media``), or the reason
    it has none usable. ``max_t`` bounds it: an item from the far future would move the stream's
    fusion clock past every real signal."""
    if "t" not in obj and "ts" in obj:
        ts = number(obj["ts"])
        if ts is None:
            return "'ts' must be Unix seconds (a finite number >= 0)"
        if ts > MAX_TS:
            return "'ts' is beyond the year 9999"
        if wall_to_media is None:
            return "'ts' (wall-clock time) needs a live stream; give 't' (media seconds)"
        try:
            mapped = wall_to_media(ts)
        except (ValueError, OverflowError, OSError):  # not a representable date on this platform
            return "'ts' is not a representable time"
        if mapped is None:
            return "sent before the stream's first frame"
        t: float | None = mapped
    else:
        t = number(obj.get("t"))
    if t is None:
        return "'t' must be a finite number of seconds >= 0"
    limit = max_t() if max_t is not None else None
    if limit is not None and t > limit:
        return "time is past the media (beyond the allowed slack)"
    return t


def is_url(source: str) -> bool:
    return _URL_RE.match(source) is not None


def _remote(source: str) -> bool:
    return is_url(source) and urlsplit(source).scheme.lower() != "file"


def _guard(cfg: FeedConfig) -> UrlGuard:
    return UrlGuard(UrlGuardConfig(allowed_schemes=("http", "https"), http_timeout_s=cfg.timeout_s))


def _local_path(source: str) -> Path:
    return Path(unquote(urlsplit(source).path)) if source.lower().startswith("file:") else Path(source)


def check_feed_source(source: str, what: str, cfg: FeedConfig, guard: UrlGuard | None = None) -> None:
    """Raise :class:`InputError` naming the ``what`` feed when ``source`` cannot be read."""
    if _remote(source):
        try:
            (guard or _guard(cfg)).check(source)
        except UrlRefused as exc:
            raise InputError(f"{what} feed {exc}") from exc
        return
    if not _local_path(source).is_file():
        raise InputError(f"{what} feed {source}: no such file")


def _open(source: str, what: str, cfg: FeedConfig, guard: UrlGuard | None) -> _Readable:
    if _remote(source):
        g = guard or _guard(cfg)
        try:
            reader = g.io_open(source, 0, {})  # checks, pins the address, re-checks redirects
        except UrlRefused as exc:
            raise InputError(f"{what} feed {exc}") from exc
        except OSError as exc:
            raise InputError(f"{what} feed {redact(source)}: {exc}") from exc
        return reader
    try:
        return _local_path(source).open("rb")
    except OSError as exc:
        raise InputError(f"{what} feed {source}: {exc.strerror or exc}") from exc


def _lines(reader: _Readable, max_bytes: int, name: str, what: str, log: logging.Logger) -> Iterator[bytes | None]:
    """Lines of a byte stream without their newline; ``None`` for a line over ``max_bytes``
    (whose bytes are discarded as they arrive, so an endless line cannot exhaust memory)."""
    buf = b""
    overlong = False
    while True:
        try:
            chunk = reader.read(_CHUNK)
        except OSError as exc:  # a live feed broke off: keep what was read
            log.warning("%s feed %s: read failed, ending the feed: %s", what, name, exc)
            chunk = b""
        if not chunk:
            break
        buf += chunk
        while (i := buf.find(b"\n")) != -1:
            line, buf = buf[:i], buf[i + 1 :]
            if overlong:
                overlong = False
                yield None
            else:
                yield line if len(line) <= max_bytes else None
        if len(buf) > max_bytes:
            buf, overlong = b"", True
    if overlong:
        yield None
    elif buf:
        yield buf


def iter_feed(
    source: str,
    what: str,
    cfg: FeedConfig,
    parse: Callable[[bytes], T | str],
    *,
    stats: FeedStats,
    guard: UrlGuard | None = None,
    log: logging.Logger,
) -> Iterator[T]:
    """Items of a JSONL feed (file path, ``file:`` URL or HTTP(S) URL) in feed order.

    ``parse`` turns one line into an item or the reason it is bad; a failure it did not foresee
    (a mapping callback's bug) is a bad line too, since one line must never end the feed and lose
    the lines after it. Bad lines are counted in ``stats`` and logged on ``log`` as ``what feed``.
    """
    name = redact(source) if is_url(source) else source
    reader = _open(source, what, cfg, guard)
    try:
        for lineno, raw in enumerate(_lines(reader, cfg.max_line_bytes, name, what, log), start=1):
            if raw is not None and not raw.strip():
                continue
            stats.lines += 1
            parsed: T | str
            if raw is None:
                parsed = f"line longer than {cfg.max_line_bytes} bytes"
            else:
                try:
                    parsed = parse(raw)
                except Exception as exc:
                    log.debug("%s line failed to parse", what, exc_info=True)
                    parsed = f"unreadable line ({exc.__class__.__name__})"
            if isinstance(parsed, str):
                stats.bad += 1
                stats.reasons[parsed] = stats.reasons.get(parsed, 0) + 1
                if stats.bad <= cfg.max_bad_lines_logged:
                    log.warning("%s feed %s line %d skipped: %s", what, name, lineno, parsed)
                elif stats.bad == cfg.max_bad_lines_logged + 1:
                    log.warning("%s feed %s: more bad lines; counting them without logging each", what, name)
                continue
            stats.messages += 1
            yield parsed
    finally:
        reader.close()
        if stats.bad:
            log.warning("%s feed %s: %d of %d lines skipped as bad input", what, name, stats.bad, stats.lines)
