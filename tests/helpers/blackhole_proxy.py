"""A loopback TCP proxy that can turn into a black hole, for tests of a stream whose reconnect hangs.

Until :meth:`BlackholeProxy.drop`, each connection is forwarded to the target (an RTMP origin, an
HTTP server). ``drop`` closes the forwarded connections (the client sees its connection end) and from
then on every new connection is accepted and held open without a byte in either direction, as a
half-dead origin or a black-holed route does: the client's open blocks until its own timeout.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class BlackholeProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self._srv = socket.create_server((host, 0))
        self.port = int(self._srv.getsockname()[1])
        self._lock = threading.Lock()
        self._forwarded: list[socket.socket] = []
        #: Connections accepted after drop(): held, never answered.
        self.held: list[socket.socket] = []
        self._dropped = False
        self._closed = False

    def url(self, rtmp_url: str) -> str:
        """``rtmp_url`` (pointing at the target) pointing at this proxy instead."""
        return rtmp_url.replace(f":{self.target[1]}/", f":{self.port}/", 1)

    def __enter__(self) -> BlackholeProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self._srv.close()
        with self._lock:
            for s in self._forwarded + self.held:
                with contextlib.suppress(OSError):
                    s.close()

    def drop(self) -> None:
        """End every forwarded connection; hold every later one without answering."""
        with self._lock:
            self._dropped = True
            for s in self._forwarded:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._srv.accept()
            except OSError:
                return
            with self._lock:
                if self._dropped:
                    self.held.append(client)
                    continue
                upstream = socket.create_connection(self.target)
                self._forwarded += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
