"""A real nginx-rtmp origin whose on_publish/on_publish_done call the pool's control API, and a
uvicorn server running that API in a thread. Reuses tests/live/conftest.py's helpers."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

_LIVE_CONFTEST = Path(__file__).parents[1] / "live" / "conftest.py"
_spec = importlib.util.spec_from_file_location("live_origin_conftest", _LIVE_CONFTEST)
assert _spec is not None and _spec.loader is not None
live_conftest: Any = sys.modules.get(_spec.name) or importlib.util.module_from_spec(_spec)
if _spec.name not in sys.modules:
    sys.modules[_spec.name] = live_conftest
    _spec.loader.exec_module(live_conftest)
free_port = live_conftest._free_port
Broadcaster = live_conftest.Broadcaster

HOOKED_CONF = """\
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
            on_publish http://127.0.0.1:{api_port}/hooks/nginx/on_publish;
            on_publish_done http://127.0.0.1:{api_port}/hooks/nginx/on_publish_done;
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
def hooked_origin(root: Path, api_port: int | None) -> Iterator[Origin]:
    """nginx-rtmp with publish hooks to ``api_port`` (None: no hooks); fails (never skips) without
    nginx-rtmp."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    module = next(p for p in live_conftest.RTMP_MODULE_PATHS if p.exists())
    origin = Origin(free_port(), free_port(), root)
    conf = root / "nginx.conf"
    text = HOOKED_CONF.format(module=module, root=root, rtmp_port=origin.rtmp_port, http_port=origin.http_port,
                              api_port=api_port or 0)
    if api_port is None:
        text = "\n".join(line for line in text.splitlines() if "on_publish" not in line)
    conf.write_text(text)
    log = (root / "stdout.log").open("wb")
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(root), "-e", str(root / "error.log")], stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    try:
        live_conftest._wait_port(origin.rtmp_port, proc)
        yield origin
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def serving(app: Any, port: int) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread on 127.0.0.1:port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        th.join(10)
