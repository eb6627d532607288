"""Gift / tip input: JSONL lines ``{"t" or "ts", "user", "gift", "value", "currency"}`` beside chat.

Same source rules as chat (:mod:`moderation.ingest.chat`): a file, ``file:`` URL or HTTP(S) URL
through the URL guard; ``t`` is media seconds, ``ts`` Unix seconds mapped onto the media timeline
by a live stream's ``wall_to_media``; a line past the media (``max_t``) is bad. A gift line is bad
(skipped, counted with its reason in :class:`GiftStats`, the first few logged with their line
number) when ``value`` is not a finite number > 0, the ``currency`` is not in
``GiftsConfig.rates``, or one gift is worth more than ``GiftsConfig.max_amount`` base units — a
feed that claims a billion-yuan rocket is broken or hostile, and counting it would raise every
total past its limit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from moderation.config import GiftsConfig
from moderation.ingest.jsonl_feed import (
    FeedStats,
    MaxTime,
    WallToMedia,
    check_feed_source,
    feed_time,
    iter_feed,
    number,
    writable,
)
from moderation.ingest.urlguard import UrlGuard
from moderation.messages import GiftEvent

__all__ = ["GiftStats", "check_gift_source", "iter_gifts", "parse_gift_line"]

log = logging.getLogger(__name__)

#: What reading one gift feed saw (lines, gifts, bad lines by reason).
GiftStats = FeedStats

_MAX_NAME = 256  # characters of a user id, gift name or currency


def _name(obj: dict[str, object], key: str, default: str | None) -> str | None:
    """A short printable string (numbers allowed for ids), ``default`` when absent, else None."""
    v = obj.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, str | int):
        return None
    s = str(v)
    return s if s and len(s) <= _MAX_NAME and writable(s) else None


def parse_gift_line(
    line: bytes | str,
    stream: str,
    cfg: GiftsConfig | None = None,
    wall_to_media: WallToMedia | None = None,
    max_t: MaxTime | None = None,
) -> GiftEvent | str:
    """A :class:`GiftEvent`, or the reason (a short string) why the line is bad; never raises."""
    cfg = cfg or GiftsConfig()
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return f"not JSON ({exc.__class__.__name__})"
    if not isinstance(obj, dict):
        return f"not a JSON object ({type(obj).__name__})"
    t = feed_time(obj, wall_to_media, max_t)
    if isinstance(t, str):
        return t
    user = _name(obj, "user", None)
    if user is None:
        return "'user' must be a non-empty string or number (at most 256 characters)"
    gift = _name(obj, "gift", "")
    if gift is None:
        return "'gift' must be a string (at most 256 characters)"
    value = number(obj.get("value"))
    if value is None or value <= 0:
        return "'value' must be a finite number > 0"
    currency = _name(obj, "currency", cfg.default_currency)
    if currency is None:
        return "'currency' must be a string"
    rate = cfg.rates.get(currency)
    if rate is None:
        return f"unknown currency {currency[:16]!r} (not in gifts.rates)"
    amount = value * rate
    if amount > cfg.max_amount:
        return f"value is absurd (worth more than {cfg.max_amount:g} per gift)"
    return GiftEvent(stream=stream, t=t, user=user, gift=gift, value=value, currency=currency, amount=amount)


def check_gift_source(source: str, cfg: GiftsConfig | None = None, guard: UrlGuard | None = None) -> None:
    """Raise :class:`InputError` naming the source when it cannot be read (checked before a scan starts)."""
    check_feed_source(source, "gift", cfg or GiftsConfig(), guard)


def iter_gifts(
    source: str,
    stream: str,
    cfg: GiftsConfig | None = None,
    *,
    stats: GiftStats | None = None,
    guard: UrlGuard | None = None,
    wall_to_media: WallToMedia | None = None,
    max_t: MaxTime | None = None,
) -> Iterator[GiftEvent]:
    """Gifts of a feed in feed order; opening failures raise :class:`InputError`, bad lines are
    skipped and counted in ``stats`` (see :func:`parse_gift_line`)."""
    c = cfg or GiftsConfig()
    return iter_feed(
        source,
        "gift",
        c,
        lambda raw: parse_gift_line(raw, stream, c, wall_to_media, max_t),
        stats=stats if stats is not None else GiftStats(),
        guard=guard,
        log=log,
    )
