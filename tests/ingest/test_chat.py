"""Chat feeds: JSONL from a file or a streamed HTTP endpoint; bad lines skipped, counted, logged."""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from moderation.config import ChatConfig
from moderation.errors import InputError
from moderation.ingest.chat import ChatStats, check_chat_source, iter_chat, parse_chat_line
from moderation.ingest.urlguard import UrlGuard, UrlGuardConfig
from moderation.messages import ChatMessage

GOOD = [{"t": 1.0, "user": "u1", "text": "hello"}, {"t": 2.5, "user": 42, "text": "百家乐 下注", "extra": 1}]


def test_parse_good_and_bad_lines() -> None:
    assert parse_chat_line(json.dumps(GOOD[1]), "s") == ChatMessage("s", 2.5, "42", "百家乐 下注")
    assert parse_chat_line('{"t": 0, "text": "x"}', "s") == ChatMessage("s", 0.0, "", "x")
    bad = {
        "not json": "not JSON",
        "[1, 2]": "not a JSON object",
        '{"text": "x"}': "'t'",
        '{"t": -1, "text": "x"}': "'t'",
        '{"t": "3", "text": "x"}': "'t'",
        '{"t": true, "text": "x"}': "'t'",
        '{"t": NaN, "text": "x"}': "'t'",
        '{"t": 1, "text": 5}': "'text'",
        '{"t": 1, "text": "x", "user": {"a": 1}}': "'user'",
        b"\xff\xfe{": "not JSON",
    }
    for line, reason in bad.items():
        out = parse_chat_line(line, "s")
        assert isinstance(out, str) and reason in out, (line, out)


def test_wall_clock_stamps_need_a_live_mapping() -> None:
    """``ts`` (Unix seconds, what a live chat service knows) is mapped onto media time; offline it
    is refused with a reason, and a message sent before the stream had media is skipped."""
    to_media = lambda ts: None if ts < 1000.0 else ts - 1000.0  # noqa: E731
    got = parse_chat_line('{"ts": 1012.5, "user": "u", "text": "x"}', "s", to_media)
    assert got == ChatMessage("s", 12.5, "u", "x")
    assert parse_chat_line('{"t": 3, "ts": 1012.5, "text": "x"}', "s", to_media) == ChatMessage("s", 3.0, "", "x")
    for line, mapping, reason in [
        ('{"ts": 1012.5, "text": "x"}', None, "needs a live stream"),
        ('{"ts": 999, "text": "x"}', to_media, "before the stream's first frame"),
        ('{"ts": "soon", "text": "x"}', to_media, "'ts'"),
        ('{"ts": -5, "text": "x"}', to_media, "'ts'"),
    ]:
        out = parse_chat_line(line, "s", mapping)
        assert isinstance(out, str) and reason in out, (line, out)


def test_file_with_bad_lines_is_read_and_bad_lines_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    p = tmp_path / "chat.jsonl"
    lines = [
        json.dumps(GOOD[0]),
        "garbage {",
        "",
        "   ",
        json.dumps(GOOD[1], ensure_ascii=False),
        '{"t": 3}',
        "x" * 300,
        '{"t": 4, "user": "u3", "text": "last, no newline"}',
    ]
    p.write_text("\n".join(lines), encoding="utf-8")
    stats = ChatStats()
    with caplog.at_level(logging.WARNING, logger="moderation.ingest.chat"):
        msgs = list(iter_chat(str(p), "s", ChatConfig(max_line_bytes=200), stats=stats))
    assert [m.t for m in msgs] == [1.0, 2.5, 4.0]
    assert (stats.lines, stats.messages, stats.bad) == (6, 3, 3)
    assert "line 2 skipped: not JSON" in caplog.text and "line 7 skipped: line longer than 200" in caplog.text
    assert "3 of 6 lines skipped" in caplog.text
    assert list(iter_chat(p.as_uri(), "s")) != []  # file: URL


def test_bad_line_logging_is_capped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    p = tmp_path / "chat.jsonl"
    p.write_text("bad\n" * 50 + json.dumps(GOOD[0]) + "\n")
    stats = ChatStats()
    with caplog.at_level(logging.WARNING, logger="moderation.ingest.chat"):
        assert len(list(iter_chat(str(p), "s", ChatConfig(max_bad_lines_logged=3), stats=stats))) == 1
    assert stats.bad == 50
    assert caplog.text.count("skipped: not JSON") == 3


def test_missing_file_and_refused_url_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        check_chat_source(str(tmp_path / "nope.jsonl"))
    with pytest.raises(InputError, match="refused"):
        check_chat_source("http://127.0.0.1:9/chat")  # loopback is not a public destination
    with pytest.raises(InputError, match="scheme 'ftp' not allowed"):
        list(iter_chat("ftp://example.com/chat", "s"))


@pytest.fixture()
def chat_server() -> Iterator[str]:
    """A local endpoint that streams JSONL lines in chunks (chunked transfer, flushed as it goes)."""
    body = [
        json.dumps(GOOD[0]) + "\n",
        "{broken\n",
        json.dumps(GOOD[1], ensure_ascii=False)[:20],
        json.dumps(GOOD[1], ensure_ascii=False)[20:] + "\n",
    ]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in body:
                data = part.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_http_feed_streams_lines_through_the_guard(chat_server: str) -> None:
    guard = UrlGuard(UrlGuardConfig(allowed_schemes=("http",), allow_networks=("127.0.0.0/8",)))
    stats = ChatStats()
    msgs = list(iter_chat(f"{chat_server}/chat", "s", stats=stats, guard=guard))
    assert [m.text for m in msgs] == ["hello", "百家乐 下注"]
    assert stats.bad == 1 and guard.opened == [f"{chat_server}/chat"]
    with pytest.raises(InputError, match="refused"):  # a redirect to cloud metadata is re-checked
        list(iter_chat(f"{chat_server}/redirect", "s", guard=guard))
