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
from collections.abc import Iterator

from moderation.config import ChatConfig
from moderation.ingest.jsonl_feed import (
    MAX_TS,
    FeedStats,
    MaxTime,
    WallToMedia,
    check_feed_source,
    feed_time,
    iter_feed,
    writable,
)
from moderation.ingest.urlguard import UrlGuard
from moderation.messages import ChatMessage

__all__ = ["MAX_TS", "ChatStats", "MaxTime", "check_chat_source", "iter_chat", "parse_chat_line"]

log = logging.getLogger(__name__)

#: What reading one chat feed saw (lines, messages, bad lines by reason).
ChatStats = FeedStats


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
    t = feed_time(obj, wall_to_media, max_t)
    if isinstance(t, str):
        return t
    text = obj.get("text")
    if not isinstance(text, str):
        return "'text' must be a string"
    user = obj.get("user", "")
    if isinstance(user, bool) or not isinstance(user, str | int):
        return "'user' must be a string or a number"
    user = str(user)
    if not (writable(text) and writable(user)):
        return "'text' or 'user' holds a NUL or an unpaired surrogate"
    return ChatMessage(stream=stream, t=t, user=user, text=text)


def check_chat_source(source: str, cfg: ChatConfig | None = None, guard: UrlGuard | None = None) -> None:
    """Raise :class:`InputError` naming the source when it cannot be read (checked before a scan starts)."""
    check_feed_source(source, "chat", cfg or ChatConfig(), guard)


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
    return iter_feed(
        source,
        "chat",
        cfg or ChatConfig(),
        lambda raw: parse_chat_line(raw, stream, wall_to_media, max_t),
        stats=stats if stats is not None else ChatStats(),
        guard=guard,
        log=log,
    )
