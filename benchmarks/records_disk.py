"""Disk use of per-stream records per stream-hour (chat, gifts, the low-rate image record).

Why: ``--records`` keeps every stream's chat and gift logs and one JPEG every ``image_every_s``
for the retention period (60 days by default); operators need to size the disk. One hour of a
stream is simulated through the real :class:`moderation.evidence.records.RecordKeeper` with a
fake wall clock: generated 1280x720 frames (a moving gradient scene with shapes, a caption and
sensor-like noise, so JPEGs are neither trivially small nor random-noise large), a busy chat
(``--chat-rate`` messages a second of mixed Chinese/English text) and gifts (``--gift-rate``).
The bytes on disk are counted per kind and scaled to a 60-day retention per stream.

    python benchmarks/records_disk.py [--hours 1] [--image-every 10] [--max-side 640] [--chat-rate 5]

Writes ``benchmarks/results/records_disk.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moderation.config import RecordsConfig  # noqa: E402
from moderation.evidence.records import RecordKeeper  # noqa: E402
from moderation.messages import ChatMessage, GiftEvent, VideoFrame  # noqa: E402

_LINES = [
    "主播好美",
    "666",
    "哈哈哈哈",
    "这个怎么玩",
    "来了来了",
    "hello from Shanghai",
    "求BGM",
    "点赞点赞",
    "主播今天播多久",
]


def _frame(t: float, rng: np.random.Generator) -> np.ndarray:
    """A 720p BGR scene: gradient background that drifts, a moving block, a caption bar, noise."""
    h, w = 720, 1280
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = t / 30.0
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = 90 + 60 * np.sin(x / 200.0 + phase)
    img[..., 1] = 110 + 50 * np.cos(y / 150.0 - phase)
    img[..., 2] = 140 + 40 * np.sin((x + y) / 300.0 + 2 * phase)
    cx = int((t * 37) % (w - 300))
    img[200:500, cx : cx + 300] = (40, 160, 220)
    img[620:680, 100:1180] = (20, 20, 20)
    img[635:665, 130 + int(t) % 200 : 700] = (230, 230, 230)
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def measure(hours: float, image_every_s: float, max_side: int, chat_rate: float, gift_rate: float) -> dict[str, object]:
    rng = np.random.default_rng(0)
    rnd = random.Random(0)
    wall0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC).timestamp()
    now = [wall0]
    cfg = RecordsConfig(image_every_s=image_every_s, max_side=max_side)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        keeper = RecordKeeper("bench/room", cfg, root=root, clock=lambda: now[0])
        seconds = int(hours * 3600)
        for s in range(seconds):
            now[0] = wall0 + s
            for i in range(rng.poisson(chat_rate) if chat_rate > 0 else 0):
                text = rnd.choice(_LINES) + ("!" * rnd.randint(0, 3))
                keeper.chat(ChatMessage("bench/room", s + i / 10, f"user{rnd.randint(1, 5000)}", text))
            if rnd.random() < gift_rate:
                keeper.gift(GiftEvent("bench/room", float(s), f"user{rnd.randint(1, 5000)}", "rose", 1.0, "coin", 0.1))
            if s % max(1, int(image_every_s)) == 0:
                keeper.frame(VideoFrame("bench/room", float(s), _frame(float(s), rng)))
        keeper.close()
        per_kind = {"chat": 0, "gifts": 0, "images": 0}
        files = 0
        for p in root.rglob("*"):
            if p.is_file():
                files += 1
                kind = {"chat": "chat", "gifts": "gifts", "img": "images"}[p.name.split("-")[0]]
                per_kind[kind] += p.stat().st_size
    per_hour = {k: v / hours for k, v in per_kind.items()}
    total = sum(per_hour.values())
    return {
        "hours": hours,
        "image_every_s": image_every_s,
        "max_side": max_side,
        "jpeg_quality": cfg.jpeg_quality,
        "chat_per_s": chat_rate,
        "gifts_per_s": gift_rate,
        "files": files,
        "mb_per_stream_hour": {k: round(v / 1e6, 2) for k, v in per_hour.items()} | {"total": round(total / 1e6, 2)},
        "gb_per_stream_60_days_24h": round(total * 24 * 60 / 1e9, 1),
        "images_per_hour": round(3600 / image_every_s),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--image-every", type=float, default=RecordsConfig().image_every_s)
    ap.add_argument("--max-side", type=int, default=RecordsConfig().max_side)
    ap.add_argument("--chat-rate", type=float, default=5.0, help="chat messages per second (a busy room)")
    ap.add_argument("--gift-rate", type=float, default=0.2, help="gifts per second")
    ap.add_argument("--smoke", action="store_true", help="6 simulated minutes, for a quick check")
    args = ap.parse_args()
    res = measure(0.1 if args.smoke else args.hours, args.image_every, args.max_side, args.chat_rate, args.gift_rate)
    print(json.dumps(res, indent=2))
    if not args.smoke:
        out = ROOT / "benchmarks" / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / "records_disk.json").write_text(json.dumps(res, indent=2) + "\n")
        mb = res["mb_per_stream_hour"]
        assert isinstance(mb, dict)
        md = [
            "# Records disk use per stream-hour",
            "",
            f"720p frames, one JPEG every {res['image_every_s']} s (longer side {res['max_side']} px, "
            f"quality {res['jpeg_quality']}), {res['chat_per_s']} chat messages/s, {res['gifts_per_s']} gifts/s.",
            "",
            "| kind | MB per stream-hour |",
            "|---|---|",
            *(f"| {k} | {v} |" for k, v in mb.items()),
            "",
            f"A stream live 24 h a day for the 60-day default retention: {res['gb_per_stream_60_days_24h']} GB.",
            "",
        ]
        (out / "records_disk.md").write_text("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
