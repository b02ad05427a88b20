"""Snapshots of the bulks and run screens in a small terminal (80×24) and a large one (160×50): the footer
fits its keys (short labels, then "? more"), and shows only the lifecycle keys the bulk's state allows."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from bulkdash.ui.screens.home import HomeScreen
from bulkdash.ui.widgets.bulks_table import BulksTable
from bulkdash.ui.widgets.ops_table import OpsTable
from tests.ui.helpers import Gate, connected, execute, submit_bulk, until
from tests.ui.snapshots.conftest import frozen_app, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


async def home_with_two_bulks(pilot: Pilot) -> None:
    """A COMPLETED bulk and a SUBMITTED one, the cursor on the SUBMITTED one (x and c offered)."""
    app = await connected(pilot)
    run = await submit_bulk(pilot, kind="transfers", size=20, fail_percent=10)
    await execute(pilot)
    await until(pilot, lambda: run.model.is_final)
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(app.screen, HomeScreen))
    await submit_bulk(pilot, kind="card_block", size=3, fail_percent=0)
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(app.screen, HomeScreen))
    table = app.home.query_one(BulksTable)
    await until(pilot, lambda: len(table.shown) == 2 and "PARTIALLY_COMPLETED" in table.shown["1000001"])
    table.move_cursor(row=0)


async def running_bulk(pilot: Pilot) -> None:
    """A bulk held RUNNING at operation 41 of 100 (p and c offered, not x or r)."""
    app = await connected(pilot)
    run = await submit_bulk(pilot, kind="transfers", size=100, fail_percent=10)
    assert app.session is not None
    gate = Gate(app.session, at=41)
    await execute(pilot)
    table = run.query_one(OpsTable)
    await until(
        pilot, lambda: gate.reached and table.shown[41][3] == "RUNNING" and table.shown[40][3] != "SUBMITTED"
    )
    await until(pilot, lambda: "RUNNING" in str(run.query_one("#run-title").content))
    table.move_cursor(row=0)


@pytest.mark.parametrize("size", SIZES)
def test_home(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(), terminal_size=size, run_before=settle(home_with_two_bulks))


@pytest.mark.parametrize("size", SIZES)
def test_run_running(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(frozen_app(), terminal_size=size, run_before=settle(running_bulk))
