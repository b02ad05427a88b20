"""Snapshots of the bulks (home) screen."""

from __future__ import annotations

from textual.pilot import Pilot

from bulkdash.ui.screens.home import HomeScreen
from bulkdash.ui.widgets.bulks_table import BulksTable
from tests.ui.helpers import connected, execute, submit_bulk, until
from tests.ui.snapshots.conftest import SNAP_SIZE, frozen_app, settle


def test_home_empty(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await connected(pilot)

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_home_with_bulks(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        app = await connected(pilot)
        run = await submit_bulk(pilot, kind="transfers", size=100, fail_percent=10)
        await execute(pilot)
        await until(pilot, lambda: run.model.is_final)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await submit_bulk(pilot, kind="card_block", size=3, fail_percent=0)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        table = app.home.query_one(BulksTable)
        await until(pilot, lambda: len(table.shown) == 2 and table.shown["1000001"][4].endswith("100%"))
        table.move_cursor(row=0)

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))
