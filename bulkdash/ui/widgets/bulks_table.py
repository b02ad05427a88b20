"""The home screen's table of bulks: status, operation, size, progress, start and end; newest first.

A poll updates only the cells that changed and adds rows for new bulks; ``rebuild`` is for a new page or
filter. Progress needs the bulk's counts (``GET /bulks/{id}``), which the screen fetches only for bulks that
can still move and caches for final ones.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from bulkdash.contract.models import BulkProcess, BulkProcessDetails
from bulkdash.ui.format import Display, percent, short_operation, status_text

COLUMNS = (
    ("bulk", "Bulk", 9),
    ("status", "Status", 19),
    ("operation", "Operation", 30),
    ("size", "Size", 6),
    ("progress", "Progress", 16),
    ("start", "Started", 9),
    ("end", "Finished", 9),
)


def progress_cell(bulk: BulkProcess, details: BulkProcessDetails | None) -> str:
    if details is None or not bulk.submittedItemsCount:
        return "" if str(bulk.status) != "SUBMITTED" else "░░░░░░░░░░   0%"
    counts = details.counts()
    done = counts.get("COMPLETED", 0) + counts.get("FAILED", 0) + counts.get("CANCELLED", 0)
    share = done / bulk.submittedItemsCount
    filled = round(share * 10)
    return f"{'█' * filled}{'░' * (10 - filled)} {percent(share):>4}"


class BulksTable(DataTable[str | Text]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: dict[str, tuple[str, ...]] = {}
        self.rebuilds = 0

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    @staticmethod
    def cells(bulk: BulkProcess, details: BulkProcessDetails | None, display: Display) -> tuple[str, ...]:
        return (
            bulk.bulkId,
            str(bulk.status),
            short_operation(bulk.operation),
            f"{bulk.submittedItemsCount:,}",
            progress_cell(bulk, details),
            display.time(bulk.executionStart),
            display.time(bulk.executionFinish),
        )

    @staticmethod
    def _render(column: str, value: str) -> str | Text:
        return status_text(value) if column == "status" else value

    def rebuild(self, rows: list[tuple[str, ...]]) -> None:
        self.rebuilds += 1
        selected = self.selected_bulk()
        self.clear()
        self._shown.clear()
        for cells in rows:
            self._add(cells)
        if selected is not None and selected in self._shown:
            self.move_cursor(row=self.get_row_index(selected))

    def _add(self, cells: tuple[str, ...]) -> None:
        self._shown[cells[0]] = cells
        self.add_row(
            *(self._render(key, v) for (key, _, _), v in zip(COLUMNS, cells, strict=True)), key=cells[0]
        )

    def apply(self, rows: list[tuple[str, ...]]) -> None:
        """Update in place: changed cells, new bulks (kept newest first), bulks gone from the page."""
        wanted = {cells[0] for cells in rows}
        for gone in [b for b in self._shown if b not in wanted]:
            del self._shown[gone]
            self.remove_row(gone)
        added = False
        for cells in rows:
            old = self._shown.get(cells[0])
            if old is None:
                self._add(cells)
                added = True
                continue
            for (key, _, _), before, after in zip(COLUMNS, old, cells, strict=True):
                if before != after:
                    self.update_cell(cells[0], key, self._render(key, after))
            self._shown[cells[0]] = cells
        if added:
            self.sort("bulk", key=lambda bulk_id: int(bulk_id) if str(bulk_id).isdigit() else 0, reverse=True)

    @property
    def shown(self) -> dict[str, tuple[str, ...]]:
        return self._shown

    def selected_bulk(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None
