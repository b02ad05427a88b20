"""The life of a bulk through the dashboard: submit → execute → pause → resume → final state; cancel;
ON_FAILURE_STOP; refusals shown with their errorCode. Each test runs a fresh embedded simulator."""

from __future__ import annotations

from bulkdash.service.actions import BulkAction
from bulkdash.ui import flows
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.widgets.banner import Banner
from bulkdash.ui.widgets.ops_table import OpsTable
from bulkdash.ui.widgets.run_header import RunHeader
from tests.ui.helpers import SIZE, Gate, connected, execute, make_app, notes, submit_bulk, until


async def test_submit_execute_pause_resume_to_final_state() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=100, fail_percent=10)
        assert run.bulk_id == "1000001"
        assert run.model.status == "SUBMITTED"
        table = run.query_one(OpsTable)
        assert table.row_count == 100
        rebuilds = table.rebuilds

        assert app.session is not None
        gate = Gate(app.session, at=41)
        await execute(pilot)
        await until(pilot, lambda: gate.reached and run.model.attempted == 40, what="40 attempted")
        await until(pilot, lambda: table.shown.get(41, ("",) * 4)[3] == "RUNNING", what="row 41 RUNNING")
        assert run.model.status == "RUNNING"

        await pilot.press("p")
        await until(pilot, lambda: gate.stop_requested(run.bulk_id), what="the pause to reach the simulator")
        gate.release()
        await until(pilot, lambda: run.model.status == "PAUSED", what="PAUSED")
        await until(pilot, lambda: "Paused: bulk 1000001" in notes(app))
        paused_at = run.model.attempted
        assert paused_at == 41

        await pilot.press("r")
        await until(pilot, lambda: run.model.is_final, what="the final state")
        assert run.model.status == "PARTIALLY_COMPLETED"
        assert run.model.counts["COMPLETED"] == 90 and run.model.counts["FAILED"] == 10
        # The final state is announced and kept on screen.
        await until(pilot, lambda: "Bulk 1000001 PARTIALLY_COMPLETED: 90 completed, 10 failed" in notes(app))
        await until(pilot, lambda: table.shown.get(100, ("",) * 4)[3] in ("COMPLETED", "FAILED"))
        assert "PARTIALLY_COMPLETED" in str(run.query_one("#run-title").content)
        # Polls updated cells in place: the table was never rebuilt after the first page.
        assert table.rebuilds == rebuilds
        assert table.cell_updates > 0
        assert table.shown[10][3] == "FAILED" and table.shown[10][4] == "DESTINATION_INSTRUMENT_BLOCKED"
        assert isinstance(app.screen, RunScreen) and run.query_one(RunHeader) is not None


async def test_cancel_asks_first_then_cancels_the_rest() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=100, fail_percent=0)
        assert app.session is not None
        gate = Gate(app.session, at=31)
        await execute(pilot)
        await until(pilot, lambda: gate.reached and run.model.attempted == 30, what="30 attempted")

        await pilot.press("c")
        await until(pilot, lambda: app.screen.id == "confirm", what="the confirmation")
        await pilot.press("n")  # changed my mind: nothing is sent
        await until(pilot, lambda: app.screen is run)
        assert not gate.stop_requested(run.bulk_id)

        await pilot.press("c")
        await until(pilot, lambda: app.screen.id == "confirm")
        await pilot.press("y")
        await until(pilot, lambda: gate.stop_requested(run.bulk_id), what="the cancel to reach the simulator")
        gate.release()
        await until(pilot, lambda: run.model.status == "CANCELLED", what="CANCELLED")
        assert run.model.counts["COMPLETED"] == 31 and run.model.counts["CANCELLED"] == 69
        await until(pilot, lambda: "Bulk 1000001 CANCELLED: 31 completed, 69 cancelled" in notes(app))
        table = run.query_one(OpsTable)
        await until(pilot, lambda: table.shown[100][3] == "CANCELLED", what="row 100 CANCELLED")


async def test_on_failure_stop_stops_at_the_first_failure() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=50, fail_percent=10)  # items 10, 20, … fail
        await execute(pilot, stop=True)
        await until(pilot, lambda: run.model.is_final, what="the final state")
        assert run.model.details is not None and run.model.details.mode == "ON_FAILURE_STOP"
        assert run.model.counts == {
            "SUBMITTED": 0,
            "RUNNING": 0,
            "COMPLETED": 9,
            "FAILED": 1,
            "CANCELLED": 40,
        }
        table = run.query_one(OpsTable)
        await until(pilot, lambda: table.shown[11][3] == "CANCELLED", what="the cancelled rows")
        assert table.shown[10][3] == "FAILED"
        assert "ON_FAILURE_STOP" in str(run.query_one("#run-title").content)


def refused(app: BulkdashApp, verb: str) -> str:
    """The last notice refusing ``verb`` on bulk 1000001 (its sentence ends with the errorCode), or ``""``."""
    said = [n for n in notes(app) if n.startswith(f"Cannot {verb} bulk 1000001: ")]
    return said[-1] if said else ""


async def test_refused_actions_say_why() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=5, fail_percent=0)
        # A SUBMITTED bulk cannot be paused or resumed, so p and r are not offered (test_actions_by_state);
        # sent anyway (the dashboard's view older than the bulk's state), the server's refusal says why.
        flows.act(app, run.bulk_id, BulkAction.PAUSE)
        await until(pilot, lambda: any("Cannot pause" in n for n in notes(app)), what="the refusal")
        pause = refused(app, "pause")
        assert "needs it RUNNING" in pause and pause.endswith("[INVALID_STATE]")
        flows.act(app, run.bulk_id, BulkAction.RESUME)
        await until(pilot, lambda: refused(app, "resume").endswith("[INVALID_STATE]"))
        await execute(pilot)
        await until(pilot, lambda: run.model.is_final)
        flows.act(app, run.bulk_id, BulkAction.EXECUTE)  # twice: the server says no
        await until(pilot, lambda: refused(app, "execute").endswith("[INVALID_STATE]"))
        assert run.query_one(Banner).visible_message is None


async def test_execute_dialog_rejects_a_bad_interval_and_sends_a_good_one() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=20, fail_percent=0)
        await pilot.press("x")
        await until(pilot, lambda: app.screen.id == "execute")
        dialog = app.screen
        dialog.query_one("#execute-interval").value = "0"
        await pilot.click("#execute-go")
        await pilot.pause()
        assert app.screen is dialog
        assert "≥ 1" in str(dialog.query_one("#execute-error").content)
        field = dialog.query_one("#execute-interval")
        field.value = "5"
        field.focus()
        await pilot.press("enter")  # submitting the field executes too
        await until(pilot, lambda: run.model.status == "COMPLETED", what="COMPLETED")
        # webhookInterval 5 of 20 → progress webhooks every 5 operations, then the end webhook.
        await until(pilot, lambda: app.webhook_count >= 4, what="the webhooks")


async def test_enter_pressed_three_times_in_the_execute_dialog_executes_once() -> None:
    """A user's trial in a real terminal: Enter pressed again before the dialog's dismissal took effect ran
    its callback again and popped the run page under it; a third raised ScreenStackError. Submitted three
    times within one turn of the loop (as keys arriving together are), a dialog is dismissed once."""
    app = make_app(op_delay_ms=50)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=20, fail_percent=0)
        calls: list[str] = []
        assert app.session is not None
        app.session.on_call(lambda call: calls.append(f"{call.method} {call.path}"))
        await pilot.press("x")
        await until(pilot, lambda: app.screen.id == "execute", what="the execute dialog")
        dialog = app.screen
        for _ in range(3):
            dialog._go()  # type: ignore[attr-defined]  # what each Enter in the interval field calls
        await until(pilot, lambda: run.model.status == "RUNNING" or run.model.is_final, what="running")
        await pilot.pause()
        assert app.screen is run and not any("Error" in n for n in notes(app)), notes(app)
        assert sum(c.endswith("/execute") for c in calls) == 1, calls


async def test_pause_and_resume_pressed_together_pause_then_resume() -> None:
    """A user's trial: p r sent in one burst ended PAUSED: r was dropped as a RUNNING bulk's key that does not
    apply, though the pause before it was on its way. The keys follow what the actions asked for will do."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=100)
        assert app.session is not None
        gate = Gate(app.session, at=11)
        await execute(pilot)
        await until(pilot, lambda: gate.reached, what="operation 11 in flight")
        await pilot.press("p", "r")  # the pause waits for operation 11; the resume queues behind it
        await until(pilot, lambda: gate.stop_requested(run.bulk_id), what="the pause to reach the simulator")
        gate.release()
        await until(pilot, lambda: run.model.is_final, what="the final state, not PAUSED")
        actions = [c.path.rsplit("/", 1)[-1] for c in app.session.calls if c.method == "POST"]
        assert actions[-2:] == ["pause", "resume"], actions
        assert not [n for n in notes(app) if n.startswith("Cannot")]
