"""FFmpeg's side of the URL guard: the ``io_open`` callback every guarded ``av.open`` uses.

Why it is more than ``UrlGuard.io_open``:

* **Errors never go back into PyAV as exceptions.** PyAV stashes an exception raised by the
  callback; HLS skips a segment it cannot open, so the next stashed one makes PyAV print the
  previous one as a full traceback on stderr. Here a refused or failed open is one log line, is
  recorded (``UrlGuard.refusals`` / :attr:`FFmpegIO.failures`) for the source to raise, and FFmpeg
  gets an empty body (it skips the segment, or fails the open as its own error would).
* **Playlists are read and checked here.** FFmpeg resolves a playlist's relative entries against
  the URL *it* asked for, and cannot see a redirect our HTTP reader followed (a custom AVIOContext
  has no ``location``): behind a CDN redirect every segment would 404. So a playlist body is
  rewritten with its entries made absolute against the URL it was really served from. Every entry
  is checked before FFmpeg sees any (a forbidden one is refused, with its rule, instead of
  surfacing as "invalid data"); an HTTP playlist may only list HTTP(S) URLs, and encrypted HLS is
  refused up front (its segments would open as ``crypto:``, which the guard refuses anyway).
* **The top-level URL is opened before FFmpeg** (:meth:`FFmpegIO.prepare`) so a playlist at a URL
  without ``.m3u8`` can be opened as HLS: a custom AVIOContext carries no MIME type, and FFmpeg's
  HLS probe needs one or the extension.
"""

from __future__ import annotations

import io
import logging
import re
import time
from typing import BinaryIO, Protocol, cast
from urllib.parse import urljoin, urlsplit

from moderation.ingest.urlguard import UrlGuard, UrlRefused, redact

log = logging.getLogger(__name__)

#: Largest playlist read into memory (a day of 2 s segments is ~5 MB).
PLAYLIST_MAX_BYTES = 32 * 1024 * 1024
#: FFmpeg's ``allowed_segment_extensions`` (libavformat/hls.c): it refuses other segment names.
SEGMENT_EXTENSIONS = frozenset(
    (
        "3gp",
        "aac",
        "avi",
        "ac3",
        "eac3",
        "flac",
        "mkv",
        "m3u8",
        "m4a",
        "m4s",
        "m4v",
        "mpg",
        "mov",
        "mp2",
        "mp3",
        "mp4",
        "mpeg",
        "mpegts",
        "ogg",
        "ogv",
        "oga",
        "ts",
        "vob",
        "vtt",
        "wav",
        "webvtt",
        "cmfv",
        "cmfa",
        "ec3",
        "fmp4",
    )
)
_MAGIC = b"#EXTM3U"
_BOM = b"\xef\xbb\xbf"
_URI_ATTR = re.compile(r'URI="([^"]*)"')
_METHOD_ATTR = re.compile(r"METHOD=([A-Za-z0-9-]+)")


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...
    def close(self) -> None: ...


class _Empty:
    """What FFmpeg gets for a refused or failed open: a body that ends at once."""

    def read(self, n: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        pass


class _Stream:
    """A network body after its first bytes were looked at; read errors become end of data."""

    def __init__(self, inner: _Readable, head: bytes, owner: FFmpegIO, url: str) -> None:
        self._inner = inner
        self._head = head
        self._owner = owner
        self._url = url
        self._broken = False

    def read(self, n: int = -1) -> bytes:
        if self._head:
            cut = len(self._head) if n < 0 else n
            out, self._head = self._head[:cut], self._head[cut:]
            return out
        if self._broken:
            return b""
        try:
            return self._inner.read(n)
        except Exception as exc:  # a stashed exception would resurface elsewhere as a traceback
            self._broken = True
            msg = f"{redact(self._url)}: read failed ({type(exc).__name__}: {exc})"
            self._owner.read_errors.append(msg)
            log.warning("%s", msg)
            return b""

    def close(self) -> None:
        self._inner.close()


class FFmpegIO:
    """``av.open(url, io_open=FFmpegIO(guard), format=...)``: one instance per opened source."""

    def __init__(self, guard: UrlGuard) -> None:
        self.guard = guard
        #: Opens that failed for a reason other than a refusal (HTTP 404, connection refused).
        self.failures: list[str] = []
        #: Reads that broke off (the body was then ended for FFmpeg).
        self.read_errors: list[str] = []
        self._pending: dict[str, BinaryIO | _Stream] = {}

    def prepare(self, url: str) -> bool:
        """Open ``url`` (FFmpeg's top-level URL) now; True when it is an HLS playlist.

        Raises UrlRefused or OSError. FFmpeg's own open of ``url`` then gets this body.
        """
        reader, playlist = self._open(url, 1)
        self._pending[url] = reader
        return playlist

    def close(self) -> None:
        """Close a prepared body FFmpeg never asked for."""
        for reader in self._pending.values():
            reader.close()
        self._pending.clear()

    def __call__(self, url: str, flags: int, options: dict[str, str]) -> BinaryIO | _Stream | _Empty:
        pending = self._pending.pop(url, None)
        if pending is not None:
            return pending
        if self.guard.refusals:  # a hostile input was seen: open nothing more for it
            log.debug("not opening %s after a refusal", redact(url))
            return _Empty()
        try:
            return self._open(url, flags)[0]
        except UrlRefused as exc:
            log.warning("nested open %s", exc)
            return _Empty()
        except Exception as exc:
            msg = f"{redact(url)}: {exc}" if redact(url) not in str(exc) else str(exc)
            self.failures.append(msg)
            log.warning("nested open failed: %s", msg)
            return _Empty()

    def _open(self, url: str, flags: int) -> tuple[BinaryIO | _Stream, bool]:
        reader = self.guard.io_open(url, flags, {})
        try:
            head = _read_at_least(reader, len(_BOM) + len(_MAGIC), time.monotonic() + self.guard.config.http_timeout_s)
            if not head.removeprefix(_BOM).startswith(_MAGIC):
                if isinstance(reader, io.IOBase):
                    reader.seek(0)  # a local file stays seekable for FFmpeg
                    return cast(BinaryIO, reader), False
                return _Stream(reader, head, self, url), False
            body = head + _read_all(reader, time.monotonic() + self.guard.config.http_timeout_s)
            if len(body) > PLAYLIST_MAX_BYTES:
                raise self.guard.record(UrlRefused(url, f"playlist larger than {PLAYLIST_MAX_BYTES} bytes"))
        except BaseException:
            reader.close()
            raise
        reader.close()
        base = getattr(reader, "url", url)  # where the body really came from (after redirects)
        return io.BytesIO(self.check_playlist(url, base, body.removeprefix(_BOM))), True

    def check_playlist(self, url: str, base: str, body: bytes) -> bytes:
        """Check every entry of a playlist served from ``base``; return it with entries absolute
        when ``base`` differs from the ``url`` FFmpeg resolves against. Raises UrlRefused."""
        text = body.decode("utf-8", "surrogateescape")
        remote = urlsplit(base).scheme.lower() in ("http", "https")
        lines = text.splitlines(keepends=True)
        targets: list[str] = []

        def absolute(entry: str) -> str:
            target = urljoin(base, entry.strip())
            scheme = urlsplit(target).scheme.lower() if "://" in target else target.split(":", 1)[0].lower()
            if remote and scheme not in ("http", "https"):
                raise self.guard.record(UrlRefused(target, f"an HTTP playlist may only list http(s) URLs ({base})"))
            targets.append(target)
            return target

        out: list[str] = []
        variant_next = False  # the URI line after #EXT-X-STREAM-INF is a playlist, not a segment
        for line in lines:
            stripped = line.strip()
            if not stripped:
                out.append(line)
            elif stripped.startswith("#"):
                variant_next = variant_next or stripped.startswith("#EXT-X-STREAM-INF")
                is_key = stripped.startswith(("#EXT-X-KEY", "#EXT-X-SESSION-KEY"))
                method = _METHOD_ATTR.search(stripped) if is_key else None
                if method and method.group(1).upper() != "NONE":
                    rule = f"encrypted HLS (METHOD={method.group(1)}) is not supported through the guard"
                    raise self.guard.record(UrlRefused(url, rule))
                out.append(_URI_ATTR.sub(lambda m: f'URI="{absolute(m.group(1))}"', line))
            else:
                target = absolute(stripped)
                if not variant_next:
                    self._check_segment_name(target)
                variant_next = False
                out.append(target + line[len(line.rstrip("\r\n")) :])
        self.guard.check_all(targets)
        if base == url:
            return body
        return "".join(out).encode("utf-8", "surrogateescape")

    def _check_segment_name(self, target: str) -> None:
        """FFmpeg's HLS demuxer refuses a segment without a media extension (as "invalid data",
        which would look worth retrying): refuse it here, naming the rule."""
        name = urlsplit(target).path.rsplit("/", 1)[-1] if "://" in target else target.rsplit("/", 1)[-1]
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in SEGMENT_EXTENSIONS:
            rule = f"segment extension {ext or '(none)'!r} is not one FFmpeg's HLS demuxer accepts"
            raise self.guard.record(UrlRefused(target, rule))


def _read_at_least(reader: _Readable, n: int, deadline: float) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = reader.read(n - len(buf))
        if not chunk:
            break
        buf += chunk
        if time.monotonic() > deadline:
            raise TimeoutError("no complete response before the timeout")
    return buf


def _read_all(reader: _Readable, deadline: float) -> bytes:
    """The rest of a body, stopping just past PLAYLIST_MAX_BYTES (the caller refuses that)."""
    parts: list[bytes] = []
    size = 0
    while size <= PLAYLIST_MAX_BYTES and (chunk := reader.read(65536)):
        size += len(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError("playlist not complete before the timeout")
        parts.append(chunk)
    return b"".join(parts)
