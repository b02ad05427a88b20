"""Honest rate and ETA (issue 14): a resume does not blow up the ETA, the start shows none, a finished run
shows its mean rate over its running time, and a steady run's ETA is within 10 % of the truth. Every time
comes from an injected clock: the run is simulated, poll by poll."""

from __future__ import annotations

import math

import pytest

from bulkdash.contract.models import BulkProcessDetails, status_counts
from bulkdash.model.pace import MIN_OPS, Pace, mean_from_timestamps
from bulkdash.model.run import RateFigure, RunModel


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def details(status: str, n: int, attempted: int, **extra: int) -> BulkProcessDetails:
    counts = {"SUBMITTED": n - attempted, "RUNNING": 0, "COMPLETED": attempted, "FAILED": 0, "CANCELLED": 0}
    return BulkProcessDetails(
        bulkId="1", status=status, submittedItemsCount=n, operationStatusCounts=status_counts(counts), **extra
    )


class Run:
    """A simulated bulk of ``n`` operations finishing at ``per_s`` while running (its first one ``lag_s``
    after execute), polled by a model on a fake clock; pauses stop it."""

    def __init__(self, n: int, per_s: float, *, lag_s: float = 0.0) -> None:
        self.n, self.per_s, self.lag_s = n, per_s, lag_s
        self.clock = Clock()
        self.model = RunModel("1", clock=self.clock)
        self.ran_s = 0.0  # running time so far
        self.paused = False
        self.executed = True

    @property
    def done(self) -> int:
        return min(self.n, max(0, math.floor((self.ran_s - self.lag_s) * self.per_s) + 1))

    @property
    def status(self) -> str:
        if not self.executed:
            return "SUBMITTED"
        return "COMPLETED" if self.done >= self.n else "PAUSED" if self.paused else "RUNNING"

    def truth_s(self) -> float:
        """Seconds the run still needs: until its last operation finishes."""
        return self.lag_s + (self.n - 1) / self.per_s - self.ran_s

    def advance(self, seconds: float) -> None:
        self.clock.t += seconds
        if self.executed and not self.paused:
            self.ran_s += seconds

    def wait_before_executing(self, seconds: float, poll_every_s: float = 10.0) -> None:
        """The run screen open on the submitted bulk for ``seconds`` before execute."""
        self.executed = False
        self.poll()
        for _ in range(round(seconds / poll_every_s)):
            self.advance(poll_every_s)
            self.poll()
        self.executed = True

    def poll(self) -> None:
        self.model.apply_details(details(self.status, self.n, self.done))


def test_the_start_shows_no_eta_until_there_is_enough_data() -> None:
    run = Run(10_000, 20.0, lag_s=3.0)  # the first operation takes a while
    run.wait_before_executing(60.0)
    run.poll()
    for _ in range(6):  # 3 s at the 2 Hz the start is polled at: the first operation lands at 3 s
        run.advance(0.5)
        run.poll()
        assert run.model.eta_s() is None
        assert run.model.rate() == RateFigure(None, "recent")
    for _ in range(20):
        run.advance(0.5)
        run.poll()
    eta = run.model.eta_s()
    assert eta is not None and abs(eta - run.truth_s()) <= 0.1 * run.truth_s()


def test_two_polls_far_apart_are_not_enough() -> None:
    pace = Pace()
    pace.observe(0.0, 1, "RUNNING")
    pace.observe(30.0, 600, "RUNNING")
    assert pace.recent_rate() is None  # two points: one more is needed, however many operations
    pace.observe(31.0, 620, "RUNNING")
    assert pace.recent_rate() == pytest.approx(619 / 31)


def test_a_steady_runs_eta_is_within_ten_percent_of_the_truth() -> None:
    run = Run(2_000, 20.0, lag_s=0.3)  # ~100 s, like the run that showed "ETA 28 min 03 s"
    run.wait_before_executing(60.0)  # the old rate reached back to these polls: 28 minutes
    run.poll()
    shown = 0
    gaps = [0.5, 0.5, 1.3, 2.2, 4.5, 3.1, 4.5, 0.7]  # irregular polls, webhooks in between
    step = 0
    while run.status == "RUNNING":
        run.advance(gaps[step % len(gaps)])
        step += 1
        run.poll()
        eta = run.model.eta_s()
        if eta is not None and run.status == "RUNNING":
            shown += 1
            truth = run.truth_s()
            assert abs(eta - truth) <= max(0.1 * truth, 0.5), (run.ran_s, eta, truth)
    assert shown >= 20


def test_a_resume_does_not_blow_up_the_eta() -> None:
    run = Run(2_000, 20.0)
    run.poll()
    for _ in range(10):
        run.advance(2.0)
        run.poll()
    run.paused = True
    for _ in range(60):  # ten minutes paused, polled every 10 s
        run.advance(10.0)
        run.poll()
        assert run.model.eta_s() is None  # paused: no ETA
    run.paused = False
    run.advance(0.5)  # the first poll right after the resume
    run.poll()
    eta = run.model.eta_s()
    assert eta is not None and abs(eta - run.truth_s()) <= 0.1 * run.truth_s()
    for _ in range(5):
        run.advance(1.0)
        run.poll()
        eta = run.model.eta_s()
        assert eta is not None and abs(eta - run.truth_s()) <= 0.1 * run.truth_s()


def test_a_finished_run_shows_its_mean_rate_over_its_running_time() -> None:
    run = Run(1_000, 25.0)
    run.poll()
    for _ in range(8):
        run.advance(2.5)
        run.poll()
    run.paused = True
    run.advance(300.0)  # five minutes paused: wall time, not running time
    run.poll()
    run.paused = False
    while run.status != "COMPLETED":
        run.advance(2.5)
        run.poll()
    figure = run.model.rate()
    assert figure.kind == "mean" and figure.per_s is not None
    assert figure.per_s == pytest.approx(25.0, rel=0.1)
    assert run.model.eta_s() is None


def test_a_run_seen_only_after_its_end_takes_the_mean_from_its_timestamps() -> None:
    model = RunModel("1", clock=Clock())
    start = 1_767_225_600_000
    finish = start + 100_000  # 100 s for 2,000 operations
    model.apply_details(details("COMPLETED", 2_000, 2_000, executionStart=start, executionFinish=finish))
    assert model.rate() == RateFigure(20.0, "mean")
    # No timestamps (or nonsense ones): no made-up figure, and never "0 ops/s".
    model = RunModel("2", clock=Clock())
    model.apply_details(details("COMPLETED", 2_000, 2_000, executionStart=5, executionFinish=5))
    assert model.rate() == RateFigure(None, "mean")


def test_mean_from_timestamps_is_total() -> None:
    assert mean_from_timestamps(100, 0, 10_000) == 10.0
    assert mean_from_timestamps(100, None, 10_000) is None
    assert mean_from_timestamps(100, 10_000, 0) is None  # finished before it started
    assert mean_from_timestamps(0, 0, 10_000) is None
    assert mean_from_timestamps(100, True, 10_000) is None


def test_partly_running_intervals_count_neither_time_nor_operations() -> None:
    pace = Pace()
    pace.observe(0.0, 0, "RUNNING")  # before the first operation: not measured
    pace.observe(1.0, 10, "RUNNING")  # the baseline
    pace.observe(2.0, 20, "RUNNING")
    pace.observe(3.0, 25, "PAUSED")  # ran part of this second: left out
    pace.observe(500.0, 25, "PAUSED")
    pace.observe(501.0, 30, "RUNNING")  # resumed part of this second: left out
    pace.observe(502.0, 40, "RUNNING")
    assert list(pace.points) == [(0.0, 0), (1.0, 10), (2.0, 20)]
    assert pace.recent_rate() == 10.0
    pace.observe(503.0, 40 + MIN_OPS, "CANCELLED")  # a cancel: when it came is unknown
    assert pace.observed_mean() == 10.0


def test_webhooks_count_as_observations() -> None:
    clock = Clock()
    model = RunModel("1", clock=clock)
    model.apply_details(details("RUNNING", 400, 1))
    for done in (100, 200, 300):  # progress webhooks every 100, 5 s apart, and no polls in between
        clock.t += 5.0
        counts = {"SUBMITTED": 400 - done, "RUNNING": 0, "COMPLETED": done, "FAILED": 0, "CANCELLED": 0}
        model.apply_progress_event("RUNNING", counts)
    assert model.rate().per_s == pytest.approx(299 / 15)
    assert model.eta_s() == pytest.approx(100 / (299 / 15))
