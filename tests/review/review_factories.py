"""Real evidence files for review tests: an H.264/AAC MP4 clip and a JPEG thumbnail."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image


def make_mp4(path: Path, seconds: float = 2.0, size: tuple[int, int] = (160, 120), fps: int = 15) -> Path:
    """A small browser-playable MP4 (H.264 yuv420p + AAC, index first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"preset": "ultrafast"}
        a = out.add_stream("aac", rate=44100)
        a.layout = "mono"
        for i in range(round(seconds * fps)):
            img = np.full((h, w, 3), (i * 7) % 255, np.uint8)
            img[:, : w // 2, 0] = 200
            for pkt in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        n = round(seconds * 44100)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / 44100)).astype(np.float32)
        for start in range(0, n, 1024):
            chunk = tone[start : start + 1024]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            frame.sample_rate = 44100
            frame.pts = start
            for pkt in a.encode(frame):
                out.mux(pkt)
        for stream in (v, a):
            for pkt in stream.encode(None):
                out.mux(pkt)
    return path


def make_jpeg(path: Path, size: tuple[int, int] = (160, 120)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (30, 90, 160)).save(path, "JPEG")
    return path


def make_evidence(root: Path, name: str, seconds: float = 2.0) -> tuple[str, list[str]]:
    """Clip and thumbnail under ``root`` with paths relative to it (as a scan report writes)."""
    clip = make_mp4(root / f"{name}.mp4", seconds)
    thumb = make_jpeg(root / f"{name}.jpg")
    return str(clip.relative_to(root)), [str(thumb.relative_to(root))]


class Clock:
    """A controllable clock for lease and retention tests."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def verdict(**over: Any) -> dict[str, Any]:
    """A §4.2 verdict record with sensible defaults."""
    rec: dict[str, Any] = {
        "stream": "s1",
        "category": "gambling",
        "severity": "high",
        "score": 0.97,
        "start": 12.0,
        "end": 18.5,
        "wallclock_start": "2026-11-22T08:00:12Z",
        "signals": [
            {
                "kind": "asr.keyword",
                "t": 13.2,
                "score": 1.0,
                "term": "百家乐",
                "text": "现在开始下注百家乐",
                "lang": "zh",
            },
            {
                "kind": "ocr.keyword",
                "t": 14.0,
                "score": 0.99,
                "term": "下注",
                "text": "立即下注",
                "box": [40, 30, 120, 40],
            },
        ],
        "clip": None,
        "thumbnails": [],
        "model_versions": {"asr": "whisper-base"},
    }
    rec.update(over)
    if "start" in over and "end" not in over:
        rec["end"] = rec["start"] + 6.5
    return rec


@contextmanager
def serve(app: Any, port: int) -> Iterator[str]:
    """Run ``app`` with uvicorn on a background thread; yields its base URL."""
    import uvicorn

    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        th.join(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
