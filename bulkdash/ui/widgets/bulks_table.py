"""The home screen's table of bulks: status, operation, size, progress, start and end; newest first.

A poll updates only the cells that changed; ``rebuild`` is for a new page or filter, or when bulks were added
or left (their order is the server's, newest first). Progress needs the bulk's counts (``GET /bulks/{id}``),
which the service fetches only for bulks that can still move and caches for final ones. A sort (``o``/``O``,
a header click; ``fitted_table``) is kept through updates; in a narrow terminal Finished, then Started, then
Size are left out (80 columns: both times) and Operation shrinks with an ellipsis.

Each row is one ``BulkRow``: its key in the table (the bulk id, unless it is missing or repeats one already on
the page: then a key of its own, so no page makes two rows share a key), the bulk id to open (None when the
server sent none), its cells, and ``problem``: why its progress could not be shown (a follow-up the server
refused, no id) — the row says so, and the other rows keep updating.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text

from bulkdash.ui.format import Display, clip, count, marked, percent, short_operation, status_text
from bulkdash.ui.guard import Guarded
from bulkdash.ui.widgets.fitted_table import Col, FittedTable, natural_key

if TYPE_CHECKING:  # annotations only: the home screen is drawn before pydantic and the models are imported
    from bulkdash.contract.models import BulkProcess, BulkProcessDetails

BAR = 10


def progress_key(text: str) -> tuple[Any, ...]:
    """Progress sorts by its share (the bar's characters would sort a full bar first)."""
    return natural_key(text.lstrip("█░ "))


COLUMNS = (
    Col("bulk", "Bulk", 9, priority=100),
    Col("status", "Status", 19, priority=90),
    Col("operation", "Operation", 30, priority=70, min_width=12),
    Col("size", "Size", 6, priority=40),
    Col("progress", "Progress", 16, priority=80, sort_key=progress_key),
    Col("start", "Started", 9, priority=30),
    Col("end", "Finished", 9, priority=20),
)
#: Prefix of the key of a row whose bulk has no id of its own on the page (a bulk id never holds a NUL).
ANONYMOUS = "\0row-"
NO_ID = "no bulk id: it cannot be opened or followed"


@dataclass(frozen=True, slots=True)
class BulkRow:
    key: str
    bulk_id: str | None
    cells: tuple[str, ...]
    problem: str | None = None


def progress_cell(bulk: BulkProcess, details: BulkProcessDetails | None) -> str:
    """``██████░░░░  60%``: the bar never leaves its ten cells, whatever the counts; the share beside it is
    shown as it is (marked when the counts do not add up)."""
    size = bulk.submittedItemsCount
    if details is None or not size:
        return "" if bulk.status is None or str(bulk.status) != "SUBMITTED" else "░" * BAR + "   0%"
    counts = details.counts()
    done = counts.get("COMPLETED", 0) + counts.get("FAILED", 0) + counts.get("CANCELLED", 0)
    share = done / size
    filled = min(BAR, max(0, round(share * BAR)))
    return f"{'█' * filled}{'░' * (BAR - filled)} {percent(share):>4}"


def short_problem(problem: str) -> str:
    """What fits the progress cell: the sentence's head ("Invalid request", "Not found"); the line under the
    table has the rest."""
    return clip(problem.split(":", 1)[0], (COLUMNS[4].width or 16) - 2)


def bulk_rows(
    bulks: list[BulkProcess],
    details: dict[str, BulkProcessDetails],
    errors: dict[str, str],
    display: Display,
) -> list[BulkRow]:
    """The rows of a page, in its order, each under a key no other row of the page has."""
    rows: list[BulkRow] = []
    keys: set[str] = set()
    for position, bulk in enumerate(bulks):
        bulk_id = bulk.bulkId
        key = bulk_id if bulk_id is not None and bulk_id not in keys else f"{ANONYMOUS}{position}"
        keys.add(key)
        problem = NO_ID if bulk_id is None else errors.get(bulk_id)
        found = None if bulk_id is None else details.get(bulk_id)
        rows.append(BulkRow(key, bulk_id, BulksTable.cells(bulk, found, display, problem), problem))
    return rows


class BulksTable(Guarded, FittedTable[str | Text]):
    COLUMNS = COLUMNS

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: dict[str, tuple[str, ...]] = {}
        self._rows: dict[str, BulkRow] = {}
        self.rebuilds = 0

    @staticmethod
    def cells(
        bulk: BulkProcess,
        details: BulkProcessDetails | None,
        display: Display,
        problem: str | None = None,
    ) -> tuple[str, ...]:
        bulk_id = bulk.bulkId
        return (
            clip(bulk_id, COLUMNS[0].width or len(bulk_id)) if bulk_id is not None else "",
            "" if bulk.status is None else str(bulk.status),
            short_operation(bulk.operation),
            count(bulk.submittedItemsCount),
            marked(short_problem(problem)) if problem else progress_cell(bulk, details),
            display.time(bulk.executionStart),
            display.time(bulk.executionFinish),
        )

    @staticmethod
    def _render(column: str, value: str) -> str | Text:
        if column == "status":
            return status_text(value)
        if column == "progress" and value.startswith("⚠"):
            return Text(value, style="#ffaf5f")
        return value

    def show(self, rows: list[BulkRow], *, rebuild: bool = False) -> None:
        """Show ``rows`` (a page, in order): in place when the same bulks are shown, else rebuilt."""
        if rebuild or [row.key for row in rows] != list(self._shown):
            self.rebuild(rows)
        else:
            self.apply(rows)

    def rebuild(self, rows: list[BulkRow]) -> None:
        self.rebuilds += 1
        selected = self._selected_key()
        self.clear()
        self._shown.clear()
        self._rows.clear()
        for row in rows:
            self._add(row)
        self.resort(follow=False)
        if selected is not None and selected in self._shown:
            self.move_cursor(row=self.get_row_index(selected))

    def _add(self, row: BulkRow) -> None:
        self._shown[row.key] = row.cells
        self._rows[row.key] = row
        self.put_row(row.key, [self._render(col.key, v) for col, v in zip(COLUMNS, row.cells, strict=True)])

    def apply(self, rows: list[BulkRow]) -> None:
        """Update the changed cells of the rows shown (the same bulks, in the same order)."""
        for row in rows:
            old = self._shown[row.key]
            for col, before, after in zip(COLUMNS, old, row.cells, strict=True):
                if before != after:
                    self.set_cell(row.key, col.key, self._render(col.key, after))
            self._shown[row.key] = row.cells
            self._rows[row.key] = row
        self.resort()  # once per poll, and only if it moved something a sort is on

    @property
    def shown(self) -> dict[str, tuple[str, ...]]:
        """Row key (the bulk id, for a bulk that has one) -> the cell texts on screen."""
        return self._shown

    def _selected_key(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    def selected_row(self) -> BulkRow | None:
        key = self._selected_key()
        return None if key is None else self._rows.get(key)

    def selected_bulk(self) -> str | None:
        """The id of the bulk under the cursor (None without rows, or when that bulk has no id)."""
        row = self.selected_row()
        return None if row is None else row.bulk_id

    def bulk_of(self, key: str) -> str | None:
        row = self._rows.get(key)
        return None if row is None else row.bulk_id
