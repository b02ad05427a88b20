"""The operations table: one page (≤ 100 rows) of a bulk's operations, updated cell by cell.

Rows are keyed by ``OpRow.row_id`` (the sequence, unless a server repeats one on the page: then a key of its
own), so no server's page can make two rows share a key. Cell texts are cut to their column's preferred width;
in a narrow terminal Method is left out first and Path and Response shrink with an ellipsis (``fitted_table``;
the operation's screen shows them whole).

``rebuild`` is for a page that was replaced (first load, page move, filter or search change); ``apply`` takes
the rows a poll changed and calls ``update_cell`` only for the cells whose text differs, adding rows that are
new to the page, then sorts once if a sort is on (``o``/``O``, a header click) and the update touched it.
PgUp on the first row and PgDn on the last one ask the screen to move the page.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message

from bulkdash.model.run import OpRow
from bulkdash.ui.format import clip, status_text
from bulkdash.ui.guard import Guarded
from bulkdash.ui.widgets.fitted_table import Col, FittedTable

COLUMNS = (
    Col("seq", "Seq", 7, priority=100),
    Col("method", "Method", 6, priority=10),  # nearly always POST: the first to go
    Col("path", "Path", 30, priority=60, min_width=16),
    Col("status", "Status", 11, priority=90),
    Col("key", "Response", 40, priority=80, min_width=14),
)


def _cells(row: OpRow) -> tuple[str, ...]:
    """The row's texts, each cut to its column (a 10,000-character path is one ellipsis past 30)."""
    return tuple(clip(text, col.width or len(text)) for col, text in zip(COLUMNS, row.cells(), strict=True))


class OpsTable(Guarded, FittedTable[str | Text]):
    COLUMNS = COLUMNS

    class EdgeReached(Message):
        """The cursor tried to leave the page: ``direction`` -1 (previous page) or +1 (next page)."""

        def __init__(self, direction: int) -> None:
            super().__init__()
            self.direction = direction

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: dict[int, tuple[str, ...]] = {}  # row_id -> the cell texts on screen
        self.rebuilds = 0  # how many times the rows were rebuilt (tests check polls do not rebuild)
        self.cell_updates = 0

    @staticmethod
    def _render(column: str, value: str) -> str | Text:
        return status_text(value) if column == "status" else value

    def rebuild(self, rows: list[OpRow]) -> None:
        self.rebuilds += 1
        self.clear()
        self._shown.clear()
        for row in rows:
            self._add(row)
        self.resort(follow=False)

    def _add(self, row: OpRow) -> None:
        cells = _cells(row)
        self._shown[row.row_id] = cells
        self.put_row(
            str(row.row_id), [self._render(col.key, value) for col, value in zip(COLUMNS, cells, strict=True)]
        )

    def apply(self, rows: list[OpRow]) -> bool:
        """Update the changed rows in place; returns False when a row is missing and order would break."""
        for row in rows:
            old = self._shown.get(row.row_id)
            if old is None:
                if self._shown and row.row_id < max(self._shown):
                    return False  # would land out of order: the caller rebuilds instead
                self._add(row)
                continue
            cells = _cells(row)
            for col, before, after in zip(COLUMNS, old, cells, strict=True):
                if before != after:
                    self.set_cell(str(row.row_id), col.key, self._render(col.key, after))
                    self.cell_updates += 1
            self._shown[row.row_id] = cells
        self.resort()  # once for the whole update, and only if it moved something a sort is on
        return True

    def drop(self, row_ids: list[int]) -> None:
        for row_id in row_ids:
            if row_id in self._shown:
                del self._shown[row_id]
                self.remove(str(row_id))

    @property
    def shown(self) -> dict[int, tuple[str, ...]]:
        return self._shown

    def selected_row_id(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return int(key.value) if key.value is not None else None

    def action_page_up(self) -> None:
        if self.cursor_row <= 0:
            self.post_message(self.EdgeReached(-1))
        else:
            super().action_page_up()

    def action_page_down(self) -> None:
        if self.cursor_row >= self.row_count - 1:
            self.post_message(self.EdgeReached(+1))
        else:
            super().action_page_down()
