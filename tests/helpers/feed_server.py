"""A live JSONL feed (chat or gifts) over chunked HTTP on loopback, for the follower tests.

It sends keep-alive blank lines and, ``send_after`` s after the first request, the lines
``payload()`` makes (stamped with the send time by the caller's function); a re-opened feed only
keeps alive. Each response stays open for ``open_for`` s, then ends, so followers re-open it.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable


class FeedServer:
    def __init__(self, payload: Callable[[], str], send_after: float, open_for: float) -> None:
        self.requests: list[str] = []
        self.first: float | None = None
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.requests.append(self.path)
                outer.first = outer.first or time.time()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                sent = len(outer.requests) > 1  # a re-opened feed only keeps alive
                end = time.time() + open_for
                while time.time() < end:
                    lines = "\n"
                    if not sent and time.time() >= outer.first + send_after:
                        lines = payload()
                        sent = True
                    data = lines.encode()
                    try:
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.2)
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, *args: object) -> None:
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"

    def __enter__(self) -> FeedServer:
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.srv.shutdown()
        self.srv.server_close()
