"""Honest run figures: the recent rate and the ETA of a running bulk, the mean rate of a finished one.

Plain Python (no I/O, no Textual, no wall clock: the caller passes each observation's time from its own
injected clock). Progress is only seen at polls and webhooks, so the figures are built from those
observations, on a *running clock* that advances only between two observations that both saw the bulk
``RUNNING`` (or running, then ended): time spent paused, and time before the first completed operation, are
never measured, so a resume does not drag the rate down and the start does not make up a rate from one
operation.

An interval that only partly ran (running → paused, paused → running, running → cancelled) is left out whole,
its time *and* its operations: how much of it ran is unknown, and counting one without the other is what made
a resumed run show an ETA of an hour.

No ETA is given until the window holds enough to mean something: at least ``MIN_SAMPLES`` observations,
spanning ``MIN_SPAN_S`` seconds of running time and ``MIN_OPS`` operations. With polls every 0.5–4.5 s that
is a few seconds into a run; a counted operation is only known to within one poll, so fewer than ten of them
would put the error of the rate past 10 %.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

RUNNING = "RUNNING"
#: Intervals ending in these count as running time: the bulk ran until it ended. ``CANCELLED`` is not one of
#: them: a cancel can stop a bulk long before it is seen, and it may have been paused in between.
ENDED_RUNNING = frozenset({"COMPLETED", "PARTIALLY_COMPLETED", "FAILED"})
#: The recent rate is taken over (at least) this much running time, newest last.
WINDOW_S = 15.0
MIN_SAMPLES = 3
MIN_SPAN_S = 2.0
MIN_OPS = 10
#: Points kept: 15 s at the fastest poll (4 Hz) plus webhooks, with room to spare.
MAX_POINTS = 512


@dataclass(slots=True)
class Pace:
    """Observations of one bulk's attempted count, turned into running-time points ``(running s, ops)``.

    The first point (0, 0) is the baseline: the first observation of the bulk ``RUNNING`` with at least one
    operation done (or at its first sight, if that is later)."""

    points: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=MAX_POINTS))
    #: The point at the latest observation where the attempted count had moved: the end of the measured run.
    last_progress: tuple[float, int] | None = None
    _last: tuple[float, int, str | None] | None = None

    def observe(self, t: float, attempted: int, status: str | None) -> None:
        """The bulk was seen at ``t`` (seconds, the caller's clock) with ``attempted`` done, in ``status``."""
        last, self._last = self._last, (t, attempted, status)
        if not self.points:
            if status == RUNNING and attempted > 0:
                self.points.append((0.0, 0))  # the baseline: nothing before it is measured
            return
        assert last is not None  # a point exists only once an observation was made
        t0, a0, s0 = last
        if s0 != RUNNING or (status != RUNNING and status not in ENDED_RUNNING):
            return  # a gap: neither its time nor its operations count
        run_s, ops = self.points[-1]
        moved = max(0, attempted - a0)  # counts only grow; a server that says otherwise adds nothing
        point = (run_s + max(0.0, t - t0), ops + moved)
        self.points.append(point)
        if moved:
            self.last_progress = point

    def recent_rate(self) -> float | None:
        """Operations per running second over the last ``WINDOW_S`` of running time (widened until the
        window holds ``MIN_SAMPLES`` points and ``MIN_OPS`` operations); None without enough data."""
        if len(self.points) < MIN_SAMPLES:
            return None
        end_s, end_ops = self.points[-1]
        used = 1
        start_s, start_ops = end_s, end_ops
        for start_s, start_ops in reversed(list(self.points)[:-1]):
            used += 1
            if end_s - start_s >= WINDOW_S and used >= MIN_SAMPLES and end_ops - start_ops >= MIN_OPS:
                break
        span, ops = end_s - start_s, end_ops - start_ops
        if used < MIN_SAMPLES or span < MIN_SPAN_S or ops < MIN_OPS:
            return None
        return ops / span

    def observed_mean(self, *, enough: bool = True) -> float | None:
        """Operations per running second from the baseline to the last observed progress; with ``enough``,
        only when that spans ``MIN_SPAN_S`` and ``MIN_OPS`` (else None)."""
        if self.last_progress is None:
            return None
        span, ops = self.last_progress
        if span <= 0 or ops <= 0 or (enough and (span < MIN_SPAN_S or ops < MIN_OPS)):
            return None
        return ops / span


def mean_from_timestamps(attempted: int, start_ms: object, finish_ms: object) -> float | None:
    """Operations per second from ``executionStart`` to ``executionFinish`` (epoch ms as sent): the whole run
    as the server timed it — pauses included, as resume keeps ``executionStart`` (docs/behaviour.md 5.5).
    None when either is missing, not a number, or the run did not take a positive time."""
    if attempted <= 0 or not all(type(v) is int for v in (start_ms, finish_ms)):
        return None
    assert isinstance(start_ms, int) and isinstance(finish_ms, int)
    span_s = (finish_ms - start_ms) / 1000
    if span_s <= 0:
        return None
    rate = attempted / span_s
    return rate if math.isfinite(rate) else None
