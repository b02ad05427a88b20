"""Fixes from a user trial of ``bulkdash train`` (tmux at 120x36 and 80x24): each test drives the dashboard
as the trainee did and fails on what the trial saw."""

from __future__ import annotations

from textual.pilot import Pilot

from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.api_log import ApiLogScreen
from bulkdash.ui.screens.checklist import ChecklistScreen
from bulkdash.ui.screens.run import RunScreen
from tests.ui.helpers import SIZE, until
from tests.ui.test_training import start, training_app


async def open_checklist(pilot: Pilot, app: BulkdashApp) -> ChecklistScreen:
    await pilot.press("k")
    await until(pilot, lambda: isinstance(app.screen, ChecklistScreen), what="the checklist")
    checklist = app.screen
    assert isinstance(checklist, ChecklistScreen)
    return checklist


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
