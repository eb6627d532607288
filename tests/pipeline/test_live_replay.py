"""One replay index for every stream of a LocalPool: a stream re-showing another's earlier footage."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from fakes import FakeClients

from moderation.config import PipelineConfig
from moderation.messages import Verdict
from moderation.pipeline.pool import LocalPool
from moderation.pipeline.sinks import CallbackSink
from moderation.pipeline.status import StreamSpec
from moderation.samplegen.writer import write_video

CFG = PipelineConfig.model_validate(
    {
        "vision": {"enabled": False},
        "ocr": {"enabled": False},
        "asr": {"enabled": False},
        "qr": {"enabled": False},
        "synthetic": {"enabled": False},
        "replay_index": {"enabled": True, "min_run": 4},
        "live": {"allow_files": True, "realtime_files": False},
    }
)


def _scenes(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.kron(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), np.ones((20, 20, 1), np.uint8)) for _ in range(n)]


def _write(path: Path, pictures: list[np.ndarray]) -> Path:
    fps, each = 5, 2.0
    per = round(each * fps)
    frame = lambda i, t: pictures[min(i // per, len(pictures) - 1)]  # noqa: E731
    return write_video(path, frame, each * len(pictures), None, fps=fps, width=160, height=120, gop_s=1.0)


def test_a_stream_replaying_an_earlier_streams_footage_names_it(tmp_path: Path) -> None:
    original = _scenes(1, 12)
    first = _write(tmp_path / "first.mp4", original)
    second = _write(tmp_path / "second.mp4", _scenes(2, 3) + original[2:10])
    got: list[Verdict] = []

    async def run() -> None:
        pool = LocalPool(CFG, FakeClients(), [CallbackSink(got.append)])
        await pool.add(StreamSpec.from_url(str(first)))
        await pool.wait_all()  # the first stream is over; its fingerprints stay in the pool's index
        await pool.add(StreamSpec.from_url(str(second)))
        await pool.wait_all()
        p1, p2 = pool.pipeline("first"), pool.pipeline("second")
        assert p1 is not None and p2 is not None and p1.engines.replay_index is p2.engines.replay_index
        await pool.close()

    asyncio.run(run())
    assert [(v.stream, v.category) for v in got] == [("second", "synthetic_unlabeled")]
    (v,) = got
    assert {s.kind for s in v.signals} == {"synthetic.replay"}
    assert v.signals[0].label is not None and v.signals[0].label.startswith("source=first@")
