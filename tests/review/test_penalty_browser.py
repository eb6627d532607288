"""In headless Chromium: confirm an item with a penalty chosen from the keyboard, then see the
penalty and its execution status on the item page once the pool reports back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from review_factories import free_port, serve, verdict

from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.governance import StoreGovernance
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


def test_confirm_with_a_penalty_from_the_keyboard(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    settings = ReviewSettings(queue_url=f"sqlite:///{tmp_path / 'q.db'}", port=free_port(), default_lang="en")
    store = ReviewStore.open(settings)
    item = store.upsert_verdict(verdict(streamer="alice")).item_id  # gambling, high: cut / ban / permanent_ban
    token = Auth(store.engine).ensure_admin()
    assert token
    with serve(create_app(settings, store=store), settings.port) as base, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/login")
            page.fill("#token", token)
            page.click("#login")
            page.goto(f"{base}/items/{item}")
            assert page.is_checked("#penalty-ban")  # the policy's default is pre-selected
            assert page.is_enabled("#ban-days") and page.input_value("#ban-days") == "7"
            page.select_option("#category", "vulgar")  # confirming as vulgar (high): warn / cut / ban
            names = page.eval_on_selector_all("#penalties input[name=penalty]", "rs => rs.map(r => r.value)")
            assert names == ["warn", "cut", "ban"] and page.is_checked("#penalty-cut")
            page.select_option("#category", "gambling")
            assert page.is_checked("#penalty-ban")
            page.locator("body").click(position={"x": 5, "y": 5})
            page.keyboard.press("1")  # the first allowed penalty: cut
            assert page.is_checked("#penalty-cut") and not page.is_checked("#penalty-ban")
            assert not page.is_enabled("#ban-days")  # a ban's length only with a ban
            page.keyboard.press("2")
            page.fill("#ban-days", "3")
            page.locator("body").click(position={"x": 5, "y": 5})
            with page.expect_navigation():
                page.keyboard.press("c")
            done = store.get(item)
            assert (done.status, done.penalty) == ("confirmed", "ban")
            ban = store.active_ban("alice")
            assert ban is not None and ban.until == pytest.approx(done.decided_at + 3 * 86400)  # type: ignore[operator]

            gov = StoreGovernance(store.engine, store.policy)
            [act] = gov.pending_actions()
            gov.finish_action(act.id, False, "origin refused", store.clock())
            page.goto(f"{base}/items/{item}")
            steps = page.inner_text("#penalty-steps")
            assert "banned until" in steps and "queued (1 failed attempts, last: origin refused)" in steps
            gov.finish_action(act.id, True, "", store.clock())
            page.reload()
            assert "done at" in page.inner_text("#penalty-steps")
            assert page.inner_text("#penalty-name") == "ban"
            assert not errors, errors
        finally:
            browser.close()
    store.engine.dispose()
