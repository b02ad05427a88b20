"""Snapshots of training mode: the Scenarios list, a scenario's run with its brief, and the checklist."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable

from bulkdash.session import EmbeddedOptions, Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.checklist import ChecklistScreen
from bulkdash.ui.screens.run import RunScreen
from tests.ui.helpers import connected, until
from tests.ui.snapshots.conftest import SNAP_SIZE, quiet, settle


def frozen_training_app() -> BulkdashApp:
    async def connect() -> Session:
        return await Session.embedded(
            EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off", transaction_webhooks=True)
        )

    app = BulkdashApp(connect, frozen=True, token="t", start="scenarios")
    app.service.scenario_speed = 1.0  # each pack at its headless pace, not a trainee's
    return quiet(app)


async def scenarios_listed(pilot: Pilot) -> DataTable:
    await connected(pilot)
    table = pilot.app.screen.query_one("#scenarios-table", DataTable)
    await until(pilot, lambda: table.row_count > 0, what="the scenario list")
    return table


async def run_of(pilot: Pilot, name: str) -> RunScreen:
    table = await scenarios_listed(pilot)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.press("enter")
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, RunScreen), what="the run")
    run = app.screen
    assert isinstance(run, RunScreen)
    await pilot.press("space")  # the run waits for the trainee to start it
    await until(pilot, lambda: run.model.status == "PARTIALLY_COMPLETED" and len(run.model.rows) == 12)
    return run


def test_scenarios(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        table = await scenarios_listed(pilot)
        table.move_cursor(row=table.get_row_index("stop-on-first-failure"))
        await pilot.pause()

    assert snap_compare(frozen_training_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_run_with_brief(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await run_of(pilot, "stop-on-first-failure")

    assert snap_compare(frozen_training_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_checklist_after_a_hint_and_a_wrong_answer(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await run_of(pilot, "stop-on-first-failure")
        await pilot.press("k")
        await until(pilot, lambda: isinstance(pilot.app.screen, ChecklistScreen))
        await pilot.press("h", "1")
        await pilot.pause()

    assert snap_compare(frozen_training_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))
