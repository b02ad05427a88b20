"""Training mode: every shipped scenario pack is played in the dashboard and its checklist answered from what
the screens show.

For each pack a trainee (the Pilot) opens Scenarios (``s``), starts the pack — the simulator waits, paused,
until the trainee presses space (or executes) on the run's screen — does what the brief asks (execute, then
pause or cancel at the operation the pack names — the simulator's world holds there, "Your move"), then
reads every fact the checklist's evidence names off the widgets — the run header, the operations table (also
filtered by FAILED), the webhooks table, the API-calls table — waiting until each one shows, and only then
answers each question in the checklist (``k``), which must mark it correct.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Select

from bulkdash.contract.scenarios import Evidence, ScenarioSummary
from bulkdash.model.training import Training
from bulkdash.session import EmbeddedOptions, Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.checklist import ChecklistScreen
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.screens.scenarios import READ_ONLY_START, ScenariosScreen
from bulkdash.ui.widgets.brief import Brief
from bulkdash.ui.widgets.ops_table import OpsTable
from bulkdash.ui.widgets.webhook_table import WebhookTable
from simulator.scenarios import get_scenario, list_scenarios
from tests.ui.helpers import SIZE, connected, notes, until

FINAL = {"COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED"}


def training_app(**kwargs: object) -> BulkdashApp:
    async def connect() -> Session:
        return await Session.embedded(
            EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off", transaction_webhooks=True)
        )

    app = BulkdashApp(connect, token="t", start="scenarios", **kwargs)  # type: ignore[arg-type]
    # Each pack at its headless pace (its op delay as it is), not the slower one a trainee gets by default.
    app.service.scenario_speed = 1.0
    return app


def plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


# --- reading the screens ------------------------------------------------------------------------------


def run_facts(run: RunScreen) -> dict[str, str]:
    """run.* and op.N.* as the run screen shows them (header texts and the table's cells)."""
    title = plain(run.query_one("#run-title").content)
    counts = plain(run.query_one("#run-counts").content)
    facts: dict[str, str] = {}
    if m := re.search(
        r"\b(COMPLETED|PARTIALLY_COMPLETED|FAILED|CANCELLED|RUNNING|PAUSED|SUBMITTED)\b", title
    ):
        facts["run.status"] = m.group(1)
    if m := re.search(r"\b(ON_FAILURE_\w+)\b", title):
        facts["run.mode"] = m.group(1)
    for status, value in re.findall(r"(completed|failed|cancelled) (\d+)", counts):
        facts[f"run.{status.upper()}"] = value
    table = run.query_one(OpsTable)
    for row_key in table.rows:
        seq, _method, _path, status, response = (plain(c) for c in table.get_row(row_key))
        facts[f"op.{seq}.status"] = status
        facts[f"op.{seq}.response"] = response
    return facts


def failed_responses(run: RunScreen) -> set[str]:
    table = run.query_one(OpsTable)
    return {plain(table.get_row(key)[4]) for key in table.rows}


def webhook_facts(table: WebhookTable) -> dict[str, str]:
    counts = dict.fromkeys(("end", "progress", "transactions", "rejected", "duplicates"), 0)
    for key in table.rows:
        _time, event, _bulk, _status, _done, _sig, dup, http = (plain(c) for c in table.get_row(key))
        if event == "bulk end":
            counts["end"] += 1
        elif event == "bulk progress":
            counts["progress"] += 1
        else:
            counts["transactions"] += 1
        counts["rejected"] += not http.startswith("2")
        counts["duplicates"] += bool(dup.strip())
    return {f"webhooks.{k}": str(v) for k, v in counts.items()}


def api_facts(table: DataTable) -> dict[str, str]:
    statuses = [plain(table.get_row(key)[3]) for key in table.rows]
    return {
        "api.429": str(sum(s == "429" for s in statuses)),
        "api.5xx": str(sum(s in {"500", "502", "503", "504"} for s in statuses)),
    }


async def settle(pilot: Pilot, facts: list[Evidence], read: Callable[[], dict[str, str]], where: str) -> None:
    """Wait until every fact in ``facts`` shows on the current screen (they arrive live)."""

    def shown() -> bool:
        seen = read()
        return all(f.holds(seen.get(f.fact)) for f in facts)

    try:
        await until(pilot, shown, timeout=20, what=where)
    except AssertionError:
        seen = read()
        missing = {f.fact: (f.value, seen.get(f.fact)) for f in facts if not f.holds(seen.get(f.fact))}
        app = pilot.app
        assert isinstance(app, BulkdashApp) and app.session is not None and app.session.simulator is not None
        # What the simulator sent (each event's attempts) and what the receiver recorded, to tell a delivery
        # fault from a display fault.
        sent = await app.session.simulator.engine.store.list_webhooks(None)
        outbox = [(e["path"], e.get("deliveryStatus"), e.get("attempts")) for e in sent]
        received = [(r.id, r.path, r.bulk_status, r.http_status, r.duplicate_of) for r in app.webhooks]
        raise AssertionError(
            f"{where}: not shown (expected, seen): {missing}\noutbox: {outbox}\nreceived: {received}"
        ) from None


# --- playing a pack -----------------------------------------------------------------------------------


async def start(pilot: Pilot, name: str) -> tuple[BulkdashApp, RunScreen, Training]:
    app = await connected(pilot)
    scenarios = app.screen
    assert isinstance(scenarios, ScenariosScreen)
    table = scenarios.query_one("#scenarios-table", DataTable)
    await until(pilot, lambda: table.row_count == len(list_scenarios()), what="the scenario list")
    await until(pilot, lambda: app.focused is table, what="the list to have the focus")  # focus() is deferred
    await pilot.press(*["down"] * table.get_row_index(name))  # the arrows, as a trainee would
    assert table.cursor_row == table.get_row_index(name)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RunScreen), what="the scenario's run")
    run = app.screen
    assert isinstance(run, RunScreen) and app.training is not None
    assert run.bulk_id == app.training.bulk_id and run.query(Brief)
    # The run waits for the trainee, who is on its screen now, and the brief says how to start it: the
    # execute for a bulk set-up left SUBMITTED (space would not start it), space otherwise.
    how = "▶ Press space to start" if app.training.executed else "▶ Execute the bulk (x) to start"
    assert app.training.phase == "ready" and how in plain(run.query_one(Brief).content)
    return app, run, app.training


def brief_says(run: RunScreen, text: str) -> bool:
    return text in plain(run.query_one(Brief).content)


async def play(pilot: Pilot, app: BulkdashApp, run: RunScreen, name: str) -> None:
    """Do what the brief asks: start the run (space), or for a pack the trainee drives, execute (which starts
    it), then pause/resume or cancel when the world holds at the pack's operation ("Your move")."""
    scenario = get_scenario(name)
    assert scenario is not None
    training = app.training
    assert training is not None
    if not scenario.execute.by_client:
        await pilot.press("space")
        await until(pilot, lambda: training.phase == "playing", what="the run started")
        return
    assert app.session is not None
    at = scenario.run.pause_at or scenario.run.cancel_at
    await until(pilot, lambda: run.model.details is not None, what="the bulk's details")
    await pilot.press("x")  # the dialog comes filled in with the scenario's options
    await until(pilot, lambda: app.screen.id == "execute", what="the execute dialog")
    interval = scenario.execute.webhook_interval
    assert app.screen.query_one("#execute-interval").value == ("" if interval is None else str(interval))
    assert app.screen.query_one("#mode-stop").value == (scenario.execute.mode == "ON_FAILURE_STOP")
    app.screen.query_one("#execute-interval").focus()
    await pilot.press("enter")
    await until(pilot, lambda: app.screen.id != "execute", what="the dialog to close")
    await until(pilot, lambda: training.phase != "ready", what="the run started by the execute")
    if at is None:
        return
    await until(pilot, lambda: training.phase == "your move", what=f"the hold at operation {at}")
    await until(pilot, lambda: brief_says(run, "Your move:"), what="the prompt in the brief")
    if scenario.run.pause_at:
        assert brief_says(run, f"Your move: pause the bulk now (p). The world holds at operation {at}")
        await pilot.press("p")
        await until(pilot, lambda: run.model.status == "PAUSED", what="PAUSED on screen")
        assert training.phase == "playing" and training.moved
        await pilot.press("r")
    else:
        assert brief_says(run, f"Your move: cancel the bulk now (c). The world holds at operation {at}")
        await pilot.press("c")
        await until(pilot, lambda: app.screen.id != run.id, what="the confirm dialog")
        await pilot.press("y")  # the confirm dialog: yes, cancel the bulk


async def read_evidence(pilot: Pilot, app: BulkdashApp, run: RunScreen, training: Training) -> None:
    """Read every fact the checklist names off the screens, each screen opened the way a trainee would."""
    facts = [f for q in training.questions for f in q.facts()]
    await until(pilot, lambda: run.model.status in FINAL, timeout=30, what="a final status")
    on_run = [f for f in facts if f.fact.startswith(("run.", "op."))]
    await settle(pilot, on_run, lambda: run_facts(run), "run screen")
    failed = [f for f in facts if f.fact == "failed.response"]
    if failed:
        await pilot.press("f")  # the status filter, as the hint says
        run.query_one("#run-status", Select).value = "FAILED"
        await until(pilot, lambda: run.model.status_filter == "FAILED", what="the FAILED filter")
        await settle(
            pilot,
            failed,
            lambda: {"failed.response": "/".join(sorted(failed_responses(run)))},
            "FAILED filter",
        )
    # The other screens, opened with their keys: the webhooks table, the API calls table.
    for prefix, key, screen_id, widget, reader in (
        ("webhooks.", "w", "webhooks", WebhookTable, webhook_facts),
        ("api.", "l", "api-log", DataTable, api_facts),
    ):
        wanted = [f for f in facts if f.fact.startswith(prefix)]
        if not wanted:
            continue
        await pilot.press(key)
        await until(
            pilot, lambda screen_id=screen_id: app.screen.id == screen_id, what=f"the {screen_id} screen"
        )
        table = app.screen.query_one(widget)
        await settle(pilot, wanted, lambda table=table, reader=reader: reader(table), f"{screen_id} screen")
        await pilot.press("escape")


async def answer_checklist(pilot: Pilot, app: BulkdashApp, training: Training) -> None:
    await pilot.press("k")
    await until(pilot, lambda: isinstance(app.screen, ChecklistScreen), what="the checklist")
    checklist = app.screen
    assert isinstance(checklist, ChecklistScreen)
    for i, question in enumerate(training.questions):
        checklist.query_one("#checklist-questions").highlighted = i  # type: ignore[attr-defined]
        await until(pilot, lambda i=i: checklist.current == i, what=f"question {i + 1}")
        if i == 0:
            await pilot.press("h")
            assert question.hint in plain(checklist.query_one("#question-hint").content)
        # The choices are shuffled per trainee: press the number the right choice is shown under.
        await pilot.press(str(training.choice_order(i).index(question.correct) + 1))
        await until(pilot, lambda i=i: i in training.verdicts, what=f"the verdict on question {i + 1}")
        verdict_shown = plain(checklist.query_one("#question-verdict").content)
        assert verdict_shown.startswith("✓ Correct") and question.answer in verdict_shown
    assert training.finished and training.score == len(training.questions) and training.hints == {0}
    assert any("Checklist done" in n for n in notes(app))


@pytest.mark.parametrize("name", [s.name for s in list_scenarios()])
async def test_each_packs_checklist_is_answered_from_the_dashboard(name: str) -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, name)
        assert training.scenario.name == name and training.questions
        await play(pilot, app, run, name)
        await read_evidence(pilot, app, run, training)
        await answer_checklist(pilot, app, training)


# --- the checklist's own behaviour ----------------------------------------------------------------------


def summary(**kw: object) -> ScenarioSummary:
    base = {
        "name": "demo",
        "title": "Demo",
        "kind": "transfers",
        "size": 3,
        "mode": "ON_FAILURE_STOP",
        "narrative": "n",
        "questions": [
            {
                "question": "Which?",
                "choices": ["a", "b", "c"],
                "correct": 2,
                "hint": "look",
                "answer": "because",
                "evidence": ["op.2.status = FAILED", "api.429 >= 1"],
            }
        ],
    }
    return ScenarioSummary.model_validate({**base, **kw})


def test_a_wrong_answer_is_explained_and_the_first_answer_counts() -> None:
    training = Training(summary(), "1", True)
    wrong = training.answer(0, 3)
    assert not wrong.correct and wrong.right == 2 and wrong.right_text == "b"
    assert wrong.where == [
        "operation 2's status (run screen, operations table): FAILED",
        "429 Too Many Requests answers (API calls screen (l)): at least 1",
    ]
    assert training.answer(0, 2) is wrong and training.score == 0 and training.finished
    with pytest.raises(ValueError):
        Training(summary(), "1", True).answer(0, 4)


def test_choices_are_shuffled_per_trainee_and_checked_by_identity() -> None:
    questions = [
        {**summary().questions[0].model_dump(), "choices": ["a", "b", "c", "d", "e"], "correct": 4}
    ] * 8
    scenario = summary(questions=questions)
    one, again = Training(scenario, "1000001", True), Training(scenario, "1000001", True)
    orders = [one.choice_order(i) for i in range(8)]
    assert orders == [again.choice_order(i) for i in range(8)]  # deterministic for one seed
    assert all(sorted(order) == [1, 2, 3, 4, 5] for order in orders)
    assert len({tuple(o) for o in orders}) > 1 and {o.index(4) for o in orders} != {3}  # not all in place
    other = Training(scenario, "1000001", True, seed=7)
    assert [other.choice_order(i) for i in range(8)] != orders  # another trainee, another order
    # The check uses the choice's identity: wherever "d" is shown, choosing it is right.
    position = orders[0].index(4) + 1
    assert one.shown_choice(0, position) == 4
    verdict = one.answer(0, one.shown_choice(0, position))
    assert verdict.correct and verdict.right == 4 and verdict.right_text == "d"
    assert verdict.right_shown == position
    wrong = one.answer(1, one.shown_choice(1, 1 if orders[1][0] != 4 else 2))
    assert not wrong.correct and wrong.right_shown == orders[1].index(4) + 1
    with pytest.raises(ValueError):
        one.shown_choice(2, 6)


@pytest.mark.parametrize(
    ("evidence", "problem"),
    [
        ("op.0.status = FAILED", "unknown fact"),
        ("run.colour = red", "unknown fact"),
        ("api.429 >= some", "whole number"),
        ("run.status", "expected 'FACT = VALUE'"),
    ],
)
def test_bad_evidence_is_refused_by_name(evidence: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Evidence.parse(evidence)


@pytest.mark.parametrize(
    ("evidence", "words"),
    [
        ("run.status = FAILED", "the bulk's status (run screen header): FAILED"),
        ("run.CANCELLED = 7", "the CANCELLED count (run screen header): 7"),
        ("op.12.response = X", "operation 12's Response column (run screen, operations table): X"),
        (
            "failed.response = E",
            "the Response column of every failed operation (run screen filtered to FAILED (f)): E",
        ),
        ("webhooks.duplicates = 2", "duplicate deliveries (Dup ⧉) (webhooks screen (w)): 2"),
        ("api.5xx >= 1", "500/503 answers (API calls screen (l)): at least 1"),
    ],
)
def test_evidence_says_what_and_where_in_words(evidence: str, words: str) -> None:
    assert Evidence.parse(evidence).describe() == words


async def test_checklist_marks_a_wrong_answer_and_shows_where_to_look() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, "stop-on-first-failure")
        await pilot.press("space")
        await until(pilot, lambda: run.model.status in FINAL, what="the end of the run")
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, ChecklistScreen), what="the checklist")
        order = training.choice_order(0)
        wrong = next(n for n, choice in enumerate(order, 1) if choice != 1)  # "Operation 5" is right
        right_shown = order.index(1) + 1
        await pilot.press(str(wrong))
        shown = plain(app.screen.query_one("#question-verdict").content)
        assert shown.startswith(f"✗ Not quite: the answer is {right_shown}")
        assert "operation 5's status (run screen, operations table): FAILED" in shown
        assert training.progress() == "1/3 answered · 0 correct"
        # Another question, answered with the arrows and enter instead of its number.
        await pilot.press("shift+tab", "down")  # the question list, then question 2
        await until(pilot, lambda: app.screen.current == 1, what="question 2")
        at = training.choice_order(1).index(3)  # 3. CANCELLED: never attempted, wherever it is shown
        await pilot.press("tab", *["down"] * (at + 1), "enter")  # the first down highlights the first
        await until(pilot, lambda: 1 in training.verdicts, what="the second verdict")
        assert training.verdicts[1].correct and training.verdicts[1].chosen == 3
        await pilot.press("escape")
        assert isinstance(app.screen, RunScreen)
        brief = app.screen.query_one(Brief)
        assert "2/3 answered · 1 correct" in plain(brief.content)
        await pilot.press("b")
        assert not brief.display


async def test_scenarios_and_presenter_controls_are_hidden_read_only() -> None:
    app = training_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = app.screen
        assert isinstance(screen, ScenariosScreen)
        table = screen.query_one("#scenarios-table", DataTable)
        await until(pilot, lambda: table.row_count > 0, what="the scenario list")
        # The screen says what read-only allows, where "Start one" would be (it cannot start one).
        intro = plain(screen.query_one("#scenarios-intro").content)
        assert intro.startswith("Read-only:") and "Start one" not in intro
        assert "without --read-only" in intro
        assert READ_ONLY_START in plain(screen.query_one("#scenario-report").content)
        assert "enter: start" not in plain(screen.query_one("#scenario-report").content)
        await pilot.press("enter")
        await pilot.pause()
        assert app.training is None and not isinstance(app.screen, RunScreen)
        assert READ_ONLY_START in notes(app)  # enter explains, rather than only "read-only mode"
        for key in ("P", "full_stop", "plus", "minus", "exclamation_mark"):
            await pilot.press(key)
        await pilot.pause()
        assert app.presenter_state is None
        active = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert not active & {
            "start_scenario",
            "world_pause",
            "world_step",
            "speed_up",
            "speed_down",
            "fault_now",
        }
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not {"Pause / resume the world", "Step one operation", "Trigger the next fault now"} & set(
            titles
        )


async def test_presenter_controls_pause_step_fault_and_speed() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("P")  # pause the world before the scenario starts: nothing may run
        await until(pilot, lambda: (app.presenter_state or {}).get("paused") is True, what="world paused")
        app, run, _training = await start(pilot, "all-succeed")
        await until(pilot, lambda: run.model.status == "RUNNING", what="the bulk RUNNING")
        assert run.model.attempted == 0
        bar = plain(run.query_one("#run-status-bar").content)
        assert "⏸ world paused 1×" in bar
        for n in (1, 2):
            await pilot.press("full_stop")  # one operation per step
            await until(pilot, lambda n=n: run.model.attempted == n, what=f"{n} operation(s) done")
        await pilot.press("exclamation_mark")  # the next operation fails...
        pending = lambda: (app.presenter_state or {}).get("faultPending") is True  # noqa: E731
        await until(pilot, pending, what="fault pending")
        await pilot.press("full_stop")  # ...and it is operation 3
        await until(pilot, lambda: run.model.counts.get("FAILED") == 1, what="the forced failure")
        assert run.model.attempted == 3
        await pilot.press("plus")
        await until(pilot, lambda: (app.presenter_state or {}).get("speed") == 2.0, what="speed 2×")
        await pilot.press("minus", "minus")
        await until(pilot, lambda: (app.presenter_state or {}).get("speed") == 0.5, what="speed 0.5×")
        await pilot.press("P")  # play on
        await until(pilot, lambda: run.model.status == "PARTIALLY_COMPLETED", what="the end of the run")
        assert run.model.counts["COMPLETED"] == 19
        await until(pilot, lambda: run.query_one(OpsTable).row_count == 20, what="the whole page")
        assert run_facts(run)["op.3.status"] == "FAILED"
        assert any("World running · speed 0.5×" in n for n in notes(app))
        # On a real endpoint there is no presenter: the controls leave the bindings and the palette.
        assert app.session is not None
        app.session.sim_root = None
        assert not app.check_action("world_pause", ()) and not app.check_action("scenarios", ())


async def test_a_refused_execute_is_explained_and_ending_clears_the_faults() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert app.session is not None and app.session.simulator is not None
        # The pack's own two paused bulks then take both places, so set-up's execute is refused.
        app.session.simulator.engine.settings.max_active_bulks = 2
        app, _run, second = await start(pilot, "too-many-requests-409")
        assert not second.executed and second.execute_refused == "TOO_MANY_REQUESTS"
        await until(
            pilot, lambda: any("submitted but not executed" in n for n in notes(app)), what="the note"
        )

        assert app.session is not None and app.session.simulator is not None
        faults = app.session.simulator.engine.faults
        assert "1001" in faults.plans
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "End the scenario" in titles
        app.action_end_scenario()
        await until(pilot, lambda: "1001" not in faults.plans, what="the scenario's plan cleared")
        assert app.training is None and not app.check_action("checklist", ())


# --- the run waits for the trainee ------------------------------------------------------------------------


async def test_a_scenario_does_not_start_before_its_run_screen_and_space_starts_it() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, "all-succeed")
        assert app.session is not None and app.session.simulator is not None
        engine = app.session.simulator.engine
        # Set-up executed the bulk, but the world waits, paused, with operation 1 held: nothing has run,
        # though the run screen is up and has read the bulk.
        await until(pilot, lambda: run.model.status == "RUNNING", what="the bulk on screen")
        live = engine.bulks[int(run.bulk_id)]
        assert engine.presenter.paused and engine.presenter.waiting == 1 and live.row.completed == 0
        assert run.model.attempted == 0 and training.waiting
        assert "⏸ world paused" in plain(run.query_one("#run-status-bar").content)
        brief = run.query_one(Brief)
        assert "▶ Press space to start" in plain(brief.content) and brief.has_class("-waiting")
        assert any("press space to start" in n for n in notes(app))
        await pilot.press("space")
        await until(pilot, lambda: run.model.status == "COMPLETED", what="the run, once started")
        assert training.phase == "playing" and not engine.presenter.paused
        assert "Press space" not in plain(brief.content) and not brief.has_class("-waiting")


async def test_the_first_lifecycle_key_starts_a_scenario_the_trainee_executes() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, "cancel-mid-run")
        assert "▶ Execute the bulk (x) to start" in plain(run.query_one(Brief).content)
        assert "space" not in plain(run.query_one(Brief).content)  # space does not start a SUBMITTED bulk
        await until(pilot, lambda: any("execute it (x) to start" in n for n in notes(app)), what="the note")
        await until(pilot, lambda: run.model.details is not None, what="the bulk's details")
        await pilot.press("x")
        await until(pilot, lambda: app.screen.id == "execute", what="the execute dialog")
        app.screen.query_one("#execute-interval").focus()
        await pilot.press("enter")
        await until(pilot, lambda: training.phase != "ready", what="the run started by the execute")
        # The world played: the bulk ran up to the brief's move (cancel while operation 5 runs).
        await until(pilot, lambda: training.phase == "your move", what="the hold at operation 5")
        assert app.session is not None and app.session.simulator is not None
        assert app.session.simulator.engine.bulks[int(run.bulk_id)].row.completed == 4
        assert brief_says(run, "Your move: cancel the bulk now (c)")


async def test_the_world_holds_at_the_briefs_move_with_a_prompt_and_space_lets_it_go_on() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, "pause-then-resume")
        assert training.move is not None and (training.move.action, training.move.operation) == ("pause", 6)
        await play_until_move(pilot, app, run)
        assert app.session is not None and app.session.simulator is not None
        engine = app.session.simulator.engine
        live = engine.bulks[int(run.bulk_id)]
        # Held at operation 6: five done, the sixth RUNNING, the whole world paused until the trainee acts.
        assert live.row.completed == 5 and live.in_flight == 6 and engine.presenter.paused
        assert engine.presenter.describe()["heldAt"] == {"bulkId": run.bulk_id, "operation": 6}
        prompt = "Your move: pause the bulk now (p). The world holds at operation 6"
        assert brief_says(run, prompt) and any(prompt in n for n in notes(app))
        await pilot.press("space")  # not the brief's move: the trainee lets it run on
        await until(pilot, lambda: run.model.status == "COMPLETED", what="the run, let go on")
        assert training.phase == "playing" and training.moved and not brief_says(run, "Your move")
        assert run.model.counts.get("COMPLETED") == 12


async def play_until_move(pilot: Pilot, app: BulkdashApp, run: RunScreen) -> None:
    """Execute the trainee's bulk (which starts the run) and wait for the world to hold at the move."""
    training = app.training
    assert training is not None
    await until(pilot, lambda: run.model.details is not None, what="the bulk's details")
    await pilot.press("x")
    await until(pilot, lambda: app.screen.id == "execute", what="the execute dialog")
    app.screen.query_one("#execute-interval").focus()
    await pilot.press("enter")
    await until(pilot, lambda: training.phase == "your move", what="the hold at the brief's move")
    await until(pilot, lambda: brief_says(run, "Your move:"), what="the prompt in the brief")


def test_the_training_model_follows_the_wait_and_the_move() -> None:
    from bulkdash.model.training import Move

    training = Training(summary(byClient=True), "7", False, phase="ready", move=Move("cancel", 4))
    changes: list[str] = []
    training.listeners.append(lambda: changes.append(training.phase))
    assert training.waiting and "▶ Execute the bulk (x) to start" in (training.prompt() or "")
    assert not training.observe({"paused": True, "heldAt": None})  # still waiting
    assert training.acted("execute") and training.phase == "playing" and training.awaits_hold
    assert not training.observe({"paused": True, "heldAt": {"bulkId": "8", "operation": 4}})  # another's
    assert training.observe({"paused": True, "heldAt": {"bulkId": "7", "operation": 4}})
    assert training.prompt() == (
        "Your move: cancel the bulk now (c). The world holds at operation 4 until you act "
        "(space lets it run on)."
    )
    assert not training.acted("resume") and training.phase == "your move"  # not the move
    assert training.acted("cancel") and training.moved and training.prompt() is None
    assert not training.observe({"paused": False, "heldAt": None}) and not training.awaits_hold
    assert changes == ["playing", "your move", "playing"]
    assert Training(summary(), "1", True).phase == "playing"  # not asked to wait: as before
