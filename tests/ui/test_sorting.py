"""Sorting the live tables: ``o`` cycles the sort column, ``O`` reverses, a header click sorts by its column;
the order holds while the tables are updated in place (re-sorted once per update, and only when it matters);
numbers sort as numbers; the sorted header shows ▲ or ▼."""

from __future__ import annotations

import dataclasses

from textual.app import App, ComposeResult
from textual.widgets.data_table import ColumnKey

from bulkdash.model.run import OpRow
from bulkdash.ui.format import Display
from bulkdash.ui.widgets.bulks_table import BulkRow, BulksTable
from bulkdash.ui.widgets.fitted_table import natural_key
from bulkdash.ui.widgets.ops_table import OpsTable
from bulkdash.ui.widgets.webhook_table import WebhookTable
from tests.ui.helpers import until
from tests.webhooks.test_webhook_store import draft

WIDE = (160, 30)


def op(seq: int, status: str = "SUBMITTED", key: str = "") -> OpRow:
    return OpRow(seq, f"op-{seq}", "POST", "/transfers", status, key, None, None, row_id=seq)


def labels(table: OpsTable | BulksTable | WebhookTable) -> list[str]:
    return [column.label.plain for column in table.ordered_columns]


def seqs(table: OpsTable) -> list[int]:
    return [int(key) for key in table.ordered_keys()]


class OpsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OpsTable(id="ops")


def test_numbers_sort_as_numbers_and_blanks_last() -> None:
    values = ["10", "9", "1,234", "", "—", "abc", "100/200", "20/200", "-3"]
    assert sorted(values, key=natural_key) == ["-3", "9", "10", "20/200", "100/200", "1,234", "abc", "", "—"]


async def test_o_cycles_the_sort_column_and_O_reverses_with_a_mark_in_the_header() -> None:
    app = OpsApp()
    async with app.run_test(size=WIDE) as pilot:
        table = app.query_one(OpsTable)
        # Sequences 9, 10, 100 (as strings "100" < "9"); statuses not in sequence order.
        table.rebuild([op(9, "FAILED"), op(10, "COMPLETED"), op(100, "RUNNING"), op(2, "COMPLETED")])
        table.focus()
        await pilot.pause()
        assert seqs(table) == [9, 10, 100, 2]  # the page's order until a sort is chosen

        await pilot.press("o")  # the first column: Seq, ascending
        assert table.sort_column == "seq" and not table.sort_reverse
        assert seqs(table) == [2, 9, 10, 100]  # numbers, not strings
        assert labels(table)[0] == "Seq ▲"

        await pilot.press("O")
        assert seqs(table) == [100, 10, 9, 2]
        assert labels(table)[0] == "Seq ▼"

        await pilot.press("o", "o", "o")  # Method, Path, then Status
        assert table.sort_column == "status" and not table.sort_reverse
        assert [table.shown[s][3] for s in seqs(table)] == ["COMPLETED", "COMPLETED", "FAILED", "RUNNING"]
        assert "Seq" in labels(table) and "Status ▲" in labels(table)

        await pilot.press("o", "o")  # Response, then unsorted again: the page's order
        assert table.sort_column is None
        assert seqs(table) == [9, 10, 100, 2]
        assert not any("▲" in label or "▼" in label for label in labels(table))


async def test_a_header_click_sorts_then_reverses_then_unsorts() -> None:
    app = OpsApp()
    async with app.run_test(size=WIDE) as pilot:
        table = app.query_one(OpsTable)
        table.rebuild([op(3, "RUNNING"), op(1, "FAILED"), op(2, "COMPLETED")])
        await pilot.pause()
        status_x = sum(column.get_render_width(table) for column in table.ordered_columns[:3]) + 2

        await pilot.click(OpsTable, offset=(status_x, 0))
        await until(pilot, lambda: table.sort_column == "status")
        assert seqs(table) == [2, 1, 3] and "Status ▲" in labels(table)

        await pilot.click(OpsTable, offset=(status_x, 0))
        await until(pilot, lambda: table.sort_reverse)
        assert seqs(table) == [3, 1, 2] and "Status ▼" in labels(table)

        await pilot.click(OpsTable, offset=(status_x, 0))
        await until(pilot, lambda: table.sort_column is None)
        assert seqs(table) == [3, 1, 2]  # the page's order


async def test_updates_in_place_keep_the_order_and_sort_once_per_update() -> None:
    app = OpsApp()
    async with app.run_test(size=WIDE) as pilot:
        table = app.query_one(OpsTable)
        table.rebuild([op(n) for n in range(1, 6)])
        table.sort_by("status")
        await pilot.pause()
        table.move_cursor(row=table.get_row_index("3"))
        rebuilds, sorts = table.rebuilds, table.sorts

        # One poll: three rows change status, one row is new to the page.
        changed = [op(1, "RUNNING"), op(3, "COMPLETED"), op(4, "FAILED"), op(6, "COMPLETED")]
        assert table.apply(changed)
        assert table.rebuilds == rebuilds  # updated in place, never cleared and reloaded
        assert table.sorts == sorts + 1  # once for the whole poll
        statuses = [table.shown[s][3] for s in seqs(table)]
        assert statuses == sorted(statuses)
        assert seqs(table)[:2] == [3, 6]  # the two COMPLETED rows, in the page's order
        assert table.selected_row_id() == 3  # the cursor stayed on its row as it moved

        # A poll that changes no sorted cell does not sort.
        assert table.apply([op(1, "RUNNING", key="id-1")])
        assert table.sorts == sorts + 1
        assert table.shown[1][4] == "id-1"


async def test_a_sorted_page_of_10000_rows_sorts_once_per_poll() -> None:
    app = OpsApp()
    async with app.run_test(size=WIDE) as pilot:
        table = app.query_one(OpsTable)
        table.rebuild([op(n) for n in range(1, 10_001)])
        table.sort_by("seq", reverse=True)
        await pilot.pause()
        assert seqs(table)[:3] == [10_000, 9_999, 9_998]
        sorts = table.sorts
        table.apply([op(n, "COMPLETED") for n in range(1, 10_001, 7)])  # status only: Seq is sorted
        assert table.sorts == sorts
        table.apply([op(10_001)])  # a new row: sorted in, once
        assert table.sorts == sorts + 1
        assert seqs(table)[0] == 10_001


class BulksApp(App[None]):
    def compose(self) -> ComposeResult:
        yield BulksTable(id="bulks")


def bulk(key: str, size: str, progress: str, status: str = "RUNNING") -> BulkRow:
    return BulkRow(key, key, (key, status, "POST /transfers", size, progress, "12:00:00", "—"))


async def test_bulks_sort_by_size_and_progress_as_numbers_through_polls() -> None:
    app = BulksApp()
    async with app.run_test(size=WIDE) as pilot:
        table = app.query_one(BulksTable)
        rows = [
            bulk("7", "1,234", "██░░░░░░░░  20%"),
            bulk("6", "999", "██████████ 100%"),
            bulk("5", "12", "█░░░░░░░░░   9%"),
        ]
        table.show(rows)
        table.sort_by("size")
        await pilot.pause()
        assert table.ordered_keys() == ["5", "6", "7"]  # 12 < 999 < 1,234
        assert labels(table)[3] == "Size ▲"

        table.sort_by("progress", reverse=True)
        assert table.ordered_keys() == ["6", "7", "5"]  # 100% > 20% > 9%, whatever the bar's characters
        # A poll moves bulk 5 ahead: re-sorted in place.
        rows[2] = bulk("5", "12", "█████████░  90%")
        rebuilds = table.rebuilds
        table.show(rows)
        assert table.rebuilds == rebuilds
        assert table.ordered_keys() == ["6", "5", "7"]
        assert list(table.shown) == ["7", "6", "5"]  # the server's order is kept for the page itself


class HooksApp(App[None]):
    def compose(self) -> ComposeResult:
        yield WebhookTable(Display(), id="hooks")


async def test_webhooks_arriving_are_sorted_in_by_http_status() -> None:
    app = HooksApp()
    async with app.run_test(size=WIDE) as pilot:
        table = app.query_one(WebhookTable)
        for record_id, status in ((1, 204), (2, 500), (3, 401)):
            table.add_record(dataclasses.replace(draft(status=status), id=record_id))
        await pilot.pause()
        table.sort_by("http", reverse=True)
        assert table.ordered_keys() == ["2", "3", "1"]
        assert "HTTP ▼" in labels(table)
        sorts = table.sorts
        for record_id, status in ((4, 429), (5, 200), (6, 503)):
            table.add_record(dataclasses.replace(draft(status=status), id=record_id))
        await until(pilot, lambda: table.ordered_keys() == ["6", "2", "4", "3", "1", "5"])
        assert table.sorts == sorts + 1  # the burst sorted in once
        assert table.columns[ColumnKey("http")].label.plain == "HTTP ▼"
