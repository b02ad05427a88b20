"""A one-line banner under the header for errors and waits ("Cannot reach …, retrying in 4 s").

A wait carries its deadline (``retry_at``) and the clock it is on, not a number of seconds: the banner redraws
itself every second, so "retrying in N s" counts down however late the error was drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from textual.timer import Timer
from textual.widgets import Static

from bulkdash.ui.format import clip
from bulkdash.ui.guard import Guarded

#: The longest message shown (server text can be anything): one line of a wide terminal, give or take.
MAX_MESSAGE = 300


class Banner(Guarded, Static):
    """Hidden until ``show``; ``severity`` picks the colour (``-error`` / ``-warning`` / ``-info``)."""

    DEFAULT_CLASSES = "banner"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._message = ""
        self._retry_at: float | None = None
        self._clock: Callable[[], float] | None = None
        self._ticker: Timer | None = None

    def on_mount(self) -> None:
        self._ticker = self.set_interval(1.0, self._draw, pause=True)

    def show(
        self,
        message: str,
        severity: str = "error",
        *,
        retry_at: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Show ``message``; with ``retry_at`` (a deadline on ``clock``) it ends with a countdown."""
        self._message = clip(message, MAX_MESSAGE)
        self._retry_at, self._clock = (retry_at, clock) if clock is not None else (None, None)
        self._draw()
        self.set_class(severity == "error", "-error")
        self.set_class(severity == "warning", "-warning")
        self.set_class(severity == "info", "-info")
        self.add_class("-visible")
        if self._ticker is not None:
            if self._retry_at is not None:
                self._ticker.resume()
            else:
                self._ticker.pause()

    def _draw(self) -> None:
        # markup=False on purpose: server text (error bodies) must never be read as markup.
        self.update(self._message + self._countdown())

    def _countdown(self) -> str:
        if self._retry_at is None or self._clock is None:
            return ""
        left = self._retry_at - self._clock()
        return f" — retrying in {math.ceil(left)} s" if left >= 0.5 else " — retrying now"

    def hide(self) -> None:
        self.remove_class("-visible")
        self._retry_at = None
        if self._ticker is not None:
            self._ticker.pause()

    @property
    def visible_message(self) -> str | None:
        return str(self.content) if self.has_class("-visible") else None
