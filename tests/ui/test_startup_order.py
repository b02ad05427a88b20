"""The first frame comes before the service (issue 16): the bulks screen, its status bar and its footer are
drawn without building ``DashboardService`` — whose import brings the client, httpx, pydantic and the
contract's models — and the service is built, and connects, right after. Quitting before that starts
nothing. (That those modules are not even imported on the way is ``tests/test_import_hygiene.py``.)"""

from __future__ import annotations

import pytest
from textual.widgets import Static

from bulkdash.session import Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.widgets.status_bar import StatusBar
from tests.ui.helpers import SIZE, connected, make_app, until
from tests.ui.test_quit import press_quit


def _never_connects() -> BulkdashApp:
    async def connect() -> Session:
        raise AssertionError("the first frame must not connect")

    return BulkdashApp(connect, token="t")


async def test_the_first_frame_needs_no_service(monkeypatch: pytest.MonkeyPatch) -> None:
    # Held before its first step: what the first frame shows is all there is.
    monkeypatch.setattr(BulkdashApp, "_start_service", lambda app: None)
    app = _never_connects()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.started_service is None
        # The bulks are the first screen itself, not pushed over an empty default one styled and laid out
        # before the first frame for nothing.
        assert app.screen_stack == [app.home]
        assert "Connecting…" in str(app.home.query_one("#home-empty", Static).render())
        assert "connecting" in str(app.home.query_one(StatusBar).render())
        # The footer's checks run without it: nothing trained, no simulator known yet.
        assert app.check_action("checklist", ()) is False
        assert app.check_action("world_pause", ()) is False
        assert app.started_service is None
        await press_quit(pilot)
    assert not app.is_running
    assert app.started_service is None  # quitting built nothing to close


async def test_the_service_is_built_after_the_first_frame_and_connects() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        service = app.started_service
        assert service is not None and service.session is not None
        assert app.service is service  # one service, built once
        assert service.bulks.on_screen  # the bulks screen is shown: its list is followed
        assert "connected" in str(app.home.query_one(StatusBar).render())


async def test_read_only_hints_never_offer_n() -> None:
    app = make_app()
    app.read_only = True
    async with app.run_test(size=SIZE) as pilot:
        hint = app.home.query_one("#home-empty", Static)
        assert str(hint.render()).startswith("Connecting…") and "press n" not in str(hint.render())
        await connected(pilot)
        assert str(hint.render()) == "No bulks yet."


async def test_q_quits_from_help_as_it_says() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="the help")
        # The key the help lists reaches quit from here (a modal screen hides the app's own bindings).
        assert app.screen.active_bindings["q"].binding.action == "app.quit"
        await press_quit(pilot)
    assert not app.is_running
