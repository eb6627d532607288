"""A real nginx-rtmp origin on a free loopback port, and ffmpeg as the broadcaster (DESIGN.md §6).

Skipped only when Debian ``nginx`` / ``libnginx-mod-rtmp`` / ``ffmpeg`` are not installed
(scripts/setup.sh installs them). The config is minimal on purpose: ``live on`` for RTMP, and an
HTTP server with ``rtmp_control`` (used by enforcement tests to drop publishers) whose port is
exposed as ``RtmpServer.http_port``.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from media_factory import make_clip
from rtmp_origin import Broadcaster

RTMP_MODULE_PATHS = (
    Path("/usr/lib/nginx/modules/ngx_rtmp_module.so"),
    Path("/usr/share/nginx/modules/ngx_rtmp_module.so"),
)

NGINX_CONF = """\
load_module {module};
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 128; }}
rtmp {{
    server {{
        listen 127.0.0.1:{rtmp_port};
        application live {{
            live on;
        }}
    }}
}}
http {{
    access_log off;
    client_body_temp_path {root}/tmp_body;
    proxy_temp_path {root}/tmp_proxy;
    fastcgi_temp_path {root}/tmp_fastcgi;
    uwsgi_temp_path {root}/tmp_uwsgi;
    scgi_temp_path {root}/tmp_scgi;
    server {{
        listen 127.0.0.1:{http_port};
        location /control {{ rtmp_control all; }}
    }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port}")


@dataclass
class RtmpServer:
    rtmp_port: int
    http_port: int
    root: Path

    def url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{key}"


@pytest.fixture(scope="session")
def rtmp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtmpServer]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    module = next((p for p in RTMP_MODULE_PATHS if p.exists()), None)
    if nginx is None or module is None or shutil.which("ffmpeg") is None:
        pytest.skip("live tests need Debian nginx, libnginx-mod-rtmp and ffmpeg")
    root = tmp_path_factory.mktemp("nginx")
    server = RtmpServer(_free_port(), _free_port(), root)
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(module=module, root=root, rtmp_port=server.rtmp_port, http_port=server.http_port))
    log = (root / "stdout.log").open("wb")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(root), "-e", str(root / "error.log")], stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait_port(server.rtmp_port, proc)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def broadcast_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s H.264/AAC loop (keyframe every 0.5 s) the broadcaster repeats."""
    return make_clip(tmp_path_factory.mktemp("live_media") / "loop.mp4", seconds=2.0, gop_s=0.5, audio_rate=44100)


@pytest.fixture
def broadcaster(rtmp_server: RtmpServer, broadcast_clip: Path, request: pytest.FixtureRequest) -> Iterator[Broadcaster]:
    b = Broadcaster(broadcast_clip, rtmp_server.url(request.node.name.replace("[", "_").replace("]", "")))
    try:
        yield b
    finally:
        b.kill()
