import cv2
import numpy as np

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


def test_no_qr_in_plain_frame() -> None:
    assert decode_qr(np.zeros((120, 160, 3), np.uint8)) == []


def test_host_and_words() -> None:
    assert host_of(URL) == "bet-casino-888.example"
    assert host_of("just some words") is None
    assert url_words(URL).split()[:3] == ["https", "bet", "casino"]


def test_blocked_domain_matches_subdomains_only_on_label_boundary() -> None:
    tr = QrTracker("s1", blocked_domains=["casino.example"])
    assert tr.judge("https://www.casino.example/x") == ("gambling", 1.0, "casino.example")
    assert tr.judge("https://notcasino.example/x") is None


def test_same_code_on_consecutive_frames_is_one_signal() -> None:
    def match(text: str) -> list[KeywordHit]:
        i = text.find("casino")
        return [KeywordHit("casino", "gambling", 0.8, (i, i + 6), "casino")] if i >= 0 else []

    tr = QrTracker("s1", match_text=match, gap_s=5.0)
    (code,) = decode_qr(frame_with_qr(URL))
    sigs = [s for t in range(10) for s in tr.observe(float(t), [code])]
    assert len(sigs) == 1
    assert sigs[0].kind == "qr.url" and sigs[0].url == URL and sigs[0].category == "gambling"
    # gone for longer than the gap, then back: reported again
    assert len(tr.observe(30.0, [code])) == 1


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


def test_property_a_code_on_screen_is_one_signal_per_appearance() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    (code,) = decode_qr(frame_with_qr(URL))

    @settings(max_examples=100, deadline=None)
    @given(st.lists(st.floats(0.04, 4.9), min_size=1, max_size=60), st.floats(5.01, 100.0),
           st.lists(st.floats(0.04, 4.9), max_size=20))
    def run(steps: list[float], absence: float, steps2: list[float]) -> None:
        tr = QrTracker("s1", blocked_domains=["example"], gap_s=5.0)
        t, sigs = 0.0, tr.observe(0.0, [code])
        for dt in steps:  # consecutive sampled frames, each within the gap of the previous one
            t += dt
            sigs += tr.observe(t, [code])
            sigs += tr.observe(t, [])  # frames in between where decoding missed it do not reset it
        assert len(sigs) == 1
        t += absence  # gone longer than the gap, then back: a new appearance
        sigs += tr.observe(t, [code])
        for dt in steps2:
            t += dt
            sigs += tr.observe(t, [code])
        assert len(sigs) == 2

    run()
