"""A trainee walks through three packs at the default pace, acting at human speed, and still makes every
brief's move (issue 14: "A scenario waits for its trainee").

The trainee (the Pilot) reads before each action — the scenario list, the brief, the "Your move" prompt, the
execute dialog — for ``READING_S`` of real time. That wait is the point of the test, not synchronisation
(everything else waits on conditions): the simulator's pace is real time (``asyncio.sleep`` per operation),
so only a real pause shows that the world waits for a person instead of running away from them. Before the
run waits for its trainee, "All succeed" and "Stop on the first failure" had ended before their run screen
appeared, and in "Pause, then resume" the trainee's ``p`` came after operation 6 (``INVALID_STATE``).

The packs play at their own pace (``[run] speed``, not the tests' usual headless pace), so the whole walk
takes ~20-30 s. The dashboard's request budget is lifted for it: at a person's pace three packs take ~140
requests (a 4-second run is polled at 4 Hz), past the 90 a minute the dashboard allows itself, and its polls
then slow to one in 6 s, by design — the screens would lag the world by seconds, which is not
what this test is about.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable

from bulkdash.api.budget import RequestBudget
from bulkdash.session import EmbeddedOptions, Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.screens.scenarios import ScenariosScreen
from bulkdash.ui.widgets.brief import Brief
from bulkdash.ui.widgets.ops_table import OpsTable
from tests.ui.helpers import SIZE, connected, notes, until
from tests.ui.test_training import plain

#: How long the trainee reads before acting (real seconds: see the module's docstring).
READING_S = 1.0
FINAL = {"COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED"}


def walk_app() -> BulkdashApp:
    async def connect() -> Session:
        session = await Session.embedded(
            EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off", transaction_webhooks=True)
        )
        session.client.budget = RequestBudget(((100_000, 60),))  # see the module's docstring
        return session

    # As `bulkdash train` plays them: no scenario speed set, so each pack plays at its own pace.
    app = BulkdashApp(connect, token="t", start="scenarios")
    assert app.service.scenario_speed is None
    return app


async def read(pilot: Pilot) -> None:
    """The trainee reads what is on screen before acting: a person's pace, not a condition to wait for."""
    await pilot.pause(READING_S)


def brief(run: RunScreen) -> str:
    return plain(run.query_one(Brief).content)


def op_status(run: RunScreen, seq: int) -> str | None:
    table = run.query_one(OpsTable)
    for key in table.rows:
        row = [plain(c) for c in table.get_row(key)]
        if row[0] == str(seq):
            return row[3]
    return None


async def open_pack(pilot: Pilot, app: BulkdashApp, name: str) -> RunScreen:
    """From wherever the trainee is: the scenario list (s), read it, pick ``name``, enter, read the brief.
    The run must not have moved meanwhile."""
    if not isinstance(app.screen, ScenariosScreen):
        await pilot.press("escape", "s")
    await until(pilot, lambda: isinstance(app.screen, ScenariosScreen), what="the scenarios")
    table = app.screen.query_one("#scenarios-table", DataTable)
    await until(pilot, lambda: table.row_count > 0, what="the scenario list")
    await until(pilot, lambda: app.focused is table, what="the list to have the focus")
    await read(pilot)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.press("enter")
    await until(
        pilot,
        lambda: isinstance(app.screen, RunScreen) and app.training is not None
        and app.screen.bulk_id == app.training.bulk_id,
        what=f"the run of {name}",
    )
    run = app.screen
    assert isinstance(run, RunScreen)
    await until(pilot, lambda: run.model.details is not None, what="the bulk on screen")
    await read(pilot)  # the brief
    how = "▶ Press space to start" if app.training.executed else "▶ Execute the bulk (x) to start"
    assert how in brief(run)
    assert run.model.attempted == 0 and run.model.status in ("SUBMITTED", "RUNNING")  # it waited
    return run


async def execute(pilot: Pilot, app: BulkdashApp) -> None:
    await pilot.press("x")
    await until(pilot, lambda: app.screen.id == "execute", what="the execute dialog")
    await read(pilot)  # the dialog comes filled in with the pack's options
    app.screen.query_one("#execute-interval").focus()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RunScreen), what="the dialog to close")


async def make_the_move(pilot: Pilot, app: BulkdashApp, run: RunScreen, prompt: str) -> None:
    """Wait for the world to hold at the brief's operation, read the prompt, then act on it."""
    training = app.training
    assert training is not None and training.move is not None
    await until(pilot, lambda: training.phase == "your move", timeout=20, what="the brief's move")
    await until(pilot, lambda: prompt in brief(run), what="the prompt in the brief")
    await read(pilot)  # a person notices the prompt and decides
    assert training.phase == "your move" and prompt in brief(run)  # the world still holds
    # The screen catches up with the held world at its next poll; the world itself has not moved on.
    await until(pilot, lambda: run.model.attempted == training.move.operation - 1, what="the counts")
    assert run.model.status == "RUNNING" and run.model.attempted == training.move.operation - 1
    await pilot.press(training.move.key)


async def test_a_trainee_at_human_pace_meets_every_briefs_move() -> None:
    app = walk_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)

        # 1. Pause, then resume: pause while operation 6 runs, look, resume.
        run = await open_pack(pilot, app, "pause-then-resume")
        await execute(pilot, app)
        await make_the_move(pilot, app, run, "Your move: pause the bulk now (p)")
        await until(pilot, lambda: run.model.status == "PAUSED", what="PAUSED on screen")
        await until(pilot, lambda: op_status(run, 6) == "COMPLETED", what="operation 6 finished first")
        assert run.model.counts.get("COMPLETED") == 6
        await read(pilot)  # the trainee looks at the paused bulk
        assert run.model.status == "PAUSED" and run.model.counts.get("COMPLETED") == 6
        await pilot.press("r")
        await until(pilot, lambda: run.model.status == "COMPLETED", timeout=20, what="the resumed run's end")
        assert run.model.counts.get("COMPLETED") == 12

        # 2. Cancel mid-run: cancel while operation 5 runs.
        run = await open_pack(pilot, app, "cancel-mid-run")
        await execute(pilot, app)
        await make_the_move(pilot, app, run, "Your move: cancel the bulk now (c)")
        await until(pilot, lambda: app.screen.id != run.id, what="the confirm dialog")
        await read(pilot)
        await pilot.press("y")
        await until(pilot, lambda: run.model.status == "CANCELLED", what="CANCELLED on screen")
        assert run.model.counts.get("COMPLETED") == 5 and run.model.counts.get("CANCELLED") == 7

        # 3. Stop on the first failure: set-up executes it; it waits until the trainee starts it (space).
        run = await open_pack(pilot, app, "stop-on-first-failure")
        await pilot.press("space")
        await until(pilot, lambda: run.model.status in FINAL, timeout=20, what="the run's end")
        await until(pilot, lambda: op_status(run, 5) == "FAILED", what="operation 5 on screen")
        assert run.model.status == "PARTIALLY_COMPLETED"
        assert run.model.counts.get("COMPLETED") == 4 and run.model.counts.get("CANCELLED") == 7

        # No action of the trainee's came too late, and nothing went wrong on the way.
        assert not [n for n in notes(app) if n.startswith("Cannot ")]
        assert app.caught == []
