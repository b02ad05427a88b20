"""Fixed-window rate limits per api-key, aligned to the epoch (docs/behaviour.md §8)."""

from __future__ import annotations

import math
from collections.abc import Callable


class RateLimiter:
    def __init__(self, windows: list[tuple[int, int]], clock_s: Callable[[], float]) -> None:
        self.windows = sorted(windows, key=lambda lw: lw[1])  # (limit, seconds), shortest window first
        self.clock_s = clock_s
        self._counts: dict[tuple[str, int], tuple[int, int]] = {}  # (key, window) -> (window index, count)

    def header_value(self, limit: int) -> str:
        return ", ".join([str(limit), *(f"{n};w={w}" for n, w in self.windows)])

    def hit(self, api_key: str) -> tuple[str, int] | None:
        """Count one request, or return (``x-ratelimit-limit``, ``x-ratelimit-reset``) when a window is full.

        A refused request is not counted. With several full windows the one resetting last is named.
        """
        if not self.windows:
            return None
        now = self.clock_s()
        full: list[tuple[int, float]] = []
        current: list[tuple[int, int]] = []
        for limit, seconds in self.windows:
            index = int(now // seconds)
            seen_index, count = self._counts.get((api_key, seconds), (index, 0))
            if seen_index != index:
                count = 0
            current.append((index, count))
            if count >= limit:
                full.append((limit, (index + 1) * seconds - now))
        if full:
            limit, remaining = max(full, key=lambda f: f[1])
            return self.header_value(limit), max(0, math.ceil(remaining))
        for limit_window, (index, count) in zip(self.windows, current, strict=True):
            self._counts[(api_key, limit_window[1])] = (index, count + 1)
        return None

    def reset(self) -> None:
        self._counts.clear()
