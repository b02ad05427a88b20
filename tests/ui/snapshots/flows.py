"""Flows several snapshot files draw from: the bulks screen with two bulks, and a run held RUNNING."""

from __future__ import annotations

from textual.pilot import Pilot

from bulkdash.ui.screens.home import HomeScreen
from bulkdash.ui.widgets.bulks_table import BulksTable
from bulkdash.ui.widgets.ops_table import OpsTable
from tests.ui.helpers import Gate, connected, execute, submit_bulk, until


async def home_with_two_bulks(pilot: Pilot, *, size: int) -> None:
    """A finished bulk of ``size`` transfers (10 % failing) and a SUBMITTED one; the cursor on the SUBMITTED
    one (x and c offered)."""
    app = await connected(pilot)
    run = await submit_bulk(pilot, kind="transfers", size=size, fail_percent=10)
    await execute(pilot)
    await until(pilot, lambda: run.model.is_final)
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(app.screen, HomeScreen))
    await submit_bulk(pilot, kind="card_block", size=3, fail_percent=0)
    await pilot.press("escape")
    await until(pilot, lambda: isinstance(app.screen, HomeScreen))
    table = app.home.query_one(BulksTable)

    def first_shown_final() -> bool:
        row = table.shown.get("1000001")
        return (
            len(table.shown) == 2
            and row is not None
            and "PARTIALLY_COMPLETED" in row
            and row[4].endswith("100%")
        )

    await until(pilot, first_shown_final)
    table.move_cursor(row=0)


async def running_bulk(pilot: Pilot, *, cursor_row: int) -> None:
    """A bulk of 100 transfers held RUNNING at operation 41 (p and c offered, not x or r)."""
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
    table.move_cursor(row=cursor_row)
