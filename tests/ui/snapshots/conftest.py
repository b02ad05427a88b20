"""Snapshot tests of every screen (pytest-textual-snapshot): a fresh embedded simulator per snapshot, the app
in frozen mode (fixed times, no rates or request counts, no blinking cursor), a fixed terminal size, and
notifications cleared before the picture is taken.
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
    return make_app(frozen=True)


def settle(flow: Callable[[Pilot], Awaitable[None]]) -> Callable[[Pilot], Awaitable[None]]:
    """Run ``flow``, then drop the toasts (their lifetime is a clock) before the screenshot."""

    async def run_before(pilot: Pilot) -> None:
        await flow(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before
