"""Chat / danmaku input: JSONL lines ``{"t": 12.5, "user": "u1", "text": "..."}`` from a file or an
HTTP(S) endpoint that streams lines.

``t`` is seconds on the stream's media timeline (the same clock as the frames and audio of the
recording or live stream the chat belongs to). A live platform's chat service knows when a message
was sent, not the media time, so a live feed may give ``"ts"`` (Unix seconds) instead; the live
pipeline maps it onto the media timeline (``wall_to_media``). ``user`` may be a string or a number;
other keys are ignored. Chat comes from viewers, so every line is untrusted:

* a line that is not JSON, not an object, lacks a finite non-negative ``t`` or a string ``text``,
  has a time past the media it belongs to (beyond ``ChatConfig.live_ahead_s`` of a live stream's
  clock, or ``ChatConfig.recording_slack_s`` after a recording's end), or is longer than
  ``ChatConfig.max_line_bytes`` is **skipped and counted** (``ChatStats``); the
  first ``max_bad_lines_logged`` are logged with their line number and reason, the rest only
  counted — a bad line never ends the feed;
* a URL goes through :class:`~moderation.ingest.urlguard.UrlGuard` (allowed schemes, no private or
  loopback destinations unless allow-listed, every redirect re-checked, the checked address
  pinned) before anything is fetched; a feed that breaks off mid-way ends with a warning, keeping
  what was read.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from moderation.config import ChatConfig
from moderation.errors import InputError
from moderation.ingest.urlguard import UrlGuard, UrlGuardConfig, UrlRefused, redact
from moderation.messages import ChatMessage

__all__ = ["MAX_TS", "ChatStats", "MaxTime", "check_chat_source", "iter_chat", "parse_chat_line"]

log = logging.getLogger(__name__)

_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_CHUNK = 64 * 1024


class _Readable(Protocol):
    def read(self, n: int = -1) -> bytes: ...

    def close(self) -> None: ...


@dataclass
class ChatStats:
    """What reading one chat feed saw."""

    lines: int = 0  # non-empty lines
    messages: int = 0  # lines that became messages
    bad: int = 0  # lines skipped as bad input
    reasons: dict[str, int] = field(default_factory=dict)


WallToMedia = Callable[[float], float | None]


#: Latest ``ts`` accepted (Unix seconds, the end of year 9999): later ones cannot be a date.
MAX_TS = 253402300799.0

#: A chat message's media time may be at most this (seconds; None = unbounded), asked per line.
MaxTime = Callable[[], float | None]


def _number(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    try:
        f = float(v)  # an int beyond a float's range raises OverflowError
    except OverflowError:
        return None
    return f if math.isfinite(f) and f >= 0 else None


def parse_chat_line(
    line: bytes | str, stream: str, wall_to_media: WallToMedia | None = None, max_t: MaxTime | None = None
) -> ChatMessage | str:
    """A :class:`ChatMessage`, or the reason (a short string) why the line is bad; never raises.

    ``wall_to_media`` (live streams) maps a ``ts`` (Unix seconds) to media time, None when the
    stream has no media yet; without it only ``t`` is accepted. ``max_t`` bounds the media time
    (the live stream's clock, or the recording's end, plus a slack): a message from the far
    future would move the stream's fusion clock past every real signal."""
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: deeply nested
        return f"not JSON ({exc.__class__.__name__})"
    if not isinstance(obj, dict):
        return f"not a JSON object ({type(obj).__name__})"
    if "t" not in obj and "ts" in obj:
        ts = _number(obj["ts"])
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
        t = _number(obj.get("t"))
    if t is None:
        return "'t' must be a finite number of seconds >= 0"
    limit = max_t() if max_t is not None else None
    if limit is not None and t > limit:
        return "time is past the media (beyond the allowed slack)"
    text = obj.get("text")
    if not isinstance(text, str):
        return "'text' must be a string"
    user = obj.get("user", "")
    if isinstance(user, bool) or not isinstance(user, str | int):
        return "'user' must be a string or a number"
    user = str(user)
    if not (_writable(text) and _writable(user)):
        return "'text' or 'user' holds a NUL or an unpaired surrogate"
    return ChatMessage(stream=stream, t=t, user=user, text=text)


def _writable(s: str) -> bool:
    """Text that reports, sinks and the review store can hold: JSON's ``\\ud800`` (an unpaired
    surrogate) cannot be written as UTF-8 and ``\\u0000`` not stored in PostgreSQL text."""
    if "\0" in s:
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_url(source: str) -> bool:
    return _URL_RE.match(source) is not None


def _guard(cfg: ChatConfig) -> UrlGuard:
    return UrlGuard(UrlGuardConfig(allowed_schemes=("http", "https"), http_timeout_s=cfg.timeout_s))


def check_chat_source(source: str, cfg: ChatConfig | None = None, guard: UrlGuard | None = None) -> None:
    """Raise :class:`InputError` naming the source when it cannot be read (checked before a scan starts)."""
    cfg = cfg or ChatConfig()
    if _is_url(source) and urlsplit(source).scheme.lower() != "file":
        try:
            (guard or _guard(cfg)).check(source)
        except UrlRefused as exc:
            raise InputError(f"chat feed {exc}") from exc
        return
    path = _local_path(source)
    if not path.is_file():
        raise InputError(f"chat feed {source}: no such file")


def _local_path(source: str) -> Path:
    return Path(unquote(urlsplit(source).path)) if source.lower().startswith("file:") else Path(source)


def _open(source: str, cfg: ChatConfig, guard: UrlGuard | None) -> _Readable:
    if _is_url(source) and urlsplit(source).scheme.lower() != "file":
        g = guard or _guard(cfg)
        try:
            reader = g.io_open(source, 0, {})  # checks, pins the address, re-checks redirects
        except UrlRefused as exc:
            raise InputError(f"chat feed {exc}") from exc
        except OSError as exc:
            raise InputError(f"chat feed {redact(source)}: {exc}") from exc
        return reader
    path = _local_path(source)
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputError(f"chat feed {source}: {exc.strerror or exc}") from exc


def _lines(reader: _Readable, max_bytes: int, name: str) -> Iterator[bytes | None]:
    """Lines of a byte stream without their newline; ``None`` for a line over ``max_bytes``
    (whose bytes are discarded as they arrive, so an endless line cannot exhaust memory)."""
    buf = b""
    overlong = False
    while True:
        try:
            chunk = reader.read(_CHUNK)
        except OSError as exc:  # a live feed broke off: keep what was read
            log.warning("chat feed %s: read failed, ending the feed: %s", name, exc)
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


def _parse(raw: bytes, stream: str, wall_to_media: WallToMedia | None, max_t: MaxTime | None) -> ChatMessage | str:
    """:func:`parse_chat_line`, with any failure it did not foresee (a mapping callback's bug)
    turned into a bad line: one line must never end the feed and lose the lines after it."""
    try:
        return parse_chat_line(raw, stream, wall_to_media, max_t)
    except Exception as exc:
        log.debug("chat line failed to parse", exc_info=True)
        return f"unreadable line ({exc.__class__.__name__})"


def iter_chat(
    source: str,
    stream: str,
    cfg: ChatConfig | None = None,
    *,
    stats: ChatStats | None = None,
    guard: UrlGuard | None = None,
    wall_to_media: WallToMedia | None = None,
    max_t: MaxTime | None = None,
) -> Iterator[ChatMessage]:
    """Messages of a chat feed (file path, ``file:`` URL or HTTP(S) URL) in feed order.

    Opening failures raise :class:`InputError`; bad lines (see :func:`parse_chat_line` for
    ``wall_to_media`` and ``max_t``) are skipped and counted in ``stats``.
    """
    cfg = cfg or ChatConfig()
    st = stats if stats is not None else ChatStats()
    name = redact(source) if _is_url(source) else source
    reader = _open(source, cfg, guard)
    try:
        for lineno, raw in enumerate(_lines(reader, cfg.max_line_bytes, name), start=1):
            if raw is not None and not raw.strip():
                continue
            st.lines += 1
            parsed = (f"line longer than {cfg.max_line_bytes} bytes" if raw is None
                      else _parse(raw, stream, wall_to_media, max_t))  # fmt: skip
            if isinstance(parsed, str):
                st.bad += 1
                st.reasons[parsed] = st.reasons.get(parsed, 0) + 1
                if st.bad <= cfg.max_bad_lines_logged:
                    log.warning("chat feed %s line %d skipped: %s", name, lineno, parsed)
                elif st.bad == cfg.max_bad_lines_logged + 1:
                    log.warning("chat feed %s: more bad lines; counting them without logging each", name)
                continue
            st.messages += 1
            yield parsed
    finally:
        reader.close()
        if st.bad:
            log.warning("chat feed %s: %d of %d lines skipped as bad input", name, st.bad, st.lines)
