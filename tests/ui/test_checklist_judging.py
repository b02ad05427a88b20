"""The checklist judges the run that happened (issues 14 and 15): a question whose evidence the trainee's
run contradicts "does not apply to this run" rather than being marked ✓ (after a presenter fault, say), a line
says what the presenter changed, choices holding placeholders show the run's own facts, the brief's expected
actions are checked against the API-call log (✓/✗ with a sentence), and the trainee's reply to the customer
is kept in the run's report, the model answer shown once it is sent."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import OptionList, TextArea

from bulkdash.model.training import Training
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.checklist import ChecklistScreen
from bulkdash.ui.screens.run import RunScreen
from tests.ui.helpers import SIZE, Gate, until
from tests.ui.test_training import plain, run_facts, start, training_app


def presenter(app: BulkdashApp) -> dict[str, object]:
    return app.presenter_state or {}


async def open_checklist(pilot: Pilot, app: BulkdashApp) -> ChecklistScreen:
    await pilot.press("k")
    await until(pilot, lambda: isinstance(app.screen, ChecklistScreen), what="the checklist")
    checklist = app.screen
    assert isinstance(checklist, ChecklistScreen)
    return checklist


async def answer_right(pilot: Pilot, checklist: ChecklistScreen, training: Training, index: int) -> str:
    """Answer question ``index`` with the pack's right choice; the verdict as shown."""
    checklist.query_one("#checklist-questions", OptionList).highlighted = index
    await until(pilot, lambda: checklist.current == index, what=f"question {index + 1}")
    await pilot.press(str(training.choice_order(index).index(training.questions[index].correct) + 1))
    await until(pilot, lambda: index in training.verdicts, what=f"the verdict on question {index + 1}")
    return plain(checklist.query_one("#question-verdict").content)


def question_mark(checklist: ChecklistScreen, index: int) -> str:
    option = checklist.query_one("#checklist-questions", OptionList).get_option_at_index(index)
    return plain(option.prompt)[0]


async def execute(pilot: Pilot, app: BulkdashApp, run: RunScreen) -> None:
    """x → Execute with the scenario's options (it starts the run that waits for the trainee)."""
    await until(pilot, lambda: run.model.details is not None, what="the bulk's details")
    await pilot.press("x")
    await until(pilot, lambda: app.screen.id == "execute", what="the execute dialog")
    app.screen.query_one("#execute-interval").focus()
    await pilot.press("enter")
    await until(pilot, lambda: app.screen.id != "execute", what="the dialog to close")


async def test_a_presenter_fault_makes_a_question_not_apply_rather_than_a_tick() -> None:
    """The regression: after ``!`` in the 429 scenario the run ended PARTIALLY_COMPLETED, yet the checklist
    marked "✓ Correct … the bulk's status: COMPLETED", contradicting the screen."""
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, "throttled-polling")  # it waits, the world paused
        assert app.session is not None and app.session.simulator is not None
        engine = app.session.simulator.engine
        # Read off the simulator: the dashboard's own polls are throttled (4 a second) in this pack.
        await until(pilot, lambda: int(run.bulk_id) in engine.bulks, what="the bulk executed")
        row = engine.bulks[int(run.bulk_id)].row
        for n in (1, 2):
            await pilot.press("full_stop")  # the presenter steps one operation at a time
            await until(pilot, lambda n=n: row.completed == n, what=f"{n} operation(s) done")
        # The note says where the run was as the dashboard knew it: wait until it has seen the two steps
        # (its polls are throttled in this pack, so it may lag the simulator).
        await until(
            pilot, lambda: bool(training.history) and training.history[-1][2] == 2, what="2 done on screen"
        )
        await pilot.press("exclamation_mark")  # the next operation fails...
        await until(pilot, lambda: presenter(app).get("faultPending") is True, what="fault pending")
        await pilot.press("full_stop")  # ...operation 3
        await until(pilot, lambda: row.failed == 1, what="the forced failure")
        await pilot.press("space")  # and the run plays on
        await until(pilot, lambda: run.model.status == "PARTIALLY_COMPLETED", timeout=30, what="the end")
        assert run_facts(run)["run.status"] == "PARTIALLY_COMPLETED"  # what the screen says

        checklist = await open_checklist(pilot, app)
        shown = await answer_right(pilot, checklist, training, 0)  # evidence: run.status = COMPLETED
        assert shown.startswith("– Does not apply to this run:")
        assert "this run ended PARTIALLY_COMPLETED, not COMPLETED" in shown
        assert "✓" not in shown and question_mark(checklist, 0) == "–"
        assert training.score == 0 and training.judged == 0
        line = checklist.query_one("#checklist-presenter")
        assert line.display
        # Which operation failed is known once the checklist has read the failed operations (each second).
        await until(pilot, lambda: "operation 3" in plain(line.content), what="the fault's operation")
        assert plain(line.content) == (
            "The presenter stepped the world one operation at a time and injected a fault at operation 3: "
            "questions 1 and 3 no longer apply"
        )
        # Question 2 (api.429 only) still applies, and is judged.
        assert (await answer_right(pilot, checklist, training, 1)).startswith("✓ Correct")
        assert training.progress() == "2/3 answered · 1 correct · 1 not applying"


async def test_a_cancel_too_late_is_crossed_and_the_choices_follow_the_run() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, "cancel-mid-run")
        assert app.session is not None
        gate = Gate(app.session, 7)  # operation 7 waits in flight until the cancel is asked for
        await execute(pilot, app, run)
        await until(pilot, lambda: training.phase == "your move", what="the hold at operation 5")
        await pilot.press("space")  # the trainee lets the brief's moment go by
        await until(pilot, lambda: gate.reached, what="operation 7 in flight")
        await pilot.press("c")
        await until(pilot, lambda: app.screen.id != run.id, what="the confirm dialog")
        await pilot.press("y")
        await until(pilot, lambda: gate.stop_requested(run.bulk_id), what="the cancel request")
        gate.release()
        await until(pilot, lambda: run.model.status == "CANCELLED", what="CANCELLED on screen")
        assert run.model.counts["COMPLETED"] == 7

        checklist = await open_checklist(pilot, app)
        actions = checklist.query_one("#checklist-actions")
        assert actions.display
        await until(pilot, lambda: "Cancel while" in plain(actions.content), what="the expected actions")
        lines = plain(actions.content).splitlines()
        assert lines[0] == "What the brief asked you to do"
        assert "✓ Execute the bulk (x): You executed before any operation finished" in lines
        assert (
            "✗ Cancel while operation 5 runs: You cancelled after operation 7; "
            "the brief asked after operation 4 and before operation 6"
        ) in lines
        # Question 1 is about operations 5 and 6 as the brief's run left them: not this run's.
        shown = await answer_right(pilot, checklist, training, 0)
        assert "– Does not apply to this run: operation 6 is COMPLETED in this run, not CANCELLED" in shown
        # Question 3's choice counts this run's completed transfers.
        checklist.query_one("#checklist-questions", OptionList).highlighted = 2
        await until(pilot, lambda: checklist.current == 2, what="question 3")
        choices = checklist.query_one("#question-choices", OptionList)
        texts = [plain(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)]
        assert any("reverse the 7 completed transfers" in t for t in texts)
        shown = await answer_right(pilot, checklist, training, 2)
        assert shown.startswith("✓ Correct")
        line = plain(checklist.query_one("#checklist-presenter").content)
        assert line == "This run went otherwise than the brief's: questions 1 and 2 do not apply"


async def test_the_briefs_pause_is_ticked_and_the_reply_goes_into_the_report(tmp_path: Path) -> None:
    app = training_app(report_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, "pause-then-resume")
        await execute(pilot, app, run)
        await until(pilot, lambda: training.phase == "your move", what="the hold at operation 6")
        await pilot.press("p")
        await until(pilot, lambda: run.model.status == "PAUSED", what="PAUSED on screen")
        await pilot.press("r")
        await until(pilot, lambda: run.model.status == "COMPLETED", what="the end of the run")

        checklist = await open_checklist(pilot, app)
        actions = checklist.query_one("#checklist-actions")
        await until(pilot, lambda: "Resume" in plain(actions.content), what="the expected actions")
        lines = plain(actions.content).splitlines()[1:]
        assert lines == [
            "✓ Execute the bulk (x): You executed before any operation finished",
            "✓ Pause while operation 6 runs: You paused after operation 6 "
            "(the brief: after operation 5 and before operation 7)",
            "✓ Resume the paused bulk (r): You resumed after operation 6",
            "✓ Do not cancel: the operator only wanted time to look: You did not cancel, as the brief asked",
        ]
        assert not checklist.query_one("#checklist-presenter").display  # nothing changed the run

        # The reply to the customer: drafted in the text area, sent, then the model answer shows.
        reply = training.scenario.reply
        assert reply is not None
        assert reply.prompt in plain(checklist.query_one("#reply-prompt").content)
        assert not checklist.query_one("#reply-model").display
        draft = checklist.query_one("#reply-draft", TextArea)
        draft.focus()
        await pilot.press(*"Nothing lost: 12 ran once.")  # digits type, they do not answer questions
        assert draft.text == "Nothing lost: 12 ran once." and not training.verdicts
        checklist.query_one("#reply-send").focus()
        await pilot.press("enter")
        await until(pilot, lambda: training.reply_draft is not None, what="the reply kept")
        model = checklist.query_one("#reply-model")
        assert model.display and reply.model in plain(model.content)

        written = await app.service.export_report(training.bulk_id)
        assert written.path is not None
        report = (written.path / "report.md").read_text(encoding="utf-8")
        assert "## Reply to the customer (training)" in report
        assert f"> {reply.prompt}" in report and "Nothing lost: 12 ran once." in report
