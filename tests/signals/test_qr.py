import cv2
import numpy as np
import pytest

from moderation.config import QrConfig
from moderation.messages import KeywordHit
from moderation.signals.qr import QrTracker, decode_qr, host_of, url_words

URL = "https://bet-casino-888.example/register?ref=live"


def frame_with_qr(data: str, size: int = 200) -> np.ndarray:
    qr = cv2.QRCodeEncoder.create().encode(data)
    qr = cv2.resize(qr, (size, size), interpolation=cv2.INTER_NEAREST)
    img = np.full((360, 640, 3), 255, np.uint8)
    img[80 : 80 + size, 300 : 300 + size] = qr[:, :, None]
    return img


def test_decode_finds_url_and_box() -> None:
    (code,) = decode_qr(frame_with_qr(URL))
    assert code.data == URL
    x, y, w, h = code.box
    assert abs(x - 300) < 30 and abs(y - 80) < 30 and w > 100 and h > 100


def test_grey_frames_decode_like_bgr_ones() -> None:
    bgr = frame_with_qr(URL)
    assert decode_qr(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)) == decode_qr(bgr) != []


def test_no_qr_in_plain_frame() -> None:
    assert decode_qr(np.zeros((120, 160, 3), np.uint8)) == []


def _tilted_code_on_720p_scene(seed: int, payload: str) -> np.ndarray:
    """A stream frame as an encoder delivers it: a QR code at 4 px/module, rotated 30°, pasted
    on a blurred-noise 1280x720 scene, softened and JPEG-compressed (q70)."""
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur((rng.random((720, 1280, 3)) * 255).astype(np.uint8), (0, 0), float(rng.uniform(1, 6)))
    q = cv2.QRCodeEncoder.create().encode(payload)
    q = cv2.resize(
        cv2.copyMakeBorder(q, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=255),
        None,
        fx=4,
        fy=4,
        interpolation=cv2.INTER_NEAREST,
    )
    h, w = q.shape
    q = cv2.warpAffine(q, cv2.getRotationMatrix2D((w / 2, h / 2), 30.0, 1.0), (w, h), borderValue=255)
    y, x = int(rng.integers(0, 720 - h)), int(rng.integers(0, 1280 - w))
    img[y : y + h, x : x + w] = q[..., None]
    ok, jpg = cv2.imencode(".jpg", cv2.GaussianBlur(img, (3, 3), 0.7), [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR)


def test_tilted_codes_on_compressed_720p_frames_are_decoded() -> None:
    # The classic OpenCV detector reads 6 of these 12; the one in use reads 11.
    url = "https://hg0088.example/r?a=1"
    read = sum([c.data for c in decode_qr(_tilted_code_on_720p_scene(seed, url))] == [url] for seed in range(12))
    assert read >= 10


def test_host_and_words() -> None:
    assert host_of(URL) == "bet-casino-888.example"
    assert host_of("just some words") is None
    assert url_words(URL).split()[:3] == ["https", "bet", "casino"]


def test_blocked_domain_matches_subdomains_only_on_label_boundary() -> None:
    tr = QrTracker("s1", blocked_domains=["casino.example"])
    assert tr.judge("https://www.casino.example/x") == ("gambling", 1.0, "casino.example")
    assert tr.judge("https://notcasino.example/x") is None


def _match_casino(text: str) -> list[KeywordHit]:
    i = text.find("casino")
    return [KeywordHit("casino", "gambling", 0.8, (i, i + 6), "casino")] if i >= 0 else []


def _assert_tiles(sigs: list, first: float, last: float, extend_s: float) -> None:  # type: ignore[type-arg]
    """The signals of one appearance: a first sighting, then spans tiling [first, last] in order."""
    assert sigs[0].t == sigs[0].end == first
    spans = sigs[1:]
    assert [s.t for s in spans] == ([first, *(s.end for s in spans[:-1])] if spans else [])
    assert (spans[-1].end if spans else first) == last
    assert all(s.end - s.t <= extend_s + 5.0 for s in spans)
    assert len({(s.url, s.score, s.category) for s in sigs}) == 1


def test_a_code_on_screen_is_reported_at_once_then_spans_its_seconds() -> None:
    tr = QrTracker("s1", match_text=_match_casino, gap_s=5.0, extend_s=2.0)
    (code,) = decode_qr(frame_with_qr(URL))
    first = tr.observe(0.0, [code])
    assert len(first) == 1 and first[0].t == first[0].end == 0.0  # the alert needs no second frame
    sigs = first + [s for t in range(1, 10) for s in tr.observe(float(t), [code])]
    sigs += tr.observe(10.0, []) + tr.observe(11.0, [])  # gone: the rest is flushed after extend_s
    assert sigs[0].kind == "qr.url" and sigs[0].url == URL and sigs[0].category == "gambling"
    _assert_tiles(sigs, 0.0, 9.0, 2.0)
    assert len(sigs) <= 1 + 9 / 2.0 + 1
    assert tr.finish() == []  # nothing left to report
    # gone for longer than the gap, then back: a new appearance, reported again at once
    (again,) = tr.observe(30.0, [code])
    assert again.t == again.end == 30.0


def test_finish_reports_the_seconds_of_a_code_still_on_screen() -> None:
    tr = QrTracker("s1", match_text=_match_casino, extend_s=5.0)
    (code,) = decode_qr(frame_with_qr(URL))
    sigs = [s for t in (0.0, 1.0, 2.0, 3.0) for s in tr.observe(t, [code])]
    assert len(sigs) == 1
    (tail,) = tr.finish()
    assert (tail.t, tail.end) == (0.0, 3.0)


def test_score_is_the_urls_evidence() -> None:
    from moderation.text.lexicon import Lexicon
    from moderation.text.matcher import KeywordMatcher

    tr = QrTracker("s1", match_text=KeywordMatcher(Lexicon.load()).match)
    category, score, term = tr.judge(URL)  # type: ignore[misc]
    assert (category, term) == ("gambling", "casino") and score >= 0.9  # the site is named after it
    path_only = tr.judge("https://shop.example/search?q=casino")
    assert path_only is not None and path_only[1] < 0.9  # a mention in a query: its lexicon weight
    assert tr.judge("https://cooking.example/recipes/noodles") is None


def test_terms_corroborate_and_counter_mentions_do_not_count() -> None:
    def match(text: str) -> list[KeywordHit]:
        hits = []
        for term, ctx in (("slots", "plain"), ("bonus", "plain"), ("gamble", "counter")):
            i = text.find(term)
            if i >= 0:
                hits.append(
                    KeywordHit(
                        term, "gambling", 0.0 if ctx == "counter" else 0.5, (i, i + len(term)), term, context=ctx
                    )
                )
        return hits

    tr = QrTracker("s1", match_text=match, host_term_score=0.9)
    assert tr.judge("https://a.example/slots")[1] == 0.5  # type: ignore[index]
    assert abs(tr.judge("https://a.example/slots/bonus")[1] - 0.75) < 1e-9  # type: ignore[index]
    assert tr.judge("https://a.example/no-gamble") is None


def test_demo_qr_fuses_into_one_high_verdict_spanning_its_display() -> None:
    from moderation.config import load_pipeline
    from moderation.policy.fuse import fuse
    from moderation.text.lexicon import Lexicon
    from moderation.text.matcher import KeywordMatcher

    tr = QrTracker("s1", match_text=KeywordMatcher(Lexicon.load()).match)
    (code,) = decode_qr(frame_with_qr(URL))
    sigs = [s for t in range(60) for s in tr.observe(float(t), [code] if 40 <= t < 47 else [])]
    sigs += tr.finish()
    (v,) = fuse("s1", sigs, load_pipeline("default").policy)
    assert (v.category, v.severity) == ("gambling", "high")
    assert (v.start, v.end) == (40.0, 46.0)


def test_bad_tracker_settings_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="extend_s"):
        QrTracker("s1", extend_s=0)
    with pytest.raises(ValueError, match="host_term_score"):
        QrTracker("s1", host_term_score=1.5)


def test_url_patterns_are_configurable_and_checked() -> None:
    import pytest
    from pydantic import ValidationError

    from moderation.config import QrConfig

    cfg = QrConfig(url_patterns=(r"/(bet|casino)/register", r"[?&]ref=live\b"))
    tr = QrTracker("s1", url_patterns=cfg.url_patterns)
    assert tr.judge("https://shop.example/BET/register") == ("gambling", 1.0, r"/(bet|casino)/register")
    assert tr.judge("https://a.example/x?ref=live") == ("gambling", 1.0, r"[?&]ref=live\b")
    assert tr.judge("https://a.example/x?ref=lively") is None
    with pytest.raises(ValidationError, match="url_patterns"):
        QrConfig(url_patterns=("(unclosed",))


def test_qr_rules_reach_the_tracker_from_pipeline_yaml(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from moderation.config import load_pipeline

    p = tmp_path / "p.yaml"
    p.write_text("qr:\n  blocked_domains: [casino.example]\n  url_patterns: ['/register']\n  gap_s: 3\n")
    cfg = load_pipeline(str(p)).qr
    tr = QrTracker("s1", cfg.blocked_domains, None, gap_s=cfg.gap_s, url_patterns=cfg.url_patterns)
    assert tr.judge("https://m.casino.example/") == ("gambling", 1.0, "casino.example")
    assert tr.judge("https://x.example/register")[0] == "gambling"  # type: ignore[index]
    assert tr.gap_s == 3.0


def test_property_a_code_on_screen_is_one_appearance_spanning_its_sightings() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    (code,) = decode_qr(frame_with_qr(URL))

    @settings(max_examples=100, deadline=None)
    @given(
        st.lists(st.floats(0.04, 4.9), min_size=1, max_size=60),
        st.floats(5.01, 100.0),
        st.lists(st.floats(0.04, 4.9), max_size=20),
    )
    def run(steps: list[float], absence: float, steps2: list[float]) -> None:
        tr = QrTracker("s1", blocked_domains=["example"], gap_s=5.0, extend_s=2.0)
        t, sigs = 0.0, tr.observe(0.0, [code])
        for dt in steps:  # consecutive sampled frames, each within the gap of the previous one
            t += dt
            sigs += tr.observe(t, [code])
            sigs += tr.observe(t, [])  # frames in between where decoding missed it do not reset it
        last = t
        t += absence  # gone longer than the gap, then back: a new appearance
        sigs += tr.observe(t, [code])
        _assert_tiles(sigs[:-1], 0.0, last, 2.0)
        assert sum(1 for s in sigs if s.t == s.end) == 2  # one first sighting per appearance
        start = t
        for dt in steps2:
            t += dt
            sigs += tr.observe(t, [code])
        sigs += tr.finish()
        _assert_tiles([s for s in sigs if s.t >= start], start, t, 2.0)

    run()


def test_qr_searches_further_apart_than_the_appearance_gap_are_refused() -> None:
    with pytest.raises(ValueError, match="every_s"):
        QrConfig(every_s=10.0, gap_s=10.0)
    assert QrConfig(every_s=0.0).every_s == 0.0
