"""Fixes from a user trial of ``bulkdash train`` (tmux at 120x36 and 80x24): each test drives the dashboard
as the trainee did and fails on what the trial saw."""

from __future__ import annotations

import io

import pytest

from bulkdash.service.events import STEP_NEEDS_PAUSE
from bulkdash.ui.screens.api_log import ApiLogScreen
from bulkdash.ui.screens.checklist import ChecklistScreen
from bulkdash.ui.screens.help import HelpScreen, help_renderable
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.widgets.status_bar import StatusBar
from tests.ui.helpers import SIZE, notes, until
from tests.ui.test_checklist_judging import open_checklist
from tests.ui.test_quit import press_quit
from tests.ui.test_training import plain, start, training_app


async def test_k_brings_the_open_checklist_back_to_the_top() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, _run, _training = await start(pilot, "all-succeed")
        checklist = await open_checklist(pilot, app)
        for key, screen_id in (("l", "api-log"), ("w", "webhooks")):
            await pilot.press(key)
            await until(pilot, lambda screen_id=screen_id: app.screen.id == screen_id, what=screen_id)
            await pilot.press("k")
            await until(pilot, lambda: app.screen is checklist, what="the same checklist on top")
            assert sum(isinstance(s, ChecklistScreen) for s in app.screen_stack) == 1
        await pilot.press("escape")  # back where it was opened from: the run
        assert isinstance(app.screen, RunScreen)
        assert not any(isinstance(s, (ChecklistScreen, ApiLogScreen)) for s in app.screen_stack)


async def test_a_step_while_the_world_runs_is_explained_not_a_raw_409() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, run, training = await start(pilot, "all-succeed")
        await pilot.press("space")  # the world plays
        await until(pilot, lambda: app.service.world_running, what="the world running")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Step one operation" not in titles  # not offered while it cannot be done
        await pilot.press("full_stop")
        await until(pilot, lambda: any(STEP_NEEDS_PAUSE in n for n in notes(app)), what="the sentence")
        assert not any("409" in n or "WORLD_NOT_PAUSED" in n for n in notes(app))
        assert not training.presenter  # nothing was stepped: the checklist must not say the presenter did
        # The dashboard thought the world paused (it was played from elsewhere): the simulator's 409 is
        # said in the same words, and the presenter read again.
        assert app.presenter_state is not None
        app.presenter_state["paused"] = True
        app._notifications.clear()
        await pilot.press("full_stop")
        await until(pilot, lambda: any(STEP_NEEDS_PAUSE in n for n in notes(app)), what="the 409 in words")
        assert not any("409" in n or "WORLD_NOT_PAUSED" in n for n in notes(app))
        await until(pilot, lambda: app.service.world_running, what="the presenter read again")
        assert run.is_attached


async def test_ending_a_scenario_with_nothing_answered_says_so() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, _run, training = await start(pilot, "all-succeed")
        total = len(training.questions)
        app.action_end_scenario()
        said = f"{training.scenario.title}: 0 of {total} answered. Its faults are cleared."
        await until(pilot, lambda: said in notes(app), what="the ending notice")
        assert not any(f"0/{total} correct" in n for n in notes(app))  # read as all wrong


@pytest.mark.parametrize(
    ("size", "badge"),
    [((120, 36), "⏸ world paused 1×"), ((80, 24), "⏸ world paused 1×"), ((60, 24), "⏸ paused")],
)
async def test_the_world_paused_badge_survives_a_narrow_status_bar(size: tuple[int, int], badge: str) -> None:
    app = training_app()
    async with app.run_test(size=size) as pilot:
        app, run, _training = await start(pilot, "all-succeed")  # it waits, the world paused
        bar = run.query_one("#run-status-bar", StatusBar)
        await until(pilot, lambda: "paused" in plain(bar.content), what="the world paused")
        shown = plain(bar.content)
        # The whole row fits (nothing cut at the right), the badge last; the endpoint's label went first.
        assert len(shown) <= bar.content_region.width and shown.endswith(badge), shown
        assert shown.startswith("● connected") and "budget" in shown


@pytest.mark.parametrize(
    ("size", "pack"),
    [((80, 24), "all-succeed"), ((80, 24), "cancel-mid-run"), ((120, 36), "all-succeed")],
)
async def test_the_checklist_shows_choices_and_the_verdict_at_80x24(size: tuple[int, int], pack: str) -> None:
    """``cancel-mid-run`` adds the brief's expected actions and a reply below the questions."""
    app = training_app()
    async with app.run_test(size=size) as pilot:
        app, _run, training = await start(pilot, pack)
        checklist = await open_checklist(pilot, app)
        await pilot.press("1")
        await until(pilot, lambda: 0 in training.verdicts, what="the verdict")
        await pilot.pause()
        choices = checklist.query_one("#question-choices")
        feedback = checklist.query_one("#question-feedback")
        verdict = checklist.query_one("#question-verdict")
        # The choices get most of the width (each on a line or two), and below them the verdict is on screen
        # with room for its explanation: at 80x24 the list kept 50 columns and the verdict was below the fold.
        assert choices.region.width >= size[0] // 2
        assert feedback.region.height >= 6 and feedback.region.bottom <= size[1] - 1
        assert feedback.region.y <= verdict.region.y < feedback.region.bottom - 3
        assert plain(verdict.content).startswith(("✓ Correct", "✗ Not quite"))


async def test_brackets_move_between_checklist_questions_and_say_so() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, _run, training = await start(pilot, "all-succeed")
        checklist = await open_checklist(pilot, app)
        shown = {
            b.binding.id: b.binding.description for b in checklist.active_bindings.values() if b.binding.show
        }
        assert shown.get("checklist.next") == "Next question"  # [ (previous) is in help
        assert "app.checklist" not in {b.binding.id for b in checklist.active_bindings.values() if b.enabled}
        await pilot.press("1")
        await until(pilot, lambda: 0 in training.verdicts, what="the first verdict")
        await pilot.press("right_square_bracket")  # after an answer the focus is still in the choices
        await until(pilot, lambda: checklist.current == 1, what="question 2")
        questions = checklist.query_one("#checklist-questions")
        assert questions.highlighted == 1 and app.focused is checklist.query_one("#question-choices")
        await pilot.press(str(training.choice_order(1).index(training.questions[1].correct) + 1))
        await until(pilot, lambda: 1 in training.verdicts, what="the second verdict")
        assert training.verdicts[1].correct
        await pilot.press("right_square_bracket", "right_square_bracket")  # stops at the last
        await until(pilot, lambda: checklist.current == len(training.questions) - 1, what="the last question")
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: checklist.current == len(training.questions) - 2, what="the one before")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        assert "previous / next question" in help_renderable_text()


def help_renderable_text() -> str:
    from rich.console import Console

    console = Console(width=120, record=True, file=io.StringIO())
    console.print(help_renderable())
    return console.export_text()


async def test_quitting_with_a_part_answered_checklist_asks_first() -> None:
    """A trainee's Tab slip sent keys meant for the reply box to the app: the first q quit at once, and every
    answer was gone (``bulkdash train`` keeps none). Part-answered, q asks; n stays; q again quits."""
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, _run, training = await start(pilot, "all-succeed")
        await press_quit(pilot)  # nothing answered yet: nothing to lose, no question
        await until(pilot, lambda: app.service.closing, what="quitting to begin")
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, _run, training = await start(pilot, "all-succeed")
        training.answer(0, training.questions[0].correct)
        await pilot.press("q")
        await until(pilot, lambda: app.screen.id == "confirm", what="the question")
        assert not app.service.closing and "1 of" in plain(app.screen.query_one("#confirm-detail").render())
        await pilot.press("n")
        await until(pilot, lambda: app.screen.id != "confirm", what="the question gone")
        assert not app.service.closing
        await pilot.press("q")
        await until(pilot, lambda: app.screen.id == "confirm", what="the question again")
        await press_quit(pilot)  # asked, q again quits
        await until(pilot, lambda: app.service.closing, what="quitting to begin")


async def test_a_classroom_keeps_the_answers_so_quitting_asks_nothing() -> None:
    app = training_app()
    async with app.run_test(size=SIZE) as pilot:
        app, _run, training = await start(pilot, "all-succeed")
        app.service.training_kept = True
        training.answer(0, training.questions[0].correct)
        await press_quit(pilot)
        await until(pilot, lambda: app.service.closing, what="quitting to begin")


async def test_ctrl_c_quits_from_a_dialog_and_the_palette() -> None:
    """ctrl+c quits like a terminal program's, from anywhere: it was dead in New bulk and the palette (a modal
    screen hides the app's bindings unless they are priority ones)."""
    from tests.ui.helpers import connected, make_app

    for opener in ("n", "ctrl+p"):
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await pilot.press(opener)
            await until(pilot, lambda app=app: app.screen.is_modal, what=f"the modal screen of {opener}")
            await press_quit(pilot, "ctrl+c")
            await until(pilot, lambda app=app: app.service.closing, what="quitting to begin")
