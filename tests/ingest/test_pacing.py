"""The read pacer: bursts instead of per-packet wake-ups, never early, never making a late reader later."""

from __future__ import annotations

import pytest

from moderation.ingest.pacing import ReadPacer


def _packets(fps: float, seconds: float) -> list[float]:
    return [i / fps for i in range(int(seconds * fps))]


def _simulate_file(batch_s: float, fps: float = 70.0, seconds: float = 10.0) -> tuple[int, list[float]]:
    """Read a file's packets as LiveSource does with a clock that only moves by sleeping; →
    (wake-ups, how long after becoming available each packet was delivered)."""
    pacer = ReadPacer(batch_s, live=False)
    clock, wakes, delays = 100.0, 0, []
    for t in _packets(fps, seconds):
        paced = pacer.packet(t, clock)
        available = clock - paced.late_s
        if paced.sleep_s:
            clock += paced.sleep_s
            wakes += 1
        assert clock >= available - 1e-9, "a packet was delivered before it became available"
        delays.append(clock - available)
    return wakes, delays


def test_file_pacing_wakes_per_burst_not_per_packet() -> None:
    per_packet, _ = _simulate_file(0.0)
    wakes, delays = _simulate_file(0.25)
    assert per_packet >= 690  # 70 packets a second for 10 s, each one a wake-up
    assert 35 <= wakes <= 42  # about 4 a second
    assert max(delays) <= 0.25 + 1e-9 and min(delays) >= 0.0


def test_file_pacing_does_not_sleep_for_a_reader_that_is_behind() -> None:
    pacer = ReadPacer(0.25, live=False)
    assert pacer.packet(0.0, 10.0).sleep_s == 0.0
    late = pacer.packet(1.0, 12.0)  # read 1 s after it became available
    assert late.sleep_s == 0.0 and late.late_s == pytest.approx(1.0)


def _simulate_live(
    arrivals: list[tuple[float, float]], batch_s: float, *, work_s: float = 0.0
) -> tuple[int, list[float], list[float]]:
    """A network stream: packet (media t, arrival time); a read blocks until the packet has arrived,
    and each packet takes ``work_s`` to process. → (sleeps, true delays after arrival, the pacer's
    estimates of them)."""
    pacer = ReadPacer(batch_s, live=True)
    clock, sleeps, delays, estimates = 0.0, 0, [], []
    for t, arrived in arrivals:
        blocked = arrived > clock
        clock = max(clock, arrived)  # the read returns once the data is there
        paced = pacer.packet(t, clock, blocked=blocked)
        estimates.append(paced.late_s)
        if paced.sleep_s:
            sleeps += 1
            clock += paced.sleep_s
        delays.append(clock - arrived)
        clock += work_s
    return sleeps, delays, estimates


def test_live_reader_at_the_edge_sleeps_and_catches_up() -> None:
    arrivals = [(t, 5.0 + t) for t in _packets(70.0, 60.0)]  # 5 s network delay, steady
    sleeps, delays, estimates = _simulate_live(arrivals, 0.25, work_s=0.001)
    assert 200 <= sleeps <= 250  # about one burst per batch_s of media
    assert max(delays[-700:]) <= 0.25 + 0.02  # never more than one batch behind, however long it runs
    assert max(abs(e - d) for e, d in zip(estimates, delays, strict=True) if d < 0.2) < 0.03  # lateness estimated


def test_live_backlog_is_read_without_sleeping() -> None:
    # A GOP cache (2 s of old media delivered at once on connect), then live packets.
    backlog = [(t, 0.0) for t in _packets(70.0, 2.0)]
    live = [(2.0 + t, t) for t in _packets(70.0, 5.0)]
    sleeps, delays, _ = _simulate_live(backlog + live, 0.25, work_s=0.001)
    assert sleeps > 0 and max(delays[len(backlog) :]) <= 0.25 + 0.02


def test_live_edge_follows_a_lasting_rise_in_delay() -> None:
    before = [(t, 1.0 + t) for t in _packets(50.0, 10.0)]
    after = [(10.0 + t, 1.5 + 10.0 + t) for t in _packets(50.0, 60.0)]  # the network now adds 0.5 s
    sleeps_before = _simulate_live(before, 0.25)[0]
    sleeps_all, delays, _ = _simulate_live(before + after, 0.25)
    assert sleeps_all - sleeps_before >= 150  # bursts resume once the new edge is learnt
    assert max(delays[-500:]) <= 0.25 + 0.02


def test_loaded_reader_whose_reads_look_blocked_is_not_put_further_behind() -> None:
    # Every read looks blocked (GIL waits), but the reader processes 0.03 s per 0.02 s of media:
    # it falls behind on its own; the pacer may sleep only while it is within one batch of the edge.
    pacer = ReadPacer(0.25, live=True)
    clock, slept = 0.0, 0.0
    for i in range(500):
        paced = pacer.packet(i * 0.02, clock, blocked=True)
        assert paced.sleep_s == 0.0 or paced.late_s <= 0.25
        slept += paced.sleep_s
        clock += paced.sleep_s + 0.03
    assert slept <= 0.5


def test_zero_batch_never_sleeps_live_and_bad_batch_is_refused() -> None:
    pacer = ReadPacer(0.0, live=True)
    assert all(pacer.packet(t, t, blocked=True).sleep_s == 0.0 for t in _packets(30.0, 2.0))
    with pytest.raises(ValueError):
        ReadPacer(-0.1, live=False)
