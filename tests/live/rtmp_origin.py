"""The broadcaster side of the live tests: ffmpeg pushing a looped clip to nginx-rtmp."""

from __future__ import annotations

import subprocess
from pathlib import Path


class Broadcaster:
    """``ffmpeg -re -stream_loop -1 -i clip -c copy -f flv rtmp://...`` that tests kill and restart."""

    def __init__(self, clip: Path, url: str) -> None:
        self.clip = clip
        self.url = url
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Broadcaster:
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(self.clip),
               "-c", "copy", "-f", "flv", self.url]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
