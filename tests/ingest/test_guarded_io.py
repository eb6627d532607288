"""Guarded FFmpeg IO against a local HTTP server: redirected and extension-less HLS, playlists with
forbidden entries, and one log line (never a traceback) per refused or failed nested open."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest
from media_factory import make_hls

from moderation.ingest.guarded_io import FFmpegIO
from moderation.ingest.live_source import LiveSource
from moderation.ingest.source import SourceConfig, TransientError, open_source
from moderation.ingest.urlguard import UrlGuard, UrlGuardConfig, UrlRefused


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """real/ok.m3u8 + 3 one-second segments; everything else is routed by the handler."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    d = tmp_path_factory.mktemp("site")
    (d / "real").mkdir()
    text = make_hls(d / "real" / "ok.m3u8")
    (d / "real" / "gone.m3u8").write_text(text.replace("ok", "gone"))  # every segment 404s
    (d / "real" / "bounce.m3u8").write_text(text.replace("ok0.ts", "/bounce/seg.ts"))
    (d / "real" / "file_first.m3u8").write_text(text.replace("ok0.ts", "file:///etc/passwd"))
    (d / "real" / "meta_last.m3u8").write_text(text.replace("ok2.ts", "http://169.254.169.254/ok2.ts"))
    (d / "real" / "enc.m3u8").write_text(text.replace("#EXTINF", '#EXT-X-KEY:METHOD=AES-128,URI="key.bin"\n#EXTINF', 1))
    (d / "real" / "noext.m3u8").write_text(text.replace("ok1.ts", "ok1"))
    (d / "real" / "token.m3u8").write_text(text.replace(".ts", ".ts?token=abc"))
    (d / "master.m3u8").write_text("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\nvariant/index.m3u8\n")
    return d


class _Handler(SimpleHTTPRequestHandler):
    """Static files plus CDN-style redirects and a tokenised, extension-less playlist URL."""

    requests: ClassVar[list[tuple[str, int]]]
    base: ClassVar[str]

    def send_response(self, code: int, message: str | None = None) -> None:
        self.requests.append((self.path, code))
        super().send_response(code, message)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/cdn/live.m3u8":  # relative segments would now resolve under /cdn/ (404)
            return self._redirect("/real/ok.m3u8")
        if path == "/watch":  # tokenised, no extension, redirected to another extension-less URL
            return self._redirect(f"{self.base}/real/stream?token=abc")
        if path == "/real/stream":
            body = (Path(self.directory) / "real" / "ok.m3u8").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        if path == "/variant/index.m3u8":  # a nested playlist behind a redirect
            return self._redirect("/real/ok.m3u8")
        if path == "/bounce/seg.ts":  # a segment whose redirect leaves the allowed network
            return self._redirect("http://127.0.0.2:9/seg.ts")
        return super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server(site: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    class Handler(_Handler):
        requests: ClassVar[list[tuple[str, int]]] = []

    httpd = HTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(site)))
    Handler.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Handler.base, Handler.requests
    httpd.shutdown()
    httpd.server_close()


def _cfg(**source: object) -> SourceConfig:
    guard = UrlGuardConfig(allow_networks=("127.0.0.1/32",), http_timeout_s=5)
    return SourceConfig(guard=guard, open_timeout_s=10, **source)


def _packets(url: str) -> tuple[int, UrlGuard]:
    opened = open_source(url, _cfg())
    with opened.container as c:
        n = sum(1 for p in c.demux() if p.size)
    assert not opened.guard.refusals
    return n, opened.guard


def _segments(requests: list[tuple[str, int]]) -> list[tuple[str, int]]:
    paths = [(p.split("?", 1)[0], code) for p, code in requests]
    return [(p, code) for p, code in paths if p.endswith(".ts")]


@pytest.mark.parametrize("path", ["/cdn/live.m3u8", "/watch", "/master.m3u8", "/real/token.m3u8"])
def test_redirected_and_extensionless_hls_play_every_segment(
    server: tuple[str, list[tuple[str, int]]], path: str
) -> None:
    base, requests = server
    n, guard = _packets(base + path)
    assert n > 20
    assert _segments(requests) == [(f"/real/ok{i}.ts", 200) for i in range(3)]
    # Segments were opened through the guard at the URL they really live at.
    opened = [u.split("?", 1)[0] for u in guard.opened[1:]]
    assert [u for u in opened if u.endswith(".ts")] == [f"{base}/real/ok{i}.ts" for i in range(3)]


def test_redirect_hop_of_a_segment_is_still_checked(
    server: tuple[str, list[tuple[str, int]]], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    base, _ = server
    with caplog.at_level(logging.WARNING), pytest.raises(UrlRefused, match=r"127\.0\.0\.2:9/seg\.ts: refused"):
        open_source(f"{base}/real/bounce.m3u8", _cfg())
    lines = [r.getMessage() for r in caplog.records if "127.0.0.2" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "Traceback" not in capfd.readouterr().err


def test_failed_nested_opens_log_one_line_each_and_no_traceback(
    server: tuple[str, list[tuple[str, int]]], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    base, requests = server
    with caplog.at_level(logging.WARNING), pytest.raises(TransientError, match="HTTP 404") as info:
        open_source(f"{base}/real/gone.m3u8", _cfg())
    assert "\n" not in str(info.value)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "exception being dropped" not in err
    failed = [r.getMessage() for r in caplog.records if "gone" in r.getMessage()]
    tried = [p for p, code in _segments(requests) if code == 404]
    assert tried and len(failed) == len(tried)
    assert all("\n" not in line and "HTTP 404" in line for line in failed)


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("file_first.m3u8", r"file:///etc/passwd: refused \(an HTTP playlist may only list http\(s\) URLs"),
        ("meta_last.m3u8", r"169\.254\.169\.254 is link-local"),
        ("enc.m3u8", r"encrypted HLS \(METHOD=AES-128\)"),
        ("noext.m3u8", r"/real/ok1: refused \(segment extension '\(none\)' is not one FFmpeg's HLS demuxer accepts"),
    ],
)
def test_playlist_with_forbidden_entry_is_refused_not_retried(
    server: tuple[str, list[tuple[str, int]]], name: str, rule: str
) -> None:
    base, requests = server
    src = LiveSource(f"{base}/real/{name}", "s1", _cfg(give_up_after_s=60))
    t0 = time.monotonic()
    with pytest.raises(UrlRefused, match=rule) as info:
        next(iter(src))
    assert time.monotonic() - t0 < 5 and src.stats.failed_attempts == 0
    assert info.value.rule
    assert _segments(requests) == []  # refused before FFmpeg opened any entry


def test_playlist_rewrite_only_when_redirected() -> None:
    io = FFmpegIO(UrlGuard(UrlGuardConfig(allow_networks=("127.0.0.1/32",))))
    body = b'#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:1,\nseg0.m4s\r\n#EXTINF:1,\n/abs/seg1.m4s\n'
    assert io.check_playlist("http://127.0.0.1/a/x.m3u8", "http://127.0.0.1/a/x.m3u8", body) == body
    moved = io.check_playlist("http://127.0.0.1/a/x", "http://127.0.0.1/b/c/x.m3u8", body).decode()
    assert 'URI="http://127.0.0.1/b/c/init.mp4"' in moved
    assert "\nhttp://127.0.0.1/b/c/seg0.m4s\r\n" in moved and "\nhttp://127.0.0.1/abs/seg1.m4s\n" in moved


class _Breaks:
    def __init__(self) -> None:
        self.calls = 0

    def read(self, n: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise TimeoutError("timed out")
        return b"0123456789"

    def close(self) -> None:
        pass


def test_stream_read_error_ends_the_body_with_one_line(caplog: pytest.LogCaptureFixture) -> None:
    guard = UrlGuard(UrlGuardConfig(allow_networks=("127.0.0.1/32",)))
    io = FFmpegIO(guard)
    guard.io_open = lambda url, flags, options: _Breaks()  # type: ignore[assignment,method-assign,return-value]
    with caplog.at_level(logging.WARNING):
        assert io.prepare("http://127.0.0.1/live.flv") is False
        body = io("http://127.0.0.1/live.flv", 1, {})
        got = [body.read(4), body.read(100), body.read(100), body.read(100)]
    assert got == [b"0123", b"456789", b"", b""]
    assert io.read_errors == ["http://127.0.0.1/live.flv: read failed (TimeoutError: timed out)"]
    assert [r.getMessage() for r in caplog.records] == io.read_errors
