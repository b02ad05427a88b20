"""Snapshots of the dialogs: new bulk, execute, cancel confirmation, and help."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.ui.helpers import connected, submit_bulk, until
from tests.ui.snapshots.conftest import SNAP_SIZE, frozen_app, settle


def test_new_bulk_dialog(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await connected(pilot)
        await pilot.press("n")
        await until(pilot, lambda: pilot.app.screen.id == "new-bulk")
        pilot.app.screen.query_one("#new-kind").value = "card_block"
        await pilot.pause()

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_execute_dialog(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await connected(pilot)
        await submit_bulk(pilot, size=10, fail_percent=0)
        await pilot.press("x")
        await until(pilot, lambda: pilot.app.screen.id == "execute")

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_cancel_confirmation(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await connected(pilot)
        await submit_bulk(pilot, size=10, fail_percent=0)
        await pilot.press("c")
        await until(pilot, lambda: pilot.app.screen.id == "confirm")

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_help(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await connected(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: pilot.app.screen.id == "help")

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))
