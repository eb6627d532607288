"""Screenshots of the review UI for the README, taken from the real app in Debian's Chromium.

Seeds a throwaway queue with verdicts shaped like the demo's report (a casino QR code, a caption
with an evasion variant, a spoken keyword, a chat lure, a tipping push; clips and thumbnails
rendered here with PyAV/Pillow) and three live streams with open (provisional) alerts, serves the
app, logs in and saves ``queue.png``, ``grid.png``, ``item.png`` (Chinese UI, the default),
``patrol.png`` (the patrol wall) and ``item-en.png`` beside this file.

    .venv/bin/python docs/review/make_screenshots.py
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from moderation.review.api import create_app  # noqa: E402
from moderation.review.auth import Auth  # noqa: E402
from moderation.review.settings import ReviewSettings  # noqa: E402
from moderation.review.store import ReviewStore  # noqa: E402

OUT = Path(__file__).parent
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
W, H = 640, 360


def scene(caption: str, colour: tuple[int, int, int], qr: bool, t: float) -> Image.Image:
    img = Image.new("RGB", (W, H), colour)
    d = ImageDraw.Draw(img)
    d.ellipse((250 + 20 * np.sin(t), 60, 390 + 20 * np.sin(t), 200), fill=(230, 190, 160))  # the streamer
    d.rectangle((230, 200, 410, 360), fill=(60, 60, 90))
    if caption:
        font = ImageFont.truetype(FONT, 30)
        d.rectangle((0, 290, W, 340), fill=(0, 0, 0))
        d.text((20, 294), caption, font=font, fill=(255, 230, 0))
    if qr:
        rng = np.random.default_rng(3)
        cells = rng.integers(0, 2, (21, 21))
        for (y, x), v in np.ndenumerate(cells):
            c = 0 if v else 255
            d.rectangle((480 + x * 6, 40 + y * 6, 485 + x * 6, 45 + y * 6), fill=(c, c, c))
    return img


def media(root: Path, name: str, caption: str, colour: tuple[int, int, int], qr: bool) -> tuple[str, list[str]]:
    clip, thumb = root / f"{name}.mp4", root / f"{name}.jpg"
    clip.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(clip), "w", options={"movflags": "+faststart"}) as out:
        v = out.add_stream("libx264", rate=10)
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        for i in range(60):
            frame = av.VideoFrame.from_ndarray(np.asarray(scene(caption if i >= 30 else "", colour, qr, i / 10)))
            for pkt in v.encode(frame):
                out.mux(pkt)
        for pkt in v.encode(None):
            out.mux(pkt)
    scene(caption, colour, qr, 3.0).save(thumb, "JPEG", quality=85)
    return str(clip.relative_to(root)), [str(thumb.relative_to(root))]


def seed(store: ReviewStore, root: Path) -> int:
    def put(name: str, rec: dict, caption: str = "", colour=(40, 80, 120), qr=False) -> int:  # type: ignore[no-untyped-def]
        clip, thumbs = media(root, name, caption, colour, qr)
        rec = {"wallclock_start": None, "model_versions": {"ocr": "pp-ocrv5", "asr": "whisper-base"}, **rec}
        return store.upsert_verdict({**rec, "clip": clip, "thumbnails": thumbs}, bases=[root]).item_id

    qr_url = "https://vip-bjl888.example.com/reg?code=live"
    main = put(
        "sample/gambling",
        {
            "stream": "sample",
            "streamer": "主播小白",
            "category": "gambling",
            "severity": "high",
            "score": 0.98,
            "start": 23.0,
            "end": 33.0,
            "clip_start": 23.0,
            "signals": [
                {
                    "kind": "ocr.keyword",
                    "t": 26.0,
                    "score": 0.95,
                    "term": "百家乐",
                    "text": "百 家 乐在线下注返水",
                    "span": [0, 5],
                    "box": [0, 290, 640, 50],
                },
                {
                    "kind": "ocr.keyword",
                    "t": 28.0,
                    "score": 0.95,
                    "term": "百家乐",
                    "text": "百 家 乐在线下注返水",
                    "span": [0, 5],
                    "box": [0, 290, 640, 50],
                },
                {"kind": "qr.url", "t": 27.0, "score": 0.9, "url": qr_url, "box": [480, 40, 126, 126]},
                {
                    "kind": "asr.keyword",
                    "t": 29.5,
                    "score": 1.0,
                    "term": "下注",
                    "text": "扫码就能下注，新人有返水",
                    "lang": "zh",
                },
            ],
            "enforcement": [{"action": "cut", "t": 30.2, "ok": True}],
        },
        "百 家 乐在线下注返水",
        (30, 70, 60),
        True,
    )
    put(
        "sample/chat",
        {
            "stream": "sample",
            "streamer": "主播小白",
            "category": "gambling",
            "severity": "medium",
            "score": 0.8,
            "start": 12.0,
            "end": 14.0,
            "subject": "viewer",
            "signals": [
                {"kind": "chat.keyword", "t": 12.5, "term": "加微信", "text": "想玩的加微信 bjl888", "user": "游客8812"}
            ],
        },
    )
    put(
        "room2/tip",
        {
            "stream": "room2",
            "streamer": "阿飞",
            "category": "tipping_inducement",
            "severity": "medium",
            "score": 0.86,
            "start": 40.0,
            "end": 46.0,
            "signals": [{"kind": "asr.keyword", "t": 41.0, "term": "刷礼物", "text": "家人们刷礼物上榜，不刷不是真爱"}],
        },
        "刷火箭上榜！",
        (90, 40, 90),
    )
    put(
        "room3/vulgar",
        {
            "stream": "room3",
            "streamer": "Mia",
            "category": "vulgar",
            "severity": "critical",
            "score": 0.93,
            "start": 5.0,
            "end": 9.0,
            "signals": [
                {"kind": "vision.nsfw", "t": 6.0, "score": 0.93, "label": "exposure", "box": [200, 120, 240, 200]}
            ],
        },
        "",
        (120, 50, 50),
    )
    put(
        "room4/ai",
        {
            "stream": "room4",
            "streamer": "虚拟主播Q",
            "category": "synthetic_unlabeled",
            "severity": "low",
            "score": 0.62,
            "start": 70.0,
            "end": 80.0,
            "subject": "room",
            "signals": [{"kind": "vision.synthetic", "t": 72.0, "score": 0.62, "label": "face_swap"}],
        },
        "",
        (50, 90, 110),
    )
    put(
        "room5/minor",
        {
            "stream": "room5",
            "streamer": "小雨",
            "category": "minors",
            "severity": "high",
            "score": 0.88,
            "start": 15.0,
            "end": 21.0,
            "signals": [{"kind": "vision.minor", "t": 16.0, "score": 0.88, "label": "minor_face"}],
        },
        "",
        (70, 70, 70),
    )
    return main


def seed_live(store: ReviewStore, root: Path) -> None:
    """Open violations of three live streams, as the pool writes them (provisional, one per violation)."""
    live = [
        ("live-8801", "阿杰", "gambling", "high", "百家乐 现在下注", (30, 60, 40), True),
        ("live-3302", "Mia", "vulgar", "medium", "", (120, 60, 80), False),
        ("live-5120", "老王", "tipping_inducement", "medium", "刷火箭上榜一", (60, 60, 110), False),
    ]
    for i, (stream, streamer, category, severity, caption, colour, qr) in enumerate(live):
        _clip, thumbs = media(root, f"{stream}/live", caption, colour, qr)
        rec = {
            "stream": stream,
            "streamer": streamer,
            "category": category,
            "severity": severity,
            "score": 0.9,
            "start": 120.0 + 10 * i,
            "end": 124.0 + 10 * i,
            "violation_id": f"{stream}#1",
            "provisional": True,
            "signals": [{"kind": "ocr.keyword", "t": 121.0 + 10 * i, "score": 0.9, "term": caption or category}],
            "thumbnails": thumbs,
        }
        store.upsert_verdict(rec, bases=[root])


def main() -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="review-shots-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = ReviewSettings(queue_url=f"sqlite:///{tmp / 'q.db'}", port=port)
    store = ReviewStore.open(settings)
    main_id = seed(store, tmp / "scan")
    seed_live(store, tmp / "scan")
    token = Auth(store.engine).ensure_admin()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(settings, store=store), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1440, "height": 900}, color_scheme="light")
        page.goto(f"{base}/login")
        page.fill("#token", token or "")
        page.click("#login")
        page.wait_for_selector("#queue")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(OUT / "queue.png"))
        page.goto(f"{base}/?view=grid")
        page.wait_for_load_state("networkidle")
        page.locator(".count").click()
        for key in ("l", "x", "l", "x"):
            page.keyboard.press(key)
        page.screenshot(path=str(OUT / "grid.png"))
        page.goto(f"{base}/items/{main_id}")
        page.wait_for_function("() => document.getElementById('clip').readyState >= 2")
        page.wait_for_timeout(500)
        page.screenshot(path=str(OUT / "item.png"), full_page=True)
        page.goto(f"{base}/patrol")
        page.wait_for_selector(".tile", timeout=15_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / "patrol.png"))
        page.goto(f"{base}/items/{main_id}")
        page.click("#lang-en")
        page.wait_for_function("() => document.getElementById('clip').readyState >= 2")
        page.wait_for_timeout(500)
        page.screenshot(path=str(OUT / "item-en.png"), full_page=True)
        browser.close()
    srv.should_exit = True
    print("wrote", *(p.name for p in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
