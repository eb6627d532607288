"""End to end in a real browser: Debian's Chromium, headless, driven by Playwright.

Log in with a token, open the first item, check the MP4 clip really loads and plays, press the
confirm shortcut, and see the item leave the queue and appear in the audit log.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_factories import make_evidence, verdict

from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.settings import ReviewSettings
from moderation.review.store import Filters, ReviewStore

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, ReviewStore]]:
    import uvicorn

    settings = ReviewSettings(queue_url=f"sqlite:///{tmp_path / 'q.db'}", port=_port(), default_lang="en")
    store = ReviewStore.open(settings)
    scan = tmp_path / "scan"
    for i, (sev, start) in enumerate([("high", 12.0), ("medium", 40.0)]):
        clip, thumbs = make_evidence(scan, f"s1/{i:06d}", seconds=2.0)
        store.upsert_verdict(verdict(severity=sev, start=start, clip=clip, thumbnails=thumbs), bases=[scan])
    token = Auth(store.engine).ensure_admin()
    assert token
    srv = uvicorn.Server(
        uvicorn.Config(create_app(settings, store=store), host="127.0.0.1", port=settings.port, log_level="warning")
    )
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{settings.port}", token, store
    srv.should_exit = True
    th.join(10)


def test_review_an_item_in_chromium(server: tuple[str, str, ReviewStore]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    base, token, store = server
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/")
            assert "/login" in page.url
            page.fill("#token", token)
            page.click("#login")
            page.wait_for_selector("table#queue")

            first = page.locator("#queue a.item-link").first
            item_id = int(first.inner_text())
            assert store.get(item_id).severity == "high"  # severity first
            first.click()
            page.wait_for_selector("video#clip")
            page.wait_for_function(
                "() => { const v = document.getElementById('clip'); return v && v.readyState >= 1"
                " && Number.isFinite(v.duration) && v.duration > 0; }",
                timeout=20_000,
            )
            duration = page.evaluate("() => document.getElementById('clip').duration")
            assert 1.5 < duration < 3.0
            page.evaluate("() => { const v = document.getElementById('clip'); v.muted = true; return v.play(); }")
            page.wait_for_function("() => document.getElementById('clip').currentTime > 0.2", timeout=20_000)
            assert page.locator("mark", has_text="百家乐").count() >= 1
            page.wait_for_function("() => document.querySelectorAll('figure.thumb svg rect').length > 0")

            page.locator("body").click(position={"x": 5, "y": 5})  # focus the page, not the video controls
            with page.expect_navigation():
                page.keyboard.press("c")
            assert f"Item #{item_id}: confirm recorded" in page.inner_text(".flash")
            assert store.get(item_id).status == "confirmed"

            page.goto(f"{base}/")
            assert page.locator(f'#queue tr[data-id="{item_id}"]').count() == 0
            assert store.count(Filters()) == 1
            page.goto(f"{base}/audit")
            row = page.locator("#audit tbody tr").filter(has_text=f"#{item_id}").filter(has_text="confirm").first
            assert "admin" in row.inner_text()
            assert not errors, errors
        finally:
            browser.close()
