"""The reviewer workbench in Debian's Chromium (headless, Playwright), in Chinese by default.

Keyboard-only batch decisions in the grid (including the reason a high item's dismissal needs),
the player opening at the first evidence with markers and speed control, the QR URL and a
variant's highlighted span of the original text, the zh/en switch with ``lang`` on the page,
claiming by POST (not by opening), and a stale page acting on an item someone else now holds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_factories import free_port, make_evidence, serve, verdict

from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--autoplay-policy=no-user-gesture-required",
]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")

#: The evidence item: a clip from media time 20 s, evidence from 23 s; an OCR variant "百 家 乐"
#: whose matcher span points into the original text, a casino QR code, a repeated caption.
QR_URL = "https://bet-888.example.com/reg?ref=live"
SIGNALS = [
    {"kind": "ocr.keyword", "t": 23.0, "score": 0.95, "term": "百家乐", "text": "今晚百 家 乐开局", "span": [2, 7]},
    {"kind": "qr.url", "t": 24.0, "score": 0.9, "url": QR_URL, "box": [10, 10, 50, 50]},
    {"kind": "ocr.keyword", "t": 25.0, "score": 0.95, "term": "百家乐", "text": "今晚百 家 乐开局", "span": [2, 7]},
]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    settings = ReviewSettings(queue_url=f"sqlite:///{tmp_path / 'q.db'}", lease_s=2.0)
    store = ReviewStore.open(settings)
    scan = tmp_path / "scan"
    ids = {}
    clip, thumbs = make_evidence(scan, "s1/evidence", seconds=6.0)
    rec = verdict(start=22.0, end=27.0, clip=clip, thumbnails=thumbs, clip_start=20.0, signals=SIGNALS)
    ids["evidence"] = store.upsert_verdict(rec, bases=[scan]).item_id
    for i, sev in enumerate(("medium", "medium", "low")):
        clip, thumbs = make_evidence(scan, f"s2/{i}", seconds=1.0)
        rec = verdict(stream="s2", severity=sev, start=10.0 * i, clip=clip, thumbnails=thumbs)
        ids[f"other{i}"] = store.upsert_verdict(rec, bases=[scan]).item_id
    token = Auth(store.engine).ensure_admin()
    with serve(create_app(settings, store=store), free_port()) as base:
        yield {"base": base, "token": token, "store": store, "ids": ids}


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


def test_grid_keyboard_batch_confirm_and_dismiss_with_reason(env: dict[str, Any], page: Any) -> None:
    store, ids = env["store"], env["ids"]
    page.goto(f"{env['base']}/?view=grid")
    cards = page.locator("#grid .card")
    assert cards.count() == 4 and cards.first.get_attribute("data-id") == str(ids["evidence"])  # high first
    page.locator("h1, .count").first.click()  # focus the page
    for key in ("l", "x", "l", "x"):  # move right, select, move right, select
        page.keyboard.press(key)
    assert page.inner_text("#sel-count") == "2"
    with page.expect_navigation():
        page.keyboard.press("c")
    assert "完成 2 条" in page.inner_text(".flash")
    assert [store.get(ids[k]).status for k in ("other0", "other1")] == ["confirmed", "confirmed"]
    assert page.url.endswith("view=grid") or "view=grid" in page.url

    # The high item: dismissing it needs a reason; the page says so and sends nothing.
    page.locator(".count").click()
    page.keyboard.press("x")
    page.keyboard.press("d")
    assert page.locator("#bulk-error").is_visible()
    assert store.get(ids["evidence"]).status == "open"
    page.keyboard.type("牌局直播，未涉赌")  # focus is in the reason field now
    with page.expect_navigation():
        page.keyboard.press("Enter")
    item = store.get(ids["evidence"])
    assert (item.status, item.note) == ("dismissed", "牌局直播，未涉赌")


def test_item_opens_at_the_evidence_with_markers_speed_qr_and_spans(env: dict[str, Any], page: Any) -> None:
    store, item_id = env["store"], env["ids"]["evidence"]
    assert store.get(item_id).claimed_by is None
    page.goto(f"{env['base']}/items/{item_id}")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    page.wait_for_function(
        "() => { const v = document.getElementById('clip'); return v && v.readyState >= 1 && v.duration > 0; }",
        timeout=20_000,
    )
    # clip starts at media 20 s; the first evidence is at 23 s -> 3 s into the clip
    t = page.evaluate("() => document.getElementById('clip').currentTime")
    assert abs(t - 3.0) < 0.25, t
    assert page.locator("#markers .marker").count() == 3
    lefts = page.eval_on_selector_all("#markers .marker", "ms => ms.map(m => parseFloat(m.style.left))")
    assert lefts == sorted(lefts) and 45 < lefts[0] < 55  # 3 s of a 6 s clip
    page.locator("h1").click()
    page.keyboard.press("]")
    assert page.evaluate("() => document.getElementById('clip').playbackRate") == 1.5
    page.keyboard.press(".")  # next marker
    assert abs(page.evaluate("() => document.getElementById('clip').currentTime") - 4.0) < 0.25
    assert page.inner_text(".qr-url") == QR_URL and page.inner_text(".qr-domain") == "bet-888.example.com"
    marks = page.locator("#texts mark")
    assert marks.count() == 1 and marks.first.inner_text() == "百 家 乐"  # the variant, in the original text
    assert "×" in page.inner_text("#signals") and "23.0, 25.0" in page.inner_text("#signals")
    # claimed by the page's POST, not by the GET
    deadline = time.time() + 10
    while store.get(item_id).claimed_by != "admin" and time.time() < deadline:
        time.sleep(0.1)
    assert store.get(item_id).claimed_by == "admin"
    assert [e.action for e in store.audit_log(item_id=item_id)][:1] == ["claim"]


def test_language_switch(env: dict[str, Any], page: Any) -> None:
    assert page.get_attribute("html", "lang") == "zh-Hans" and "审核队列" in page.inner_text("header")
    # severity colours the badge only: rows keep the page's background, the badge is red
    paint = page.evaluate(
        """() => { const r = document.querySelector('#queue tr.row[data-sev="high"]'), s = getComputedStyle;
                   return [s(r).backgroundColor, s(r.querySelector('.sev')).backgroundColor,
                           r.querySelector('.trigger').textContent, !!r.querySelector('.qthumb img')]; }"""
    )
    assert paint[0] != "rgb(198, 40, 40)" and paint[1:] == ["rgb(198, 40, 40)", "百家乐", True]
    with page.expect_navigation():
        page.click("#lang-en")
    assert page.get_attribute("html", "lang") == "en" and "Review queue" in page.inner_text("header")
    assert "Severity" in page.inner_text("#filters")
    with page.expect_navigation():
        page.click("#lang-zh")
    assert page.get_attribute("html", "lang") == "zh-Hans" and "严重程度" in page.inner_text("#filters")


def test_stale_page_gets_a_clear_message_and_keeps_the_note(env: dict[str, Any], page: Any) -> None:
    store, item_id = env["store"], env["ids"]["other2"]
    page.goto(f"{env['base']}/items/{item_id}")
    page.fill("#note", "画面无违规")
    deadline = time.time() + 10
    while store.get(item_id).claimed_by != "admin" and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(2.2)  # the 2 s lease runs out while the page stays open ...
    store.claim(item_id, "bob")  # ... and bob takes the item
    page.locator("h1").click()
    with page.expect_navigation():
        page.keyboard.press("d")
    assert "bob" in page.inner_text("#error")
    assert page.input_value("#kept-note") == "画面无违规"
    assert store.get(item_id).status == "open" and store.get(item_id).claimed_by == "bob"
