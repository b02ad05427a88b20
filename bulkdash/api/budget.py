"""The request budget: Weavr's per-programme quota (100/min, 1,000/h, 10,000/day) as a client-side allowance,
shared fairly between what the user is waiting for and what runs behind their back.

Windows are fixed and aligned to the epoch, like the server's, so what we count matches what it counts.
The defaults sit just under Weavr's limits. A 429 blocks spending until its ``x-ratelimit-reset``.

Two priorities share every window. ``INTERACTIVE`` requests (polls of what is on screen, the user's
actions) may use the whole window; ``BACKGROUND`` requests (reports, exports, prefetch) may use it only up
to ``limit - reserve``, so a long export never leaves the dashboard's polling without requests. Background
work is expected to *wait* for its share (:meth:`RequestBudget.acquire`) rather than fail; interactive
callers get ``BudgetExhausted`` at once and decide themselves. The clock is injected (``clock``) and so is
the sleep of ``acquire``, so tests drive time instead of waiting on it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((90, 60), (950, 3600), (9500, 86400))
#: Share of every window kept for interactive requests: 18 of the 90 per minute by default.
DEFAULT_RESERVE = 0.2


class Priority(StrEnum):
    INTERACTIVE = "interactive"  # someone is looking at the answer: may spend the whole window
    BACKGROUND = "background"  # reports, exports, prefetch: paced, never the reserve


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
    """No request may be sent now. ``until`` is when one may (on the budget's clock): a deadline that a
    countdown can be drawn from, where ``wait_s`` is only the wait as it was when this was raised."""

    def __init__(
        self, wait_s: float, reason: str, *, until: float | None = None, server: bool = False
    ) -> None:
        super().__init__(reason)
        self.wait_s = wait_s
        self.reason = reason
        self.until = until
        #: True when the server said so (a 429 in force), False when it is our own bookkeeping.
        self.server = server


class RequestBudget:
    def __init__(
        self,
        windows: tuple[tuple[int, int], ...] | list[tuple[int, int]] = DEFAULT_WINDOWS,
        clock: Callable[[], float] = time.time,
        *,
        reserve: float = DEFAULT_RESERVE,
    ) -> None:
        if not 0 <= reserve < 1:
            raise ValueError("reserve is a share of each window, 0 <= reserve < 1")
        self.windows = sorted(windows, key=lambda w: w[1])
        self.clock = clock
        self.reserve = reserve
        self._used: dict[int, tuple[int, int]] = {}  # window seconds -> (window index, used)
        self.blocked_until = 0.0
        self.total = 0
        self.total_background = 0

    def _current(self, seconds: int, now: float) -> int:
        index = int(now // seconds)
        seen, used = self._used.get(seconds, (index, 0))
        return used if seen == index else 0

    def allowance(self, limit: int, priority: Priority) -> int:
        """How much of a window of ``limit`` requests ``priority`` may use. Background keeps its hands off
        the reserve (at least one request, so it can always make progress, however small the window)."""
        if priority is Priority.INTERACTIVE:
            return limit
        return max(1, limit - math.ceil(limit * self.reserve)) if limit > 0 else 0

    def check(self, priority: Priority = Priority.INTERACTIVE) -> None:
        """Raise ``BudgetExhausted`` if one more request of ``priority`` would break a window or a 429 is in
        force."""
        now = self.clock()
        if now < self.blocked_until:
            raise BudgetExhausted(
                self.blocked_until - now,
                "rate limited by the server (429)",
                until=self.blocked_until,
                server=True,
            )
        for limit, seconds in self.windows:
            if self._current(seconds, now) >= self.allowance(limit, priority):
                until = (int(now // seconds) + 1) * seconds
                share = "" if priority is Priority.INTERACTIVE else f" ({priority} share)"
                raise BudgetExhausted(
                    until - now, f"request budget of {limit} per {seconds}s spent{share}", until=until
                )

    def spend(self, priority: Priority = Priority.INTERACTIVE) -> None:
        now = self.clock()
        for _limit, seconds in self.windows:
            self._used[seconds] = (int(now // seconds), self._current(seconds, now) + 1)
        self.total += 1
        if priority is Priority.BACKGROUND:
            self.total_background += 1

    async def acquire(
        self,
        priority: Priority,
        sleep: Callable[[float], Awaitable[Any]],
        on_wait: Callable[[BudgetExhausted], None] | None = None,
    ) -> None:
        """Wait (with ``sleep``) until a request of ``priority`` may be sent; ``on_wait`` hears each wait.

        Returns right after a successful ``check``: the caller spends before its next ``await``, so no other
        task can take the same slot in between.
        """
        while True:
            try:
                self.check(priority)
                return
            except BudgetExhausted as exc:
                if on_wait is not None:
                    on_wait(exc)
                await sleep(exc.wait_s)

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
