"""The two sides of the live tests: a real nginx-rtmp origin (optionally calling publish hooks)
and ffmpeg pushing a looped clip to it. Shared by tests/live and tests/live_pool."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RTMP_MODULE_PATHS = (
    Path("/usr/lib/nginx/modules/ngx_rtmp_module.so"),
    Path("/usr/share/nginx/modules/ngx_rtmp_module.so"),
)

# Minimal on purpose: `live on` for RTMP, optional publish hooks, and an HTTP server with
# `rtmp_control` (enforcement tests drop publishers through it).
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
            live on;{hooks}
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

HOOKS = """
            on_publish http://127.0.0.1:{api_port}/hooks/nginx/on_publish;
            on_publish_done http://127.0.0.1:{api_port}/hooks/nginx/on_publish_done;"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port}")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def rtmp_module() -> Path | None:
    return next((p for p in RTMP_MODULE_PATHS if p.exists()), None)


@dataclass
class Origin:
    rtmp_port: int
    http_port: int
    root: Path

    def url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{key}"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/control"


@contextmanager
def run_origin(root: Path, api_port: int | None = None) -> Iterator[Origin]:
    """nginx-rtmp on free loopback ports, with publish hooks to ``api_port`` (None: no hooks).
    Raises (never skips) when nginx or the RTMP module is missing."""
    nginx, module = nginx_binary(), rtmp_module()
    if nginx is None or module is None:
        raise RuntimeError("nginx and libnginx-mod-rtmp are needed (scripts/setup.sh installs them)")
    origin = Origin(free_port(), free_port(), root)
    hooks = HOOKS.format(api_port=api_port) if api_port is not None else ""
    conf = root / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(module=module, root=root, rtmp_port=origin.rtmp_port, http_port=origin.http_port, hooks=hooks)
    )
    log = (root / "stdout.log").open("wb")
    proc = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(root), "-e", str(root / "error.log")], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_port(origin.rtmp_port, proc)
        yield origin
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class Broadcaster:
    """``ffmpeg -re -stream_loop -1 -i clip -c copy -f flv rtmp://...`` that tests kill and restart."""

    def __init__(self, clip: Path, url: str) -> None:
        self.clip = clip
        self.url = url
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Broadcaster:
        cmd = [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-re",
            "-stream_loop",
            "-1",
            "-i",
            str(self.clip),
            "-c",
            "copy",
            "-f",
            "flv",
            self.url,
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
