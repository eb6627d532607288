"""The reviewer workbench without a browser: queue filters/sorts/paging, decisions with policy,
QA sample, provisional items, item-page evidence, the language switch, and refusals of bad input
(unknown filters, a stale page acting on an item someone else holds, a high item dismissed
without a reason) — with a message in the page and nothing lost. SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_factories import Clock, verdict

from moderation.review import item_view, qa
from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.queue_query import cursor_of
from moderation.review.settings import ReviewSettings
from moderation.review.store import Conflict, Filters, Invalid, ReviewStore


@dataclass
class Env:
    client: TestClient
    store: ReviewStore
    clock: Clock
    admin: dict[str, str]
    ann: dict[str, str]


@pytest.fixture
def env(queue_url: str, tmp_path: Path) -> Iterator[Env]:
    settings = ReviewSettings(queue_url=queue_url, media_dir=tmp_path / "media", qa_sample_rate=1.0)
    clock = Clock()
    store = ReviewStore.open(settings, clock=clock)
    auth = Auth(store.engine)
    auth.create_user("boss", "admin")
    auth.create_user("ann", "reviewer")
    auth.create_user("bob", "reviewer")
    with TestClient(create_app(settings, store=store), follow_redirects=False) as client:
        yield Env(
            client,
            store,
            clock,
            {"Authorization": f"Bearer {auth.create_token('boss')}"},
            {"Authorization": f"Bearer {auth.create_token('ann')}"},
        )
    store.engine.dispose()


def _login(env: Env, user: str = "ann") -> str:
    auth = Auth(env.store.engine)
    page = env.client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    env.client.post("/login", data={"csrf_token": found.group(1), "token": auth.create_token(user), "next": "/"})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', env.client.get("/").text)
    assert csrf
    return csrf.group(1)


def test_filters_sorts_and_keyset_pages(env: Env) -> None:
    s = env.store
    for i in range(7):
        env.clock.advance(10)
        s.upsert_verdict(verdict(start=float(i * 10), severity=("high", "low", "medium")[i % 3], subject=None))
    s.upsert_verdict(verdict(stream="s2", start=1.0, subject="viewer", severity="low"))
    assert s.count(Filters(subject="viewer")) == 1 and s.count(Filters(subject="streamer")) == 7
    assert {i.severity for i in s.list_items(Filters(severity="high"))} == {"high"}
    assert s.list_items(Filters(stream="s2"))[0].trigger_term == "百家乐"  # the strongest signal's term
    for sort in ("severity", "oldest", "newest", "tier", "score"):
        whole = [i.id for i in s.list_items(sort=sort)]
        paged, after = [], None
        while True:
            page = s.list_items(limit=3, sort=sort, after=after)
            paged += [i.id for i in page]
            if len(page) < 3:
                break
            after = cursor_of(page[-1], sort)
        assert paged == whole, sort
    newest = s.list_items(sort="newest")
    assert [i.created_at for i in newest] == sorted((i.created_at for i in newest), reverse=True)
    env.clock.advance(7200)
    s.upsert_verdict(verdict(start=500.0))
    assert s.count(Filters(age="1h")) == 1
    for bad in ({"severity": "urgent"}, {"subject": "cat"}, {"age": "3y"}, {"tier": 500}):
        with pytest.raises(Invalid, match=next(iter(bad))):
            Filters(**bad)  # type: ignore[arg-type]
    with pytest.raises(Invalid, match="cursor"):
        s.list_items(after="garbage!!", sort="oldest")
    with pytest.raises(Invalid, match="fit sort"):
        s.list_items(after=cursor_of(newest[0], "severity"), sort="oldest")


def test_unknown_filters_get_a_clear_message(env: Env) -> None:
    _login(env)
    r = env.client.get("/?colour=red")
    assert r.status_code == 422 and "unknown filter &#39;colour&#39;" in r.text and 'lang="zh-Hans"' in r.text
    r = env.client.get("/?severity=urgent")
    assert r.status_code == 422 and "unknown severity" in r.text
    r = env.client.get("/api/items?colour=red", headers=env.ann)
    assert r.status_code == 422 and "unknown filter 'colour'" in r.json()["detail"]
    r = env.client.get("/api/items?sort=loudest", headers=env.ann)
    assert r.status_code == 422 and "unknown sort" in r.json()["detail"]


def test_tier_follows_decisions_onto_open_items(env: Env) -> None:
    s = env.store
    a, b = (s.upsert_verdict(verdict(streamer="zed", start=t)).item_id for t in (1.0, 20.0))
    s.decide(a, "ann", "confirm")
    assert s.get(b).tier == 2 and s.count(Filters(tier=2)) == 1
    c = s.upsert_verdict(verdict(streamer="zed", start=40.0)).item_id
    assert s.get(c).tier == 2  # new items start at the streamer's tier
    assert [i.id for i in s.list_items(sort="tier")][:2] == [b, c]


def test_high_dismissal_needs_a_reason_and_the_page_keeps_the_note(env: Env) -> None:
    item = env.store.upsert_verdict(verdict(severity="high")).item_id
    low = env.store.upsert_verdict(verdict(severity="low", start=60.0)).item_id
    csrf = _login(env)
    r = env.client.post(f"/items/{item}/decide", data={"action": "dismiss", "note": "  ", "csrf_token": csrf})
    assert r.status_code == 422 and "needs a reason" in r.text and env.store.get(item).status == "open"
    res = env.store.decide_many([item, low], "ann", "dismiss")
    assert res.done == [low] and "needs a reason" in res.skipped[item]
    r = env.client.post(f"/items/{item}/decide", data={"action": "dismiss", "note": "game ad", "csrf_token": csrf})
    assert r.status_code == 303 and env.store.get(item).note == "game ad"


def test_stale_page_acting_on_an_item_someone_else_holds(env: Env) -> None:
    item = env.store.upsert_verdict(verdict()).item_id
    csrf = _login(env)
    env.client.post(f"/items/{item}/claim", data={"csrf_token": csrf})
    env.clock.advance(400)  # ann's lease runs out while her page stays open ...
    env.store.claim(item, "bob")  # ... and bob takes the item
    note = "QR to a casino"
    r = env.client.post(f"/items/{item}/decide", data={"action": "confirm", "note": note, "csrf_token": csrf})
    assert r.status_code == 409 and "being reviewed by bob" in r.text
    assert f'value="{note}"' in r.text  # what ann typed is still there
    assert env.store.get(item).status == "open" and env.store.get(item).claimed_by == "bob"
    r = env.client.post(f"/items/{item}/claim", data={"csrf_token": csrf})
    assert r.status_code == 409 and "bob" in r.text


def test_get_never_claims(env: Env) -> None:
    item = env.store.upsert_verdict(verdict()).item_id
    _login(env)
    for path in ("/", f"/items/{item}", "/?view=grid", f"/api/items/{item}"):
        env.client.get(path)
    assert env.store.get(item).claimed_by is None
    assert env.client.get("/next").status_code == 405  # claiming the next item is a POST


def test_sub_labels_clause_and_qa_agreement(env: Env) -> None:
    s = env.store
    a, b = (s.upsert_verdict(verdict(start=t)).item_id for t in (1.0, 30.0))
    with pytest.raises(Invalid, match="sub-label 'cooking'"):
        s.decide(a, "ann", "confirm", sub_label="cooking")
    s.decide(a, "ann", "confirm", sub_label="qr_url")
    s.decide(b, "ann", "dismiss", note="a card game, no stakes")
    assert s.get(a).sub_label == "qr_url"
    with pytest.raises(Conflict, match="QA needs another reviewer"):
        s.qa_review(a, "ann", "confirm")
    s.qa_review(a, "bob", "confirm")
    s.qa_review(b, "bob", "confirm")
    st = s.qa_stats()
    assert (st.sampled, st.reviewed, st.agreed, st.agreement) == (2, 2, 1, 0.5)
    assert st.by_reviewer == {"ann": (2, 1)}
    r = env.client.get("/api/qa", headers=env.admin)
    assert r.json()["agreement"] == 0.5
    assert env.client.get("/api/qa", headers=env.ann).status_code == 403
    c = s.upsert_verdict(verdict(start=90.0)).item_id
    _login(env)
    page = env.client.get(f"/items/{c}").text
    assert "网络直播营销管理办法" in page and 'value="qr_url"' in page  # clause and sub-labels shown


def test_qa_sample_rate_is_reproducible() -> None:
    picked = [i for i in range(1, 2001) if qa.sampled(i, 0.1)]
    assert 150 < len(picked) < 250 and picked == [i for i in range(1, 2001) if qa.sampled(i, 0.1)]
    assert not any(qa.sampled(i, 0.0) for i in range(100))


def test_provisional_item_becomes_final_in_place(env: Env) -> None:
    s = env.store
    live = verdict(start=26.0, end=27.0, violation_id="s1#7", provisional=True, signals=verdict()["signals"][:1])
    first = s.upsert_verdict(live)
    assert s.get(first.item_id).record["provisional"] is True
    final = verdict(start=25.5, end=33.0, violation_id="s1#7", thumbnails=[])
    again = s.upsert_verdict(final)
    assert again.item_id == first.item_id and not again.created and again.changed
    assert s.count(Filters(stream="s1")) == 1 and s.get(first.item_id).t_end == 33.0
    assert "provisional" not in s.get(first.item_id).record


def test_item_view_helpers() -> None:
    rec = {
        "clip_start": 20.0,
        "clip_gaps": [[22.0, 24.0]],
        "signals": [
            {"kind": "qr.url", "t": 26.0, "url": "https://bet.example.com/join?x=1"},
            {"kind": "ocr.keyword", "t": 27.0, "term": "百家乐", "text": "来玩百 家 乐", "span": [2, 7]},
            {"kind": "ocr.keyword", "t": 28.0, "term": "百家乐", "text": "来玩百 家 乐", "span": [2, 7]},
        ],
        "enforcement": [{"action": "cut", "t": 29.5, "ok": True}],
    }
    assert item_view.clip_time(rec, 26.0, 20.0) == 4.0  # 6 s in, less the 2 s outage
    assert item_view.start_at(rec, 20.0) == 4.0
    assert item_view.qr_info(rec["signals"][0]) == {"payload": rec["signals"][0]["url"], "domain": "bet.example.com"}
    html, by_span = item_view.highlighted(rec["signals"][1])
    assert by_span and str(html) == '来玩<mark class="hit">百 家 乐</mark>'
    html, by_span = item_view.highlighted({"text": "x百家乐", "term": "百家乐", "span": [5, 9]})
    assert not by_span and "<mark" in str(html)  # a span outside the text falls back to the term
    groups = item_view.grouped(rec)
    assert [g.count for g in groups] == [1, 2] and groups[1].times == [27.0, 28.0]
    assert item_view.enforcement(rec) == [{"action": "cut", "t": 29.5, "ok": True, "detail": None}]
    assert item_view.enforcement({"action": "review"}) == []
    assert item_view.enforcement({"action": "cut"}) == []  # suggested by the policy, not taken


def test_item_page_shows_why(env: Env) -> None:
    s = env.store
    s.upsert_verdict(
        verdict(
            start=10.0,
            end=16.0,
            signals=[{"kind": "chat.keyword", "t": 15.0, "text": "加我vx领福利", "term": "加我vx"}],
        )
    )
    qr = verdict(
        start=40.0,
        end=47.0,
        signals=[
            {"kind": "qr.url", "t": 40.0, "url": "https://casino.example.net/reg"},
            {"kind": "qr.url", "t": 41.0, "url": "https://casino.example.net/reg"},
        ],
        enforcement={"action": "cut", "t": 41.2},
    )
    item = s.upsert_verdict(qr).item_id
    _login(env)
    page = env.client.get(f"/items/{item}").text
    assert "casino.example.net/reg" in page and '<strong class="qr-domain">casino.example.net</strong>' in page
    assert "2×" in page and "40.0, 41.0" in page  # two sightings, one line
    assert "断流" in page and "41.2" in page  # the cut already taken
    assert '<mark class="hit">加我vx</mark>领福利' in page  # chat 25 s before, in the ±30 s context


def test_language_switch(env: Env) -> None:
    _login(env)
    zh = env.client.get("/")
    assert 'lang="zh-Hans"' in zh.text and "审核队列" in zh.text
    r = env.client.post("/lang", data={"lang": "en", "next": "/?view=grid"})
    assert r.status_code == 303 and r.headers["location"] == "/?view=grid"
    en = env.client.get("/")
    assert 'lang="en"' in en.text and "Review queue" in en.text and "审核队列" not in en.text
    env.client.post("/lang", data={"lang": "tlh", "next": "https://evil.example/"})
    assert 'lang="en"' in env.client.get("/").text  # an unknown language changes nothing


def test_catalogue_translates_every_message() -> None:
    from babel.messages.extract import extract_from_dir

    from moderation.review import i18n

    root = Path(i18n.__file__).parent
    method_map = [("**/ui/templates/**.html", "jinja2"), ("**.py", "python")]
    zh = i18n.translations("zh")
    missing, seen = [], 0
    for found in extract_from_dir(
        str(root), method_map, options_map={"**.html": {"extensions": "jinja2.ext.i18n"}}, keywords={"_": None}
    ):
        msg = found[2]
        ident = msg if isinstance(msg, str) else msg[0]
        seen += 1
        if ident and zh.gettext(ident) == ident:
            missing.append(ident)
    assert seen > 150 and not missing, missing


def test_upgrade_from_v1_keeps_items_and_fills_the_new_columns(queue_url: str) -> None:
    import sqlalchemy as sa

    from moderation.review import migrations, schema
    from moderation.review.db import make_engine

    engine = make_engine(queue_url)
    with engine.begin() as conn:
        schema.schema_version.create(conn)
        migrations._v1(conn)
        conn.execute(sa.insert(schema.schema_version).values(version=1, description="v1", applied_at=0.0))
        conn.execute(
            sa.text(
                "INSERT INTO review_items (stream, streamer, category, window_ms, severity, severity_rank, score,"
                " t_start, t_end, record, record_hash, thumb_paths, status, created_at, updated_at, revision)"
                " VALUES ('s', 'zed', 'gambling', 0, 'high', 3, 0.9, 0, 1, '{}', 'h', '[]', 'open', 1, 1, 0)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO streamer_risk (streamer, tier, confirmed, dismissed, escalated, fp_weight, updated_at)"
                " VALUES ('zed', 2, 1, 0, 0, 1.0, 1)"
            )
        )
    assert migrations.migrate(engine) == [2, 3, 4]
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.items)).one()
        r = conn.execute(sa.select(schema.streamer_risk)).one()
    assert (row.subject, row.tier, row.trigger_term, row.penalty) == ("streamer", 2, None, None)
    assert (r.tier, r.points, r.changed_at, r.override_tier) == (2, 2.0, 1.0, None)  # the tier is kept
    engine.dispose()
