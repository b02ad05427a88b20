"""The request budget: Weavr's per-programme quota (100/min, 1,000/h, 10,000/day) as a client-side allowance.

Windows are fixed and aligned to the epoch, like the server's, so what we count matches what it counts.
The defaults sit just under Weavr's limits. A 429 blocks spending until its ``x-ratelimit-reset``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((90, 60), (950, 3600), (9500, 86400))


@dataclass(slots=True)
class WindowUse:
    limit: int
    seconds: int
    used: int
    resets_in_s: float

    @property
    def label(self) -> str:
        unit = {60: "min", 3600: "h", 86400: "day"}.get(self.seconds, f"{self.seconds}s")
        return f"{self.used}/{self.limit} per {unit}"


class BudgetExhausted(Exception):
    def __init__(self, wait_s: float, reason: str) -> None:
        super().__init__(reason)
        self.wait_s = wait_s
        self.reason = reason


class RequestBudget:
    def __init__(
        self,
        windows: tuple[tuple[int, int], ...] | list[tuple[int, int]] = DEFAULT_WINDOWS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.windows = sorted(windows, key=lambda w: w[1])
        self.clock = clock
        self._used: dict[int, tuple[int, int]] = {}  # window seconds -> (window index, used)
        self.blocked_until = 0.0
        self.total = 0

    def _current(self, seconds: int, now: float) -> int:
        index = int(now // seconds)
        seen, used = self._used.get(seconds, (index, 0))
        return used if seen == index else 0

    def check(self) -> None:
        """Raise ``BudgetExhausted`` if one more request would break a window or a 429 is in force."""
        now = self.clock()
        if now < self.blocked_until:
            raise BudgetExhausted(self.blocked_until - now, "rate limited by the server (429)")
        for limit, seconds in self.windows:
            if self._current(seconds, now) >= limit:
                wait = (int(now // seconds) + 1) * seconds - now
                raise BudgetExhausted(wait, f"request budget of {limit} per {seconds}s spent")

    def spend(self) -> None:
        now = self.clock()
        for _limit, seconds in self.windows:
            self._used[seconds] = (int(now // seconds), self._current(seconds, now) + 1)
        self.total += 1

    def note_429(self, reset_s: float) -> None:
        self.blocked_until = max(self.blocked_until, self.clock() + max(0.0, reset_s))

    def headroom(self) -> float:
        """Fraction (0..1) of the tightest window still free: the poller slows down as it shrinks."""
        now = self.clock()
        return min((1 - self._current(s, now) / limit for limit, s in self.windows), default=1.0)

    def usage(self) -> list[WindowUse]:
        now = self.clock()
        return [
            WindowUse(limit, s, self._current(s, now), (int(now // s) + 1) * s - now)
            for limit, s in self.windows
        ]
