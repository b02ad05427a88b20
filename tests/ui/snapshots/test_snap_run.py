"""Snapshots of a bulk run: running (held at an exact operation), finished with failures, filtered, and the
operation detail."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Select

from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.widgets.ops_table import OpsTable
from tests.ui.helpers import connected, execute, submit_bulk, until
from tests.ui.snapshots.conftest import SNAP_SIZE, frozen_app, settle
from tests.ui.snapshots.flows import running_bulk


async def finished_with_failures(pilot: Pilot) -> RunScreen:
    await connected(pilot)
    run = await submit_bulk(pilot, kind="transfers", size=100, fail_percent=10)
    await execute(pilot)
    table = run.query_one(OpsTable)
    await until(pilot, lambda: run.model.is_final and table.shown[100][3] == "FAILED")
    await until(pilot, lambda: "PARTIALLY_COMPLETED" in str(run.query_one("#run-title").content))
    await until(
        pilot, lambda: pilot.app.webhook_count == 1, what="the end webhook"
    )  # the status bar counts it
    # The end webhook can bring the final status before the poll that brings executionFinish.
    await until(pilot, lambda: "finished 12:00:00" in str(run.query_one("#run-times").content))
    return run


def test_run_running(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await running_bulk(pilot, cursor_row=40)

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_run_finished_with_failures(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await finished_with_failures(pilot)

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_run_filtered_failed(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        run = await finished_with_failures(pilot)
        run.query_one("#run-status", Select).value = "FAILED"
        table = run.query_one(OpsTable)
        await until(pilot, lambda: len(table.shown) == 10)

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_operation_detail(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        run = await finished_with_failures(pilot)
        run.query_one(OpsTable).move_cursor(row=9)  # operation 10: failed on the blocked card
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen.id == "operation")

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))
