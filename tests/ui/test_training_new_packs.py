"""The support-ticket packs of issue 15, played in the dashboard: each one's checklist answered from the
screens (every answer ✓, every action the brief asks for ✓), and each one's typical mistake — a wrong move or
a wrong answer — marked ✗ by the checklist.

The playing, reading and answering are tests/ui/test_training.py's own helpers, so these packs are played
exactly as every shipped pack is; what is added here is the set-up the tickets need (a replayed and a
duplicate submission, bulks left PAUSED), checked on the simulator the dashboard runs, and the mistakes.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from bulkdash.model.training import Training
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.checklist import ChecklistScreen
from bulkdash.ui.screens.run import RunScreen
from simulator.faults.plan import PlanError
from simulator.scenarios import get_scenario, parse_scenario
from tests.ui.helpers import SIZE, until
from tests.ui.test_training import (
    FINAL,
    answer_checklist,
    plain,
    play,
    play_until_move,
    read_evidence,
    start,
    training_app,
)

NEW_PACKS = [
    "wrong-bulk-executed",
    "token-expired-mid-run",
    "stuck-in-running",
    "signatures-after-key-rotation",
    "finance-gets-403",
    "payroll-paid-twice",
    "too-many-requests-409",
]


def bulks_of(app: BulkdashApp) -> list[tuple[str, str, str]]:
    """(bulk id, kind, status) of every bulk of identity 1001 on the simulator the dashboard runs."""
    assert app.session is not None and app.session.simulator is not None
    engine = app.session.simulator.engine
    return [
        (str(lb.row.bulk_id), lb.row.kind, str(lb.row.status))
        for lb in engine.bulks.values()
        if lb.row.identity_id == "1001"
    ]


def check_set_up(app: BulkdashApp, name: str, training: Training) -> None:
    """What the ticket's ``[setup]`` put beside the trainee's bulk."""
    others = [b for b in bulks_of(app) if b[0] != training.bulk_id]
    if name == "payroll-paid-twice":
        # Three submissions, two bulks: the retry with the same ref and body got the first one back, the one
        # under a fresh ref made a second bulk that nobody executed.
        assert others == [(others[0][0], "transfers", "SUBMITTED")]
    elif name == "too-many-requests-409":
        assert sorted((kind, status) for _id, kind, status in others) == [
            ("card_remove", "PAUSED"),
            ("user_invite", "PAUSED"),
        ]
    else:
        assert others == []


def actions_shown(app: BulkdashApp) -> str:
    checklist = app.screen
    assert isinstance(checklist, ChecklistScreen)
    return plain(checklist.query_one("#checklist-actions", Static).content)


def action_checks(app: BulkdashApp, training: Training) -> dict[str, bool | None]:
    """Each expected action's ``says`` → whether the checklist judges it done."""
    assert app.session is not None
    return {c.expected.says: c.done for c in training.check_actions(list(app.session.calls))}


@pytest.mark.parametrize("name", NEW_PACKS)
async def test_new_pack_is_answered_from_the_dashboard(name: str) -> None:
    scenario = get_scenario(name)
    assert scenario is not None and scenario.reply is not None
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, name)
        check_set_up(app, name, training)
        await play(pilot, app, run, name)
        await read_evidence(pilot, app, run, training)
        await answer_checklist(pilot, app, training)  # every answer ✓
        if scenario.expect_actions:
            checks = action_checks(app, training)
            assert checks and all(done is True for done in checks.values()), checks
            await until(pilot, lambda: "✓" in actions_shown(app), what="the actions judged")
            assert "✗" not in actions_shown(app)


async def open_checklist_when_final(pilot: Pilot, app: BulkdashApp, run: RunScreen) -> ChecklistScreen:
    await until(pilot, lambda: run.model.status in FINAL, timeout=30, what="a final status")
    await pilot.press("k")
    await until(pilot, lambda: isinstance(app.screen, ChecklistScreen), what="the checklist")
    checklist = app.screen
    assert isinstance(checklist, ChecklistScreen)
    return checklist


# The misconception each ticket is about: (question index, the wrong choice's place in the pack).
WRONG_ANSWERS = {
    "token-expired-mid-run": (3, 1),  # "Execute the bulk again"
    "signatures-after-key-rotation": (2, 1),  # "every failed delivery is retried 5 times"
    "finance-gets-403": (2, 1),  # "the honest answer would be 403"
    "payroll-paid-twice": (3, 1),  # "Execute it as well"
    "too-many-requests-409": (1, 1),  # "the same limit, reported twice"
}


@pytest.mark.parametrize("name", sorted(WRONG_ANSWERS))
async def test_new_pack_marks_the_tickets_misconception_wrong(name: str) -> None:
    index, wrong = WRONG_ANSWERS[name]
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, name)
        await play(pilot, app, run, name)
        checklist = await open_checklist_when_final(pilot, app, run)
        question = training.questions[index]
        assert wrong != question.correct
        checklist.query_one("#checklist-questions").highlighted = index  # type: ignore[attr-defined]
        await until(pilot, lambda: checklist.current == index, what=f"question {index + 1}")
        await pilot.press(str(training.choice_order(index).index(wrong) + 1))
        await until(pilot, lambda: index in training.verdicts, what="the verdict")
        verdict = training.verdicts[index]
        assert not verdict.correct and verdict.right == question.correct
        shown = plain(checklist.query_one("#question-verdict").content)
        assert shown.startswith(f"✗ Not quite: the answer is {verdict.right_shown}")
        assert question.facts()[0].describe() in shown  # where to look


async def test_resuming_the_wrong_bulk_instead_of_cancelling_is_marked_wrong() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, "wrong-bulk-executed")
        await play_until_move(pilot, app, run)
        await pilot.press("p")  # pausing first is fine...
        await until(pilot, lambda: run.model.status == "PAUSED", what="PAUSED on screen")
        await pilot.press("r")  # ...but then the clerk lets the wrong file run on
        await until(pilot, lambda: run.model.status == "COMPLETED", timeout=30, what="all ten wires sent")
        await open_checklist_when_final(pilot, app, run)
        checks = action_checks(app, training)
        assert checks == {
            "Execute the bulk (x)": True,
            "Cancel while operation 4 runs (pausing first to look is fine)": False,
            "Do not resume the wrong bulk": False,
        }
        await until(pilot, lambda: "✗ Do not resume the wrong bulk" in actions_shown(app), what="the ✗")
        assert "✗ Cancel while operation 4 runs" in actions_shown(app)


async def test_cancelling_a_bulk_that_was_only_paused_is_marked_wrong() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, "stuck-in-running")
        await play_until_move(pilot, app, run)
        await pilot.press("c")  # the "stuck" bulk is cancelled instead of paused and resumed
        await until(pilot, lambda: app.screen.id != run.id, what="the confirm dialog")
        await pilot.press("y")
        await until(pilot, lambda: run.model.status == "CANCELLED", timeout=30, what="CANCELLED on screen")
        await open_checklist_when_final(pilot, app, run)
        checks = action_checks(app, training)
        assert checks["Execute the bulk (x)"] is True
        assert checks["Pause while operation 5 runs, as Acme's colleague did"] is False
        assert checks["Resume it: a paused bulk waits for somebody to resume it"] is False
        assert checks["Do not cancel a bulk that is only paused"] is False
        await until(
            pilot, lambda: "✗ Do not cancel a bulk that is only paused" in actions_shown(app), what="the ✗"
        )


# --- the [setup] table those packs need -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ({"replay": True}, "need an idempotency_ref"),
        ({"paused_bulks": [{"kind": "sends", "size": 3}]}, "the pack's own kind"),
        ({"paused_bulks": [{"kind": "users", "size": 1}]}, "at least 2 operations"),
        (
            {"paused_bulks": [{"kind": "users", "size": 2}, {"kind": "users", "size": 2}]},
            "one bulk per kind",
        ),
        ({"paused_bulks": [{"kind": "card_remove", "size": 2}]}, "give 2 targets"),
    ],
)
def test_a_bad_setup_table_is_refused_by_name(setup: dict[str, object], words: str) -> None:
    scenario = get_scenario("too-many-requests-409")
    assert scenario is not None
    data = scenario.model_dump(mode="json", exclude={"name"}, exclude_defaults=True)
    data["setup"] = setup
    with pytest.raises(PlanError, match=words):
        parse_scenario(data, "too-many-requests-409", "test")
