"""Issue 13 on screen: on a Weavr-shaped server one bad record never costs the screen.

A bulk whose follow-up the server refuses marks its own row (and says why) while the rest of the list keeps
updating; bulks without an id (twice) and repeated ids are listed, never followed up; a spent request budget
is "waiting for the request budget" with a countdown, not "unreachable"; an exception that escapes a handler
is a notice and the app stays up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bulkdash.ui.screens.help import HelpScreen
from bulkdash.ui.screens.home import HomeScreen
from bulkdash.ui.widgets.banner import Banner
from bulkdash.ui.widgets.bulks_table import ANONYMOUS, BulksTable
from bulkdash.ui.widgets.status_bar import StatusBar
from tests.conformance.corpus import Case, Endpoint
from tests.conformance.dashboard import corpus_app
from tests.conformance.server import CorpusServer
from tests.ui.helpers import SIZE, connected, make_app, notes, until


def _listing(first_status: str) -> Case:
    def bulk(**fields: Any) -> dict[str, Any]:
        return {"status": "RUNNING", "submittedItemsCount": 3, "operation": "POST /transfers", **fields}

    bulks = [
        bulk(bulkId="1000001", status=first_status),
        bulk(bulkId="abc-123"),  # GET /bulks/abc-123 is a 400 (REGEX), as on Weavr
        bulk(),  # no id
        bulk(status="COMPLETED"),  # no id either
        bulk(bulkId="1000005"),
        bulk(bulkId="1000005"),  # the same id twice
    ]
    return Case("mixed", Endpoint.LIST_BULKS, {"count": 6, "responseCount": 6, "bulkProcesses": bulks})


async def test_one_refused_bulk_marks_its_row_and_the_rest_of_the_list_keeps_updating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    async with CorpusServer(_listing("RUNNING")) as server:
        app = corpus_app(server.url)
        async with app.run_test(size=SIZE) as pilot:
            home = app.home
            table = home.query_one(BulksTable)
            await until(pilot, lambda: len(table.shown) == 6, what="the six bulks")
            await until(pilot, lambda: table.shown["1000001"][4].endswith("100%"), what="progress")
            # Newest first; each row under its own key, the ones without an id (or repeated) too.
            anonymous = [f"{ANONYMOUS}{position}" for position in (1, 2, 3)]
            assert list(table.shown) == ["1000005", *anonymous, "abc-123", "1000001"]
            # The cell says the start of the sentence; the line under the table says the rest.
            assert table.shown["abc-123"][4].startswith("⚠ bulk_id must")
            assert table.shown[f"{ANONYMOUS}2"][4].startswith("⚠ no bulk id")
            assert (
                home.query_one(Banner).visible_message is None and not home.query_one("#home-empty").display
            )
            status = str(home.query_one(StatusBar).content)
            assert "connected" in status and "unreachable" not in status
            assert app.connection.state == "connected"  # the server answered: a 400 is an answer
            # Never a request for a bulk without an id.
            assert not [seen for seen in server.seen if "None" in seen]

            # The line under the table says why the row under the cursor is marked.
            table.move_cursor(row=table.get_row_index("abc-123"))
            note = home.query_one("#home-row-note")
            await until(pilot, lambda: note.display, what="the row's note")
            assert str(note.content).startswith(
                "⚠ Bulk abc-123: bulk_id must be digits only, e.g. 1000001 [REGEX]"
            )
            table.move_cursor(row=table.get_row_index(f"{ANONYMOUS}2"))
            await pilot.press("enter")  # a bulk without an id cannot be opened
            await until(pilot, lambda: "This bulk has no id: it cannot be opened" in notes(app))
            assert isinstance(app.screen, HomeScreen)

            # The rest of the list keeps updating.
            server.use(_listing("COMPLETED"))
            home.wake()
            await until(pilot, lambda: table.shown["1000001"][1] == "COMPLETED", what="the next poll")
            assert table.shown["abc-123"][4].startswith("⚠ bulk_id must")


async def test_a_spent_budget_says_waiting_with_a_countdown_not_unreachable() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert app.session is not None
        client = app.session.client
        now = [86_400.0 * 20_000 + 10]  # 10 s into a minute: the window ends in 50 s
        client.budget.clock = client.link.clock = lambda: now[0]
        while True:
            try:
                client.budget.check()
            except Exception:
                break
            client.budget.spend()
        app.home.wake()
        bar = app.home.query_one(StatusBar)
        banner = app.home.query_one(Banner)

        def left() -> int | None:
            found = re.search(r"waiting for the request budget · (\d+) s", str(bar.content))
            return int(found.group(1)) if found else None

        await until(pilot, lambda: left() == 50, what="the waiting status")
        assert "unreachable" not in str(bar.content)
        await until(pilot, lambda: "retrying in 51 s" in (banner.visible_message or ""), what="the banner")
        assert (banner.visible_message or "").startswith("Waiting: request budget of 90 per 60s spent")
        now[0] += 5  # the clock moves: both count down on their own timers, without a new poll
        await until(pilot, lambda: left() == 45, what="the status bar's countdown")
        await until(pilot, lambda: "retrying in 46 s" in (banner.visible_message or ""), what="the banner's")


@pytest.mark.unexpected_errors
async def test_an_exception_escaping_a_handler_is_a_notice_and_the_app_stays_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    applied = HomeScreen.on_bulks_fetched
    pages: list[object] = []

    def fails_once(screen: HomeScreen, message: Any) -> None:
        pages.append(message)
        if len(pages) == 1:
            raise RuntimeError("injected into a handler")
        applied(screen, message)

    def refresh_fails(screen: HomeScreen) -> None:
        raise KeyError("injected into an action")

    monkeypatch.setattr(HomeScreen, "on_bulks_fetched", fails_once)
    monkeypatch.setattr(HomeScreen, "action_refresh", refresh_fails)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "RuntimeError: injected into a handler" in notes(app), what="the notice")
        assert app.is_running and [type(e) for e in app.caught] == [RuntimeError]
        # The screen whose handler raised still handles its messages: the next page is shown.
        app.home.wake()
        await until(pilot, lambda: app.home.polls > 0, what="the next page, applied")
        await pilot.press("g")  # an action that raises, in the app's own message loop
        await until(pilot, lambda: "KeyError: 'injected into an action'" in notes(app))
        await pilot.press("question_mark")  # and the app still answers keys
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help screen")
        assert app.is_running and len(app.caught) == 2
