"""The bulks screen (list, status filter, open, actions on the selected bulk) and the operations table
(status filter, search, pages of 100 with [ ] and PgUp/PgDn at the edges, operation detail)."""

from __future__ import annotations

from textual.widgets import Select

from bulkdash.service.actions import BulkAction
from bulkdash.ui import flows
from bulkdash.ui.screens.home import HomeScreen
from bulkdash.ui.screens.operation import OperationScreen
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.widgets.bulks_table import BulksTable
from bulkdash.ui.widgets.json_view import JsonView
from bulkdash.ui.widgets.ops_table import OpsTable
from tests.ui.helpers import SIZE, connected, execute, make_app, notes, submit_bulk, until


async def test_connects_in_about_a_second_with_an_empty_list() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session is not None, timeout=3, what="the embedded simulator")
        await until(pilot, lambda: app.home.polls > 0)
        assert app.connection.state == "connected"
        assert app.session is not None and app.session.is_embedded
        assert app.home.query_one(BulksTable).row_count == 0
        assert app.home.query_one("#home-empty").display


async def test_bulks_list_filter_open_and_act_from_home() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, kind="transfers", size=10, fail_percent=0)
        await execute(pilot)
        await until(pilot, lambda: run.model.status == "COMPLETED")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        second = (await submit_bulk(pilot, kind="card_block", size=2, fail_percent=0)).bulk_id  # SUBMITTED
        await pilot.press("escape")
        home = app.home
        table = home.query_one(BulksTable)
        await until(pilot, lambda: table.row_count == 2, what="two bulks")
        # Newest first, each with status, operation, size and progress.
        await until(pilot, lambda: table.shown["1000001"][4].endswith("100%"), what="progress of the first")
        assert [table.get_row_at(i)[0] for i in range(2)] == [second, "1000001"]
        assert table.shown[second][1:4] == ("SUBMITTED", "POST /cards/{id}/block", "2")
        assert table.shown["1000001"][1] == "COMPLETED"

        # Filter by status: only the completed one.
        await pilot.press("slash")
        assert isinstance(app.focused, Select)
        home.query_one("#home-status", Select).value = "COMPLETED"
        await until(pilot, lambda: list(table.shown) == ["1000001"], what="the filtered list")
        home.query_one("#home-status", Select).value = Select.NULL
        await until(pilot, lambda: len(table.shown) == 2)

        # Act on the selected bulk: the newest (SUBMITTED) one cannot be paused, so p is not offered; a pause
        # sent anyway (a list older than the bulk's state) is refused by the server, and said in words.
        table.focus()
        table.move_cursor(row=table.get_row_index(second))
        await pilot.pause()
        assert "p" not in app.screen.active_bindings
        flows.act(app, second, BulkAction.PAUSE)
        # In words, with the state the list shows (bulkdash.contract.refusals), the errorCode in brackets.
        said = f"Cannot pause bulk {second}: Bulk {second} is SUBMITTED, and pausing needs it RUNNING."
        await until(
            pilot, lambda: any(n.startswith(said) and n.endswith("[INVALID_STATE]") for n in notes(app))
        )
        # Enter opens it (the run screen was kept and is shown again).
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.bulk_id == second)


async def test_ops_table_filter_search_pages_and_detail() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, kind="transfers", size=250, fail_percent=4)
        await execute(pilot)
        await until(pilot, lambda: run.model.is_final, what="the final state")
        table = run.query_one(OpsTable)
        await until(pilot, lambda: table.shown.get(100, ("",) * 4)[3] in ("COMPLETED", "FAILED"))

        # Pages: ] and [ move by 100; PgDn on the last row moves too.
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: min(table.shown, default=0) == 101, what="page 2")
        assert "101–200 of 250 · page 2/3" in str(run.query_one("#run-page-info").content)
        table.move_cursor(row=table.row_count - 1)
        await pilot.press("pagedown")
        await until(
            pilot, lambda: min(table.shown, default=0) == 201 and len(table.shown) == 50, what="page 3"
        )
        table.move_cursor(row=0)
        await pilot.press("pageup")
        await until(pilot, lambda: min(table.shown, default=0) == 101, what="back to page 2")
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: min(table.shown, default=0) == 1, what="page 1")

        # Status filter: the server filters; 10 of 250 failed (4%).
        await pilot.press("f")
        run.query_one("#run-status", Select).value = "FAILED"
        await until(
            pilot, lambda: len(table.shown) == 10 and all(c[3] == "FAILED" for c in table.shown.values())
        )
        run.query_one("#run-status", Select).value = Select.NULL
        await until(pilot, lambda: len(table.shown) == 100)

        # Search this page: by errorCode.
        await pilot.press("slash")
        await pilot.press(*"BLOCKED")
        await until(pilot, lambda: len(table.shown) == 4, what="4 blocked on page 1")
        assert all(c[4] == "DESTINATION_INSTRUMENT_BLOCKED" for c in table.shown.values())
        await pilot.press("enter")  # leaves the search field for the table
        assert app.focused is table

        # Enter on an operation: request and response as pretty JSON.
        table.move_cursor(row=0)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OperationScreen))
        detail = app.screen
        assert isinstance(detail, OperationScreen)
        request = detail.query_one("#op-request", JsonView)
        response = detail.query_one("#op-response", JsonView)
        assert request.text is not None and '"profileId": "3001"' in request.text
        assert response.text == '{\n  "errorCode": "DESTINATION_INSTRUMENT_BLOCKED"\n}'
        await pilot.press("v")
        await until(pilot, lambda: "Response copied to the clipboard" in notes(app))
        assert app.clipboard == response.text
        await pilot.press("c")
        await until(pilot, lambda: app.clipboard == request.text)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is run)
