"""A real nginx-rtmp origin on a free loopback port, and ffmpeg as the broadcaster (DESIGN.md §6).

Skipped only when Debian ``nginx`` / ``libnginx-mod-rtmp`` / ``ffmpeg`` are not installed
(scripts/setup.sh installs them; under the test command a skip counts as a failure). The origin
itself is :func:`rtmp_origin.run_origin`, shared with tests/live_pool.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from media_factory import make_clip
from rtmp_origin import Broadcaster, Origin, nginx_binary, rtmp_module, run_origin

RtmpServer = Origin  # the name the live tests know it by


@pytest.fixture(scope="session")
def rtmp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Origin]:
    if nginx_binary() is None or rtmp_module() is None or shutil.which("ffmpeg") is None:
        pytest.skip("live tests need Debian nginx, libnginx-mod-rtmp and ffmpeg")
    with run_origin(tmp_path_factory.mktemp("nginx")) as origin:
        yield origin


@pytest.fixture(scope="session")
def broadcast_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s H.264/AAC loop (keyframe every 0.5 s) the broadcaster repeats."""
    return make_clip(tmp_path_factory.mktemp("live_media") / "loop.mp4", seconds=2.0, gop_s=0.5, audio_rate=44100)


@pytest.fixture
def broadcaster(rtmp_server: Origin, broadcast_clip: Path, request: pytest.FixtureRequest) -> Iterator[Broadcaster]:
    b = Broadcaster(broadcast_clip, rtmp_server.url(request.node.name.replace("[", "_").replace("]", "")))
    try:
        yield b
    finally:
        b.kill()
