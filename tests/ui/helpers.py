"""Helpers for the dashboard's Pilot tests: an app on a fresh embedded simulator, condition waits, and a gate
that holds the simulator's worker before a chosen operation (so "running at 40/100" is exact, not timing)."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.screen import Screen

from bulkdash.session import Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.run import RunScreen
from tests.service.helpers import Gate, fresh_options

__all__ = ["SIZE", "Gate", "connected", "execute", "make_app", "notes", "submit_bulk", "until"]

SIZE = (120, 36)


def make_app(*, op_delay_ms: int = 0, frozen: bool = False) -> BulkdashApp:
    async def connect() -> Session:
        return await Session.embedded(fresh_options(op_delay_ms))

    return BulkdashApp(connect, frozen=frozen, token="t")


async def until(
    pilot: Pilot, condition: Callable[[], object], *, timeout: float = 10.0, what: str = ""
) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def connected(pilot: Pilot) -> BulkdashApp:
    app = pilot.app
    assert isinstance(app, BulkdashApp)
    await until(pilot, lambda: app.session is not None and app.home.polls > 0, what="the first poll")
    return app


def notes(app: BulkdashApp) -> list[str]:
    return [n.message for n in app._notifications]


async def open_new_bulk(pilot: Pilot) -> Screen[object]:
    """n → the new-bulk dialog, on screen."""
    app = pilot.app
    await pilot.press("n")
    await until(pilot, lambda: app.screen.id == "new-bulk", what="the new-bulk dialog")
    return app.screen


async def submit_bulk(
    pilot: Pilot, *, kind: str = "transfers", size: int = 100, fail_percent: float = 10
) -> RunScreen:
    """n → fill the dialog → Submit; returns the bulk's run screen once its first page is on screen."""
    app = pilot.app
    screen = await open_new_bulk(pilot)
    screen.query_one("#new-kind").value = kind
    screen.query_one("#new-size").value = str(size)
    screen.query_one("#new-fail").value = str(fail_percent)
    screen.query_one("#new-size").focus()
    await pilot.pause()
    # The keyboard, not a click: a toast in the corner can sit over the button when notifications show.
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, RunScreen), what="the run screen")
    run = app.screen
    assert isinstance(run, RunScreen)
    await until(pilot, lambda: run.model.details is not None and run.model.rows, what="the first page")
    return run


async def execute(pilot: Pilot, *, stop: bool = False, interval: int | None = None) -> None:
    """x → choose the mode (and webhookInterval) → Execute."""
    app = pilot.app
    await pilot.press("x")
    await until(pilot, lambda: app.screen.id == "execute", what="the execute dialog")
    if stop:
        await pilot.press("down", "enter")  # the mode radio set has the focus: move to ON_FAILURE_STOP
        assert app.screen.query_one("#mode-stop").value
    field = app.screen.query_one("#execute-interval")
    if interval is not None:
        field.value = str(interval)
    field.focus()
    await pilot.press("enter")
    await until(pilot, lambda: app.screen.id != "execute", what="the dialog to close")
