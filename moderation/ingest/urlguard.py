"""Untrusted stream URLs: allowed schemes, allowed destinations, every nested open checked.

Why this exists (DESIGN.md §8): a stream URL comes from outside (a publish callback, an API call)
and FFmpeg will open almost anything it is given — local files, ``concat:``/``subfile:`` views
of them, pipes, and every URL a remote HLS playlist lists (segments, keys, variant playlists,
redirects). Any of those can read local secrets or reach internal services (SSRF, cloud metadata
at 169.254.169.254). So:

* the top-level URL must use an allowed scheme and resolve only to allowed addresses. The check
  resolves the name (so ``http://2130706433/``, ``0x7f.1`` and names pointing at 127.0.0.1 are
  caught), and every resolved address must pass; loopback, private, link-local, site-local,
  multicast, reserved and unspecified ranges are refused unless allow-listed by CIDR or host
  name. An IPv6 address that carries an IPv4 one is judged by it too: IPv4-mapped, -compatible
  and NAT64 (``64:ff9b::/96``) addresses *are* that IPv4 address; 6to4 (``2002::/16``) and Teredo
  (``2001::/32``, client XOR 0xffffffff) relay to it, so both must pass;
* for HTTP(S) and local playlists, FFmpeg's ``io_open`` hook is set, so FFmpeg asks *us* to open
  the top-level URL and every nested one (``ingest/guarded_io.py``, which also checks playlists
  entry by entry). We check each and do the HTTP ourselves, connecting to the address we checked
  (no second DNS lookup to rebind) and re-checking every redirect;
* for RTMP/RTSP/UDP/SRT (protocols that open no nested URLs through ``io_open``) the checked
  address is pinned into the URL handed to FFmpeg and ``protocol_whitelist`` bounds the
  sub-protocols it may use.

A refusal raises :class:`UrlRefused` naming the URL and the rule. Inside FFmpeg a refusal
cannot travel as an exception (a demuxer skips what it cannot open; PyAV would print the stashed
exception), so the guard records it in :attr:`UrlGuard.refusals`; the source checks that list and
raises the first.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from moderation.config.ingest import UrlGuardConfig
from moderation.ingest.decode import MediaError
from moderation.ingest.localfile import ffmpeg_file_url

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

_AVIO_FLAG_WRITE = 2
#: Sub-protocols FFmpeg may use under each top-level scheme (``protocol_whitelist``).
PROTOCOL_WHITELIST: dict[str, str] = {
    "rtmp": "rtmp,tcp",
    "rtmps": "rtmps,tls,tcp",
    "rtsp": "rtsp,rtp,udp,tcp",
    "rtsps": "rtsps,rtsp,rtp,udp,tcp,tls",
    "udp": "udp",
    "srt": "srt",
}
__all__ = ["PROTOCOL_WHITELIST", "CheckedUrl", "UrlGuard", "UrlGuardConfig", "UrlRefused", "redact"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "rtmp": 1935, "rtmps": 443, "rtsp": 554, "rtsps": 322}


class UrlRefused(MediaError):
    """A URL the guard will not open; ``rule`` names the check that failed."""

    def __init__(self, url: str, rule: str) -> None:
        self.url = url
        self.rule = rule
        super().__init__(f"{redact(url)}: refused ({rule})")


@dataclass(frozen=True)
class CheckedUrl:
    """A URL that passed the guard. ``ffmpeg_url`` is what FFmpeg gets (address pinned)."""

    url: str
    ffmpeg_url: str
    scheme: str
    host: str | None
    port: int | None
    addresses: tuple[str, ...]


def redact(url: str) -> str:
    """The URL without a password or query string (stream keys/tokens live there) for logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url[:80]
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if "@" in parts.netloc:
        netloc = "***@" + netloc
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def _default_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(addr: IpAddress) -> tuple[str, ipaddress.IPv4Address, bool] | None:
    """The IPv4 address an IPv6 address carries: (kind, address, whether the IPv6 form is only a
    spelling of it). Mapped, compatible and NAT64 addresses *are* their IPv4 address; 6to4 and
    Teredo reach it through a relay, so both the tunnel address and the embedded one are checked."""
    if not isinstance(addr, ipaddress.IPv6Address):
        return None
    if addr.ipv4_mapped is not None:
        return "IPv4-mapped", addr.ipv4_mapped, True
    if addr in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF), True
    if int(addr) >> 32 == 0 and int(addr) > 1:  # ::a.b.c.d (deprecated); '::' and '::1' are themselves
        return "IPv4-compatible", ipaddress.IPv4Address(int(addr)), True
    if addr.sixtofour is not None:
        return "6to4", addr.sixtofour, False
    if addr.teredo is not None:
        return "Teredo", addr.teredo[1], False  # the client; ipaddress undoes the XOR
    return None


def _restricted(addr: IpAddress) -> str | None:
    """Why an address (itself, not what it embeds) is not a public destination, or None."""
    for name in ("loopback", "link_local", "site_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(addr, f"is_{name}", False):
            return name.replace("_", "-")
    if not addr.is_global:
        return "non-global"
    return None


class UrlGuard:
    """Checks URLs against a :class:`UrlGuardConfig`; one instance per opened source."""

    def __init__(self, config: UrlGuardConfig | None = None, resolver: Resolver | None = None) -> None:
        self.config = config or UrlGuardConfig()
        self._resolve = resolver or _default_resolver
        self._networks = [ipaddress.ip_network(n, strict=False) for n in self.config.allow_networks]
        self._hosts = {h.lower().rstrip(".") for h in self.config.allow_hosts}
        self._lock = threading.Lock()
        #: Refusals seen by the io_open hook (a demuxer may swallow the error it got).
        self.refusals: list[UrlRefused] = []
        #: Every URL opened through the hook, in order (for tests and audit logs).
        self.opened: list[str] = []

    # -- checks ---------------------------------------------------------------------------
    def _schemes(self) -> set[str]:
        schemes = {s.lower() for s in self.config.allowed_schemes}
        return schemes | {"file"} if self.config.allow_file else schemes - {"file"}

    def check(self, url: str, *, resolve: Resolver | None = None) -> CheckedUrl:
        """Check one URL; raise UrlRefused naming the rule it breaks (``resolve``: a memo, see check_all)."""
        if "\0" in url:
            raise UrlRefused(url, "NUL byte in URL")
        head = url.split(":", 1)[0].lower() if ":" in url else ""
        if "://" not in url and head != "file":
            # FFmpeg reads 'concat:', 'subfile,,...', 'pipe:0', 'data:...' or a bare path as
            # protocols of their own; only a plain local path may pass, and only as a file.
            if head and head.isalpha() and len(head) > 1 and head not in self._schemes():
                raise UrlRefused(url, f"scheme {head!r} not allowed")
            return self._check_file(url, Path(url))
        if head == "file" and not url[5:].startswith("//"):
            # 'file:' + path (ffmpeg_file_url's form, and what FFmpeg builds for a local
            # playlist's entries): the rest is the path as is, like FFmpeg's file protocol reads it.
            return self._check_file(url, Path(url[5:]))
        if any(ord(ch) < 0x21 or ch in "\\\x7f" for ch in url):
            raise UrlRefused(url, "control characters, spaces or backslashes in URL")
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file":
            if parts.netloc.lower() not in ("", "localhost"):
                raise UrlRefused(url, f"file URL names a host ({parts.netloc!r}); only local paths are allowed")
            return self._check_file(url, Path(unquote(parts.path)))
        if scheme not in self._schemes():
            raise UrlRefused(url, f"scheme {scheme!r} not allowed")
        try:
            host, port = parts.hostname, parts.port
        except ValueError as exc:
            raise UrlRefused(url, f"malformed address ({exc})") from exc
        if scheme == "udp" and not host:
            host = "0.0.0.0"  # 'udp://@:1234' listens on all interfaces
        if not host:
            raise UrlRefused(url, "no host")
        port = port or _DEFAULT_PORTS.get(scheme, 0)
        addresses = self._check_host(url, host, port, resolve or self._resolve)
        return CheckedUrl(url, self._pin(parts, scheme, addresses[0]), scheme, host, port, tuple(addresses))

    def _check_file(self, url: str, path: Path) -> CheckedUrl:
        if not self.config.allow_file:
            raise UrlRefused(url, "local files not allowed (allow_file is off)")
        # 'file:' + absolute path forces FFmpeg's file protocol whatever the name looks like.
        return CheckedUrl(url, ffmpeg_file_url(path), "file", None, None, ())

    def _check_host(self, url: str, host: str, port: int, resolve: Resolver) -> list[str]:
        allowed_name = host.lower().rstrip(".") in self._hosts
        try:
            addresses = list(resolve(host, port))
        except (OSError, UnicodeError) as exc:
            raise UrlRefused(url, f"host {host!r} does not resolve ({exc})") from exc
        if not addresses:
            raise UrlRefused(url, f"host {host!r} does not resolve")
        if allowed_name:
            return addresses
        for text in addresses:
            addr = ipaddress.ip_address(text.split("%", 1)[0])
            embedded = _embedded_ipv4(addr)
            if embedded is None or not embedded[2]:
                why = _restricted(addr)
                if why is not None and not self._listed(addr):
                    raise UrlRefused(url, f"destination {addr} is {why} and not allow-listed")
            if embedded is not None:
                kind, inner, _ = embedded
                why = _restricted(inner)
                if why is not None and not self._listed(inner):
                    raise UrlRefused(url, f"destination {addr} is {kind} for {inner}, which is {why}, not allow-listed")
        return addresses

    def _listed(self, addr: IpAddress) -> bool:
        return any(addr in net for net in self._networks)

    def check_all(self, urls: Iterable[str], *, max_hosts: int = 32) -> None:
        """Check many URLs (a playlist's entries) resolving each host once; the first refusal is
        recorded and raised. More than ``max_hosts`` distinct hosts is itself refused."""
        memo: dict[tuple[str, int], Sequence[str]] = {}

        def resolve(host: str, port: int) -> Sequence[str]:
            key = (host.lower(), port)
            if key not in memo:
                if len(memo) >= max_hosts:
                    raise UrlRefused(host, f"more than {max_hosts} distinct hosts in one playlist")
                memo[key] = self._resolve(host, port)
            return memo[key]

        for url in urls:
            try:
                self.check(url, resolve=resolve)
            except UrlRefused as exc:
                if exc.url != url:
                    exc = UrlRefused(url, exc.rule)
                raise self.record(exc) from None

    @staticmethod
    def _pin(parts: Any, scheme: str, address: str) -> str:
        """Put the checked address into the URL so FFmpeg cannot resolve the name again."""
        if scheme in ("http", "https", "rtmps", "rtsps"):
            return urlunsplit(parts)  # TLS needs the name; HTTP is pinned in our own connection
        host = f"[{address}]" if ":" in address else address
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        if "@" in parts.netloc:
            netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
        return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))

    def _refuse(self, url: str, rule: str) -> UrlRefused:
        return self.record(UrlRefused(url, rule))

    def record(self, err: UrlRefused) -> UrlRefused:
        """Remember a refusal (a demuxer may swallow the error it got) and return it."""
        with self._lock:
            self.refusals.append(err)
        return err

    # -- PyAV io_open hook ------------------------------------------------------------------
    def io_open(self, url: str, flags: int, options: dict[str, str]) -> BinaryIO | _HttpReader:
        """``av.open(..., io_open=guard.io_open)``: FFmpeg's every open comes through here.

        PyAV wraps what this returns (a file-like object with ``read``) in an AVIOContext.
        """
        if flags & _AVIO_FLAG_WRITE:
            raise self._refuse(url, "write access requested")
        low = url.lower()
        if low.startswith(("crypto:", "crypto+")):
            raise self._refuse(url, "encrypted HLS (crypto:) is not supported through the guard")
        try:
            checked = self.check(url)
        except UrlRefused as exc:
            raise self.record(exc) from None
        with self._lock:
            self.opened.append(url)
        if checked.scheme == "file":
            return Path(checked.ffmpeg_url[5:]).open("rb")
        if checked.scheme in ("http", "https"):
            return _HttpReader.open(self, checked)
        raise self._refuse(url, f"scheme {checked.scheme!r} cannot be opened as a nested URL")


class _HttpReader:
    """A read-only HTTP(S) response body for FFmpeg, connected to the checked address."""

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse, url: str) -> None:
        self._conn = conn
        self._resp = resp
        self.url = url

    @classmethod
    def open(cls, guard: UrlGuard, checked: CheckedUrl) -> _HttpReader:
        url = checked.url
        for _ in range(guard.config.max_redirects + 1):
            parts = urlsplit(url)
            conn = _connection(checked, guard.config.http_timeout_s)
            path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
            try:
                conn.request("GET", path, headers={"User-Agent": "moderation-ingest", "Accept": "*/*"})
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise OSError(f"{redact(url)}: HTTP request failed: {exc}") from exc
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.getheader("Location") or ""
                conn.close()
                url = urljoin(url, location)
                try:
                    checked = guard.check(url)
                except UrlRefused as exc:
                    raise guard.record(exc) from None
                if checked.scheme not in ("http", "https"):
                    raise guard._refuse(url, f"redirect to scheme {checked.scheme!r}")
                continue
            if resp.status != 200:
                conn.close()
                raise OSError(f"{redact(url)}: HTTP {resp.status} {resp.reason}")
            return cls(conn, resp, url)
        raise guard._refuse(url, f"more than {guard.config.max_redirects} redirects")

    def read(self, n: int = -1) -> bytes:
        # read1: return what has arrived instead of waiting for a full buffer (live latency).
        return self._resp.read1(n) if n > 0 else self._resp.read()

    def close(self) -> None:
        self._resp.close()
        self._conn.close()


def _connection(checked: CheckedUrl, timeout: float) -> http.client.HTTPConnection:
    assert checked.host is not None and checked.port is not None
    address = checked.addresses[0]
    if checked.scheme == "https":
        return _PinnedHTTPS(checked.host, checked.port, address, timeout)
    return _PinnedHTTP(checked.host, checked.port, address, timeout)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._ctx = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._ctx)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)
