"""Operations under a delay are paced at one per delay (``engine.paced_due``): the timer's overshoot of
each sleep does not add up over a run, and a gap never turns into a burst that makes up for it."""

from __future__ import annotations

import pytest

from simulator.engine.engine import paced_due

DELAY = 0.05


def test_the_first_operation_waits_one_delay() -> None:
    assert paced_due(None, 100.0, DELAY) == pytest.approx(100.05)


def test_an_overshoot_is_taken_off_the_next_wait() -> None:
    due = 100.05
    woke = due + 0.0016  # the timer fired late and the operation took its time
    assert paced_due(due, woke, DELAY) == pytest.approx(100.10)  # sleeps 48.4 ms, not 50


def test_a_long_run_keeps_its_pace_whatever_each_sleep_overshoots() -> None:
    due, now = None, 0.0
    for _ in range(10_000):
        due = paced_due(due, now, DELAY)
        now = due + 0.0016  # every sleep wakes 1.6 ms late (measured at 50 ms on the 2-core machine)
    assert now == pytest.approx(500.0, abs=0.01)  # 10,000 × 50 ms, not 516 s


def test_after_a_gap_the_pace_starts_again_without_a_burst() -> None:
    due = 100.05
    resumed = 130.0  # a pause (or a hold, a store outage) of half a minute
    assert paced_due(due, resumed, DELAY) == pytest.approx(130.05)  # one delay from now, not at once


def test_a_late_operation_within_one_delay_keeps_the_schedule() -> None:
    due = 100.05
    assert paced_due(due, due + 0.049, DELAY) == pytest.approx(100.10)  # 1 ms left to wait
