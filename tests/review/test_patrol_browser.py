"""The patrol wall in Debian's Chromium (headless, Playwright): a tile per live stream with its
keyframe and alert, a second stream appearing by server-sent event without a reload, arrow keys
between tiles and Enter opening the stream's newest item; Chinese by default, English on request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_factories import free_port, make_evidence, serve, verdict

from moderation.config import PatrolConfig
from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


def live(stream: str, vid: str, **over: Any) -> dict[str, Any]:
    return verdict(stream=stream, violation_id=vid, provisional=True, **over)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    settings = ReviewSettings(
        queue_url=f"sqlite:///{tmp_path / 'q.db'}", patrol=PatrolConfig(refresh_s=1.0, check_s=0.2)
    )
    store = ReviewStore.open(settings)
    scan = tmp_path / "scan"
    _clip, thumbs = make_evidence(scan, "s1/live", seconds=1.0)
    first = store.upsert_verdict(live("s1", "s1#1", start=8.0, end=9.0, thumbnails=thumbs), bases=[scan]).item_id
    token = Auth(store.engine).ensure_admin()
    with serve(create_app(settings, store=store), free_port()) as base:
        yield {"base": base, "token": token, "store": store, "first": first}
    store.engine.dispose()


@pytest.fixture
def page(env: dict[str, Any]) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            pg = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.goto(f"{env['base']}/login")
            pg.fill("#token", env["token"])
            pg.click("#login")
            pg.wait_for_selector("#filters")
            yield pg
            assert not errors, errors
        finally:
            browser.close()


def test_wall_shows_streams_live_and_opens_the_newest_item(env: dict[str, Any], page: Any) -> None:
    page.click("#nav-patrol")  # the wall is in the navigation
    page.wait_for_selector('.tile[data-stream="s1"]', timeout=15_000)
    s1 = page.locator('.tile[data-stream="s1"]')
    assert "赌博" in s1.inner_text() and "高" in s1.inner_text()  # category and severity in Chinese
    page.wait_for_function(
        "() => { const i = document.querySelector('.tile[data-stream=\"s1\"] img'); return i && i.naturalWidth > 0; }",
        timeout=15_000,
    )
    page.evaluate("window.__sameDocument = true")

    # A second live stream is written to the store: its tile appears without a reload.
    store = env["store"]
    newest = store.upsert_verdict(live("s2", "s2#1", start=3.0, end=4.0, category="vulgar", severity="critical"))
    page.wait_for_selector('.tile[data-stream="s2"]', timeout=15_000)
    assert page.evaluate("window.__sameDocument === true")
    assert page.locator(".tile").count() == 2
    assert page.locator(".tile").first.get_attribute("data-stream") == "s2"  # the critical alert first
    assert "低俗" in page.locator('.tile[data-stream="s2"]').inner_text()

    # Keyboard: the highlight stays on the stream it was on (s1) when tiles reorder; ← moves to s2,
    # → back to s1, ← again, and Enter opens s2's newest item.
    page.wait_for_selector('.tile.current[data-stream="s1"]')
    page.locator("h1").click()
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector('.tile.current[data-stream="s2"]')
    page.keyboard.press("ArrowRight")
    page.wait_for_selector('.tile.current[data-stream="s1"]')
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector('.tile.current[data-stream="s2"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/items/{newest.item_id}")


def test_wall_in_english(env: dict[str, Any], page: Any) -> None:
    page.goto(f"{env['base']}/patrol")
    page.click("#lang-en")
    page.wait_for_selector('.tile[data-stream="s1"]', timeout=15_000)
    assert page.get_attribute("html", "lang") == "en"
    text = page.locator('.tile[data-stream="s1"]').inner_text()
    assert "gambling" in text and "tier 0" in text
    assert "No pool configured" in page.inner_text("#patrol-status")
