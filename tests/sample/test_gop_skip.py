"""GopSkip: which video packets are worth decoding, as pure logic on packet times."""

from __future__ import annotations

from moderation.sample.frames import FpsSampler, GopSkip


def _run(fps: float, keys: list[float], seconds: float, frame_rate: int = 25) -> tuple[list[float], int]:
    """Feed a stream whose keyframes are at ``keys``; returns (sampled times, packets decoded)."""
    sampler = FpsSampler(fps)
    gop = GopSkip(sampler)
    key_set = {round(k * frame_rate) for k in keys}
    taken, decoded = [], 0
    for i in range(int(seconds * frame_rate)):
        t = i / frame_rate
        if not gop.decode(t, i in key_set):
            continue
        decoded += 1
        if sampler.take(t):
            gop.sampled()
            taken.append(t)
    return taken, decoded


def test_two_second_gop_at_1fps_skips_the_second_half_of_each_gop() -> None:
    seconds = 60.0
    taken, decoded = _run(1.0, [2.0 * k for k in range(30)], seconds)
    assert taken == [float(k) for k in range(60)]  # still one sample per second, on the grid
    full = int(seconds * 25)
    # three GOPs to learn the interval, decoded in full; then about half of each
    assert decoded < 0.6 * full


def test_one_second_gop_at_1fps_decodes_about_only_keyframes() -> None:
    taken, decoded = _run(1.0, [float(k) for k in range(20)], 20.0)
    assert taken == [float(k) for k in range(20)]
    assert decoded < 0.3 * 500


def test_irregular_keyframes_are_decoded_in_full() -> None:
    keys = [0.0, 2.0, 2.6, 6.0, 6.4, 9.0, 13.0, 13.5, 17.0]  # scene-cut keyframes
    taken, decoded = _run(1.0, keys, 20.0)
    assert decoded == 500
    assert len(taken) == 20


def test_keyframes_further_apart_than_the_sampling_period_never_skip_a_needed_frame() -> None:
    taken, decoded = _run(2.0, [4.0 * k for k in range(5)], 20.0)
    assert len(taken) == 40  # every half second
    assert decoded < 500  # only the tail after the last sample of each GOP is skipped


def test_clock_going_back_forgets_the_learned_interval() -> None:
    sampler = FpsSampler(1.0)
    gop = GopSkip(sampler)
    for k in range(5):
        gop.decode(float(k), True)
    assert gop.interval() == 1.0
    gop.decode(0.5, True)  # a restarted publisher
    assert gop.interval() is None


def test_packets_without_time_are_always_decoded() -> None:
    sampler = FpsSampler(1.0)
    gop = GopSkip(sampler)
    for k in range(5):
        assert gop.decode(float(k), True)
        sampler.take(float(k))
        gop.sampled()
    assert gop.decode(None, False)
    assert not gop.decode(4.5, False)
    assert gop.skipped == 1
