"""Columns fitted to the width there is (80×24 included): the lowest-priority columns are left out first, a
flexible column's long text ends in "…", nothing runs past the table's edge, and a resize lays them out
again (a wider terminal brings the columns back). The full value stays a key press away."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from bulkdash.model.run import OpRow
from bulkdash.model.timeline import TimelineEntry
from bulkdash.ui.format import Display
from bulkdash.ui.screens.home import HomeScreen
from bulkdash.ui.screens.operation import OperationScreen
from bulkdash.ui.widgets.bulks_table import COLUMNS as BULK_COLUMNS
from bulkdash.ui.widgets.bulks_table import BulkRow, BulksTable
from bulkdash.ui.widgets.fitted_table import Col, fit
from bulkdash.ui.widgets.json_view import JsonView
from bulkdash.ui.widgets.ops_table import COLUMNS as OP_COLUMNS
from bulkdash.ui.widgets.ops_table import OpsTable
from bulkdash.ui.widgets.timeline_table import TimelineTable
from tests.ui.helpers import connected, execute, make_app, submit_bulk, until

BLOCKED = "DESTINATION_INSTRUMENT_BLOCKED"


def screen_text(app: App[object]) -> list[str]:
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def shows(app: App[object], *parts: str) -> bool:
    """One line of the screen has every one of ``parts``."""
    return any(all(part in line for part in parts) for line in screen_text(app))


def fits(table: OpsTable | BulksTable | TimelineTable) -> bool:
    """Nothing past the table's right edge (no sideways scrolling)."""
    return table.virtual_size.width <= table.scrollable_content_region.width


def test_fit_leaves_out_the_lowest_priority_first_and_shares_what_is_left() -> None:
    columns = (
        Col("a", "A", 10, priority=100),
        Col("b", "B", 10, priority=10),
        Col("c", "C", 40, priority=50, min_width=10),
        Col("d", "D", 10, priority=20),
    )
    wide = fit(columns, 200)
    assert wide.widths == (("a", 10), ("b", 10), ("c", 40), ("d", 10)) and wide.hidden == ()
    # 10+10+10+10 minimum + 8 padding = 48: everything stays, C gets the 12 cells left over.
    assert fit(columns, 60).widths == (("a", 10), ("b", 10), ("c", 22), ("d", 10))
    # 47 < 48: B (priority 10) goes, then C widens into its room.
    narrow = fit(columns, 47)
    assert narrow.hidden == ("b",) and narrow.widths == (("a", 10), ("c", 21), ("d", 10))
    assert fit(columns, 30).hidden == ("b", "d")
    assert fit(columns, 0).widths == wide.widths  # not laid out yet: every column as it wants


def test_the_sorted_column_is_widened_to_show_its_mark() -> None:
    columns = (Col("method", "Method", 6), Col("path", "Path", 30))
    assert fit(columns, 100, sorted_column="method").widths[0] == ("method", 8)


class OpsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OpsTable(id="ops")


def failed(seq: int) -> OpRow:
    return OpRow(seq, f"op-{seq}", "POST", "/managed_cards/1000102/block", "FAILED", BLOCKED, None, None, seq)


async def test_ops_at_80_columns_cut_with_an_ellipsis_and_widen_again_on_resize() -> None:
    app = OpsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(OpsTable)
        table.rebuild([failed(n) for n in range(1, 40)])
        await until(pilot, lambda: table.size.width == 80 and fits(table))
        assert table.shown_columns == ("seq", "method", "path", "status", "key")
        response = table.column_width("key")
        assert response is not None and response < len(BLOCKED)
        cut = f"{BLOCKED[: response - 1]}…"
        await until(pilot, lambda: shows(app, cut), what=cut)
        assert table.shown[1][4] == BLOCKED  # the table keeps the whole value (the detail screen shows it)

        await pilot.resize_terminal(60, 24)
        await until(pilot, lambda: "method" not in table.shown_columns)
        assert fits(table) and table.hidden_columns == ("Method",)
        assert table.tooltip == "Left out at this width: Method"

        await pilot.resize_terminal(140, 24)
        await until(pilot, lambda: table.column_width("key") == OP_COLUMNS[4].width)
        assert table.shown_columns == ("seq", "method", "path", "status", "key") and table.tooltip is None
        await until(pilot, lambda: any(BLOCKED in line and "…" not in line for line in screen_text(app)))


class BulksApp(App[None]):
    def compose(self) -> ComposeResult:
        yield BulksTable(id="bulks")


async def test_bulks_at_80_columns_leave_out_finished_then_started() -> None:
    app = BulksApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(BulksTable)
        operation = "POST /managed_accounts/{id}/statement"
        cells = ("7", "RUNNING", operation, "100", "██░░░░░░░░  20%", "12:00:00", "—")
        table.show([BulkRow("7", "7", cells)])
        await until(pilot, lambda: table.size.width == 80 and fits(table))
        assert table.hidden_columns == ("Started", "Finished")
        assert "Progress" in [column.label.plain for column in table.ordered_columns]
        await until(pilot, lambda: shows(app, "POST /managed_acc", "…"))
        # Every cell is kept, shown or not.
        assert table.cells_of("7")[5] == "12:00:00"
        await pilot.resize_terminal(130, 24)
        await until(pilot, lambda: not table.hidden_columns)
        assert [column.label.plain for column in table.ordered_columns] == [c.label for c in BULK_COLUMNS]
        await until(pilot, lambda: "12:00:00" in "".join(screen_text(app)))


class TimelineApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TimelineTable(Display(frozen=True), id="timeline")


async def test_timeline_what_takes_the_width_left_and_ends_in_an_ellipsis() -> None:
    app = TimelineApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(TimelineTable)
        text = "POST /bulks/1000001/execute → 204 " + "x" * 100
        table.show_entries([TimelineEntry(at_ms=1, source="api", text=text)])
        await until(pilot, lambda: table.size.width == 80 and fits(table))
        cell = table.get_row_at(0)[2]
        assert isinstance(cell, Text) and cell.plain == text
        await until(pilot, lambda: shows(app, "POST /bulks/1000001/execute", "…"))


async def test_dashboard_at_80x24_shows_whole_columns_and_the_response_in_full_on_enter() -> None:
    app = make_app(frozen=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, kind="transfers", size=20, fail_percent=50)
        await execute(pilot)
        table = run.query_one(OpsTable)
        await until(pilot, lambda: run.model.is_final and any(c[3] == "FAILED" for c in table.shown.values()))
        await until(pilot, lambda: fits(table))
        assert set(table.shown_columns) >= {"seq", "path", "status", "key"}
        seq = next(s for s, cells in table.shown.items() if cells[3] == "FAILED")
        code = table.shown[seq][4]
        table.focus()
        table.move_cursor(row=table.get_row_index(str(seq)))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OperationScreen))
        screen = app.screen
        assert isinstance(screen, OperationScreen)
        response = screen.query_one("#op-response", JsonView).text
        assert response is not None and code in response  # the whole body, whatever the column cut
        await pilot.press("escape")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen))
        bulks = app.home.query_one(BulksTable)
        await until(pilot, lambda: fits(bulks) and bool(bulks.hidden_columns))
        assert "Finished" in bulks.hidden_columns
        assert {"Bulk", "Status", "Progress"} <= {column.label.plain for column in bulks.ordered_columns}
