"""URL guard: hostile schemes and destinations refused, nested HLS URLs checked via io_open."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from media_factory import make_hls

from moderation.ingest.decode import MediaError
from moderation.ingest.source import SourceConfig, open_source
from moderation.ingest.urlguard import UrlGuard, UrlGuardConfig, UrlRefused, redact

LOOPBACK_OK = UrlGuardConfig(allow_networks=("127.0.0.1/32",))


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("file:///etc/passwd", "local files not allowed"),
        ("/etc/passwd", "local files not allowed"),
        ("concat:/etc/passwd|/etc/hosts", "scheme 'concat' not allowed"),
        ("subfile,,start,0,end,100,,:/etc/passwd", "local files not allowed"),
        ("pipe:0", "scheme 'pipe' not allowed"),
        ("data:text/plain;base64,AAAA", "scheme 'data' not allowed"),
        ("tcp://example.com:80", "scheme 'tcp' not allowed"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local"),
        ("http://[::1]/x.m3u8", "::1 is loopback"),
        ("http://[::ffff:127.0.0.1]/x.m3u8", "is loopback"),
        ("http://2130706433/x.m3u8", "127.0.0.1 is loopback"),
        ("http://0x7f.1/x.m3u8", "127.0.0.1 is loopback"),
        ("http://localhost:8080/x.m3u8", "is loopback"),
        ("rtmp://10.1.2.3/live/key", "10.1.2.3 is private"),
        ("rtmp://192.168.0.10/live/key", "is private"),
        ("udp://@239.1.1.1:1234", "239.1.1.1 is multicast"),
        ("udp://@:1234", "0.0.0.0 is unspecified"),
        ("http://0/", "0.0.0.0 is unspecified"),
        ("http:///etc/passwd", "no host"),
        ("http://exa mple.com/", "control characters"),
    ],
)
def test_hostile_urls_refused(url: str, rule: str) -> None:
    with pytest.raises(UrlRefused, match=rule) as info:
        UrlGuard().check(url)
    assert isinstance(info.value, MediaError)
    assert info.value.rule and info.value.url == url


def test_refusal_names_url_without_secrets() -> None:
    with pytest.raises(UrlRefused) as info:
        UrlGuard().check("rtmp://user:pw@10.0.0.1/live/streamkey?token=abc")
    msg = str(info.value)
    assert "10.0.0.1" in msg and "pw" not in msg and "abc" not in msg and "refused" in msg
    assert redact("http://a:b@h/p?q=1") == "http://***@h/p?***"


def test_allow_lists() -> None:
    assert UrlGuard(UrlGuardConfig(allow_networks=("127.0.0.0/8",))).check("http://2130706433/x").addresses == (
        "127.0.0.1",
    )
    assert UrlGuard(UrlGuardConfig(allow_hosts=("localhost",))).check("http://localhost/x").host == "localhost"
    assert UrlGuard(UrlGuardConfig(allow_file=True)).check("/etc/passwd").ffmpeg_url == "file:/etc/passwd"
    # 'subfile,...' is only ever a path name once files are allowed, never FFmpeg's subfile protocol.
    assert UrlGuard(UrlGuardConfig(allow_file=True)).check("subfile,,x").ffmpeg_url.startswith("file:/")
    with pytest.raises(UrlRefused, match="scheme 'rtmp' not allowed"):
        UrlGuard(UrlGuardConfig(allowed_schemes=("https",))).check("rtmp://8.8.8.8/live/k")


def _literal(host: str, port: int) -> list[str]:
    """Resolve only address literals: these tests never look anything up or connect."""
    return [host.strip("[]")]


@pytest.mark.parametrize(
    ("host", "rule"),
    [
        ("2002:7f00:1::", "6to4 for 127.0.0.1, which is loopback"),
        ("2002:a9fe:a9fe::", "6to4 for 169.254.169.254, which is link-local"),
        ("2002:c0a8:101::1", "6to4 for 192.168.1.1, which is private"),
        ("64:ff9b::7f00:1", "NAT64 for 127.0.0.1, which is loopback"),
        ("64:ff9b::a9fe:a9fe", "NAT64 for 169.254.169.254, which is link-local"),
        ("::7f00:1", "IPv4-compatible for 127.0.0.1, which is loopback"),
        ("::ffff:a00:1", "IPv4-mapped for 10.0.0.1, which is private"),
        ("fec0::1", "fec0::1 is site-local"),
        # Teredo: the client is the last 32 bits XOR 0xffffffff (here 127.0.0.1).
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "is private"),
    ],
)
def test_ipv6_embedding_a_restricted_ipv4_refused(host: str, rule: str) -> None:
    with pytest.raises(UrlRefused, match=re.escape(rule)):
        UrlGuard(resolver=_literal).check(f"http://[{host}]/x.m3u8")
    # A public name resolving to such an address is refused the same way.
    with pytest.raises(UrlRefused, match=re.escape(rule)):
        UrlGuard(resolver=lambda h, p: [host]).check("https://cdn.example/x.m3u8")


def test_embedded_ipv4_checked_even_when_the_tunnel_prefix_is_allowed() -> None:
    teredo = UrlGuard(UrlGuardConfig(allow_networks=("2001::/32",)), resolver=_literal)
    with pytest.raises(UrlRefused, match=r"Teredo for 127\.0\.0\.1, which is loopback"):
        teredo.check("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/")
    with pytest.raises(UrlRefused, match=r"Teredo for 10\.0\.0\.1, which is private"):
        teredo.check("http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/")


def test_embedded_ipv4_follows_the_same_allow_list_and_public_addresses_pass() -> None:
    public = UrlGuard(resolver=_literal)
    for host in ("2002:808:808::1", "64:ff9b::808:808", "::ffff:8.8.8.8"):
        assert public.check(f"http://[{host}]/x").addresses == (host,)
    loop = UrlGuard(UrlGuardConfig(allow_networks=("127.0.0.0/8",)), resolver=_literal)
    for host in ("2002:7f00:1::", "64:ff9b::7f00:1", "::ffff:127.0.0.1"):
        assert loop.check(f"http://[{host}]/x").host == host


def test_file_urls_name_exactly_one_local_path(tmp_path: Path) -> None:
    guard = UrlGuard(UrlGuardConfig(allow_file=True))
    with pytest.raises(UrlRefused, match="file URL names a host"):
        guard.check("file://fileserver/share/x.mp4")
    assert guard.check("file://localhost/tmp/x.mp4").ffmpeg_url == "file:/tmp/x.mp4"
    # 'file:' + path is read as is (FFmpeg's file protocol decodes nothing): '%', '?', '#', spaces.
    for name in ("50%25 off.mp4", "a?b.mp4", "c#d.mp4"):
        path = tmp_path / name
        path.write_bytes(b"x")
        checked = guard.check(f"file:{path}")
        assert checked.ffmpeg_url == f"file:{path}"
        with guard.io_open(checked.ffmpeg_url, 1, {}) as f:  # type: ignore[union-attr]
            assert f.read() == b"x"
    assert guard.check("rel/x.mp4").ffmpeg_url == f"file:{Path.cwd() / 'rel/x.mp4'}"


def test_public_dns_name_checked_on_every_address() -> None:
    mixed = UrlGuard(resolver=lambda host, port: ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(UrlRefused, match=r"10\.0\.0\.5 is private"):
        mixed.check("https://rebind.example/x.m3u8")
    public = UrlGuard(resolver=lambda host, port: ["93.184.216.34"])
    checked = public.check("rtmp://origin.example/live/k")
    assert checked.ffmpeg_url == "rtmp://93.184.216.34/live/k"  # pinned: FFmpeg cannot re-resolve


def test_io_open_refuses_nested_and_records() -> None:
    guard = UrlGuard(LOOPBACK_OK)
    for url in ("file:///etc/passwd", "http://127.0.0.2/seg.ts", "crypto+http://127.0.0.1/seg.ts"):
        with pytest.raises(UrlRefused):
            guard.io_open(url, 1, {})
    with pytest.raises(UrlRefused, match="write access"):
        guard.io_open("http://127.0.0.1/x", 2, {})
    assert len(guard.refusals) == 4 and guard.opened == []


# -- HLS served from a local http.server (allow-listed) -------------------------------------------


@pytest.fixture(scope="module")
def hls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    d = tmp_path_factory.mktemp("hls")
    text = make_hls(d / "ok.m3u8")
    (d / "file_seg.m3u8").write_text(text.replace("ok1.ts", "file:///etc/passwd"))
    (d / "far_seg.m3u8").write_text(text.replace("ok0.ts", "http://127.0.0.2:9/ok0.ts"))
    (d / "meta_seg.m3u8").write_text(text.replace("ok0.ts", "http://169.254.169.254/ok0.ts"))
    return d


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.2:9/ok.m3u8")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def http_base(hls_dir: Path) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(hls_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _cfg(**guard: object) -> SourceConfig:
    return SourceConfig(guard=UrlGuardConfig(**{"allow_networks": ("127.0.0.1/32",), **guard}), open_timeout_s=5)


def test_hls_allowed_playlist_opens_every_segment_through_the_guard(http_base: str) -> None:
    opened = open_source(f"{http_base}/ok.m3u8", _cfg())
    with opened.container as c:
        n = sum(1 for p in c.demux() if p.size)
    assert n > 20
    assert opened.guard.opened[0].endswith("/ok.m3u8")
    assert {u.rsplit("/", 1)[1] for u in opened.guard.opened[1:]} == {"ok0.ts", "ok1.ts", "ok2.ts"}


def test_hls_segment_to_other_destination_refused_via_io_open(http_base: str) -> None:
    with pytest.raises(UrlRefused, match=r"127\.0\.0\.2:9/ok0\.ts: refused \(destination 127\.0\.0\.2 is loopback"):
        open_source(f"{http_base}/far_seg.m3u8", _cfg())


def test_hls_segment_to_file_never_opened(http_base: str) -> None:
    # The playlist is checked before FFmpeg sees it: refused with the rule, not "invalid data".
    with pytest.raises(UrlRefused, match=r"file:///etc/passwd: refused \(an HTTP playlist may only list"):
        open_source(f"{http_base}/file_seg.m3u8", _cfg(allow_file=True))


def test_local_playlist_with_metadata_segment_refused(hls_dir: Path) -> None:
    with pytest.raises(UrlRefused, match=r"169\.254\.169\.254 is link-local"):
        open_source(str(hls_dir / "meta_seg.m3u8"), SourceConfig(guard=UrlGuardConfig(allow_file=True)))


def test_redirect_target_rechecked(http_base: str) -> None:
    with pytest.raises(UrlRefused, match=r"127\.0\.0\.2:9/ok\.m3u8: refused"):
        open_source(f"{http_base}/redirect", _cfg())


def test_concat_refused_before_ffmpeg_sees_it() -> None:
    """FFmpeg would happily read ``concat:`` of local files; the guard stops it first."""
    with pytest.raises(UrlRefused, match="scheme 'concat' not allowed"):
        open_source("concat:/etc/hostname|/etc/hostname", SourceConfig(guard=UrlGuardConfig(allow_file=True)))
