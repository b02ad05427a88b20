"""Snapshot tests of every screen (pytest-textual-snapshot): a fresh embedded simulator per snapshot, the app
in frozen mode (fixed times, no rates or request counts, no blinking cursor), a fixed terminal size, and
no toasts (``quiet``).
Update with ``pytest tests/ui/snapshots -n 0 --snapshot-update`` (one process: xdist workers do not share
the snapshot report).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from bulkdash.ui.app import BulkdashApp
from tests.ui.helpers import make_app

SNAP_SIZE = (120, 36)


def frozen_app() -> BulkdashApp:
    return quiet(make_app(frozen=True))


def quiet(app: BulkdashApp) -> BulkdashApp:
    """No toasts at all: one posted while a screen is shown stays drawn on that screen once another (a
    dialog) covers it, so whether it shows depends on when a background run screen announced its end."""
    app.notify = lambda *args, **kwargs: None  # type: ignore[method-assign]
    return app


def settle(flow: Callable[[Pilot], Awaitable[None]]) -> Callable[[Pilot], Awaitable[None]]:
    """Run ``flow``, then drop the toasts (their lifetime is a clock) before the screenshot."""

    async def run_before(pilot: Pilot) -> None:
        await flow(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before
