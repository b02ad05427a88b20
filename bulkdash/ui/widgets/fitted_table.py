"""The base of the dashboard's live tables: columns fitted to the width there is, and sorting by a column.

Fitting: each table declares its columns (``Col``) with a preferred width, a priority and, for a flexible
column, a minimum width. ``fit`` lays them out for the table's width: while even the minimum widths do not
fit, the column of lowest priority is left out (among equals the rightmost); what is left over widens the
flexible columns toward their preferred width, the highest priority first. A flexible column's text longer
than its width ends in "…" (Rich's ellipsis overflow), never cut with no sign. The layout is computed again
on every resize, and the table's columns are rebuilt only when it changed. Every cell of every row is kept,
shown or not, so a wider terminal brings a left-out column back; the tooltip names the columns left out.

Sorting: ``o`` cycles the sort column (unsorted → each shown column → unsorted), ``O`` reverses the order,
and a click on a header sorts by that column (again: reversed; a third time: unsorted). The sorted header
ends in ▲ or ▼. It is Textual's own ``DataTable.sort``, with a key per column: numbers as numbers
(``natural_key``), blanks last. The tables are updated in place, cell by cell: a table's owner calls
``resort`` once after a batch of updates, which sorts only when a sort is on and a row was added or a cell of
the sorted column changed — at most once per update however many cells changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, RowKey

#: A number in a cell: ``1,234``, ``12.5``, ``-3`` (a minus only where it cannot be a dash between digits).
_NUMBER = re.compile(r"(?:(?<![\w.])-)?\d+(?:,\d{3})*(?:\.\d+)?")
#: What a cell shows when it has no value (``format.DASH`` and friends): sorted after every value.
_BLANKS = frozenset({"", "—", "-", "–"})
#: The sort marks of the sorted column's header.
ASCENDING, DESCENDING = "▲", "▼"


def natural_key(text: str) -> tuple[Any, ...]:
    """A sort key that orders numbers by value (``9`` before ``10``, ``1,234`` before ``12,000``) and text
    case-insensitively; blank cells after every value."""
    text = text.strip()
    if text in _BLANKS:
        return (1, ())
    parts: list[tuple[int, Any]] = []
    position = 0
    for match in _NUMBER.finditer(text):
        if match.start() > position:
            parts.append((1, text[position : match.start()].casefold()))
        # Tagged by kind, so a number is never compared with a text (a TypeError in ``sorted``).
        parts.append((0, float(match.group().replace(",", ""))))
        position = match.end()
    if position < len(text):
        parts.append((1, text[position:].casefold()))
    return (0, tuple(parts))


def plain(cell: object) -> str:
    """The text of a cell (a ``Text`` or a ``str``)."""
    return cell.plain if isinstance(cell, Text) else str(cell)


@dataclass(frozen=True, slots=True)
class Col:
    """One column of a table.

    ``width``: the preferred width; ``None`` fits the content (a fixed column) or takes what is left (a
    flexible one). ``min_width`` makes the column flexible: it shrinks to that, its text cut with "…".
    ``priority``: the higher, the longer it stays when the table is narrow. ``sort_key``: from the cell's
    text to what it sorts by.
    """

    key: str
    label: str
    width: int | None
    priority: int = 50
    min_width: int | None = None
    sort_key: Callable[[str], Any] = field(default=natural_key)

    @property
    def flexible(self) -> bool:
        return self.min_width is not None


@dataclass(frozen=True, slots=True)
class Fit:
    """The columns shown, in order, each with its width (``None``: as wide as its content)."""

    widths: tuple[tuple[str, int | None], ...]
    hidden: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.widths)


def fit(
    columns: Sequence[Col],
    available: int,
    *,
    padding: int = 1,
    content: dict[str, int] | None = None,
    sorted_column: str | None = None,
) -> Fit:
    """Lay ``columns`` out in ``available`` cells (each column also takes ``padding`` on both sides).

    ``content``: the widest cell of each content-fitted column. ``sorted_column`` is widened to show its
    header with the sort mark. ``available`` ≤ 0 (not laid out yet) shows every column at its preferred width.
    """
    content = content or {}

    def label_width(col: Col) -> int:
        return cell_len(col.label) + (2 if col.key == sorted_column else 0)

    def fixed(col: Col) -> int:
        width = col.width if col.width is not None else max(content.get(col.key, 0), cell_len(col.label))
        return max(width, label_width(col)) if col.key == sorted_column else width

    def least(col: Col) -> int:
        return (max(col.min_width or 0, label_width(col)) if col.flexible else fixed(col)) + 2 * padding

    if available <= 0:
        return Fit(tuple((c.key, c.width if c.flexible else fixed(c)) for c in columns))
    kept = list(columns)
    while len(kept) > 1 and sum(least(c) for c in kept) > available:
        # The least worth goes first; among equals the rightmost (``max`` of the negated position).
        drop = min(kept, key=lambda c: (c.priority, -kept.index(c)))
        kept.remove(drop)
    spare = max(0, available - sum(least(c) for c in kept))
    widths: dict[str, int] = {}
    for col in sorted((c for c in kept if c.flexible), key=lambda c: -c.priority):
        base = least(col) - 2 * padding
        grow = spare if col.width is None else min(spare, max(0, col.width - base))
        widths[col.key] = base + grow
        spare -= grow
    return Fit(
        tuple((c.key, widths[c.key] if c.flexible else fixed(c)) for c in kept),
        tuple(c.key for c in columns if c not in kept),
    )


class FittedTable(DataTable[CellType]):
    """A row-cursor ``DataTable`` of ``COLUMNS``: rows are put, updated and removed by key through
    ``put_row``, ``set_cell`` and ``remove`` (which keep every cell, shown or not)."""

    COLUMNS: ClassVar[tuple[Col, ...]] = ()
    BINDINGS: ClassVar[list[BindingType]] = [
        # Hidden from the footer (in help): the footers stay as they were.
        Binding("o", "cycle_sort", "Sort", id="table.sort", show=False),
        Binding("O", "reverse_sort", "Reverse sort", id="table.reverse_sort", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._by_key = {col.key: col for col in self.COLUMNS}
        self._index = {col.key: i for i, col in enumerate(self.COLUMNS)}  # set_cell runs per changed cell
        self._cells: dict[str, tuple[CellType, ...]] = {}  # row key -> every column's cell, in COLUMNS order
        self._fit: Fit | None = None
        self._content: dict[str, int] = {}  # content-fitted column -> its widest cell
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._sort_due = False
        self.sorts = 0  # how many times the rows were sorted (tests: once per update at most)
        self.layouts = 0  # how many times the columns were laid out again (tests: not per update)

    # --- layout --------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.refit()  # (rows put before this handler ran have laid the columns out already)

    def on_resize(self, _: events.Resize) -> None:
        self.refit()

    def _available(self) -> int:
        width = self.size.width
        # The vertical scrollbar's room is kept whether it shows or not: rows arriving past the table's height
        # must not make it scroll sideways.
        return width - self.styles.scrollbar_size_vertical if width else 0

    def _compute_fit(self) -> Fit:
        return fit(
            self.COLUMNS,
            self._available(),
            padding=self.cell_padding,
            content=self._content,
            sorted_column=self.sort_column,
        )

    def refit(self) -> None:
        """Lay the columns out again if the width (or a content-fitted column) asks for another layout."""
        wanted = self._compute_fit()
        if wanted != self._fit:
            self._lay_out(wanted)

    @property
    def hidden_columns(self) -> tuple[str, ...]:
        """The labels of the columns left out at this width."""
        return tuple(self._by_key[key].label for key in (self._fit.hidden if self._fit else ()))

    @property
    def shown_columns(self) -> tuple[str, ...]:
        """The keys of the columns on screen, in order."""
        return self._fit.keys if self._fit else ()

    def column_width(self, key: str) -> int | None:
        """The width a shown column was given (``None``: its content's)."""
        return dict(self._fit.widths).get(key) if self._fit else None

    def _label(self, col: Col) -> str | Text:
        if col.key != self.sort_column:
            return Text(col.label)
        return Text(f"{col.label} {DESCENDING if self.sort_reverse else ASCENDING}", style="bold")

    def _lay_out(self, layout: Fit) -> None:
        """Rebuild the columns and put every row back (a resize or a sort change, never an update)."""
        self.layouts += 1
        self._fit = layout
        selected = self._cursor_key()
        super().clear(columns=True)
        for key, width in layout.widths:
            self.add_column(self._label(self._by_key[key]), key=key, width=width)
        for row_key, cells in self._cells.items():
            self.add_row(*self._visible(cells), key=row_key)
        hidden = self.hidden_columns
        self.tooltip = f"Left out at this width: {', '.join(hidden)}" if hidden else None
        self._sort_due = True
        self.resort(follow=False)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))  # the cursor stays on its row

    def _visible(self, cells: tuple[CellType, ...]) -> list[CellType]:
        assert self._fit is not None
        shown = set(self._fit.keys)
        pairs = zip(self.COLUMNS, cells, strict=True)
        return [self._cell(col, cell) for col, cell in pairs if col.key in shown]

    @staticmethod
    def _cell(col: Col, cell: CellType) -> CellType:
        if not col.flexible:
            return cell
        # A flexible column may be narrower than its text: "…" says it was cut.
        if isinstance(cell, Text):
            cell = cell.copy()
            cell.overflow = "ellipsis"
            cell.no_wrap = True
            return cell
        return Text(plain(cell), overflow="ellipsis", no_wrap=True)

    # --- rows ----------------------------------------------------------------------------------------
    def put_row(self, key: str, cells: Sequence[CellType]) -> None:
        """Add a row at the bottom (its place in a sorted table is found by the next ``resort``)."""
        cells = tuple(cells)
        self._cells[key] = cells
        if (self._measure(cells) or self._fit is None) and self._compute_fit() != self._fit:
            self._lay_out(self._compute_fit())  # a content-fitted column widened past what fits
            return
        self.add_row(*self._visible(cells), key=key)
        self._sort_due = True

    def set_cell(self, key: str, column: str, value: CellType) -> None:
        """Update one cell (shown or not)."""
        index = self._index[column]
        cells = self._cells[key]
        self._cells[key] = (*cells[:index], value, *cells[index + 1 :])
        if self._fit is not None and column in self._fit.keys:
            self.update_cell(key, column, self._cell(self.COLUMNS[index], value))
        if column == self.sort_column:
            self._sort_due = True

    def remove(self, key: str) -> None:
        del self._cells[key]
        self.remove_row(key)

    def clear(self, columns: bool = False) -> FittedTable[CellType]:
        """Remove every row (the columns stay: they are the table's own)."""
        self._cells.clear()
        self._content.clear()  # a content-fitted column narrows again with the next rows put
        return super().clear()

    def _measure(self, cells: tuple[CellType, ...]) -> bool:
        """Note the widest cell of content-fitted columns; True when one widened."""
        widened = False
        for col, cell in zip(self.COLUMNS, cells, strict=True):
            if col.width is None and not col.flexible:
                width = cell_len(plain(cell))
                if width > self._content.get(col.key, 0):
                    self._content[col.key] = width
                    widened = True
        return widened

    # --- sorting -------------------------------------------------------------------------------------
    def _cursor_key(self) -> RowKey | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key

    def resort(self, *, follow: bool = True) -> bool:
        """Sort the rows if a sort is on and rows were added or a sorted cell changed since the last sort.
        ``follow``: the cursor stays on its row; a page that was just put (``follow=False``) keeps the cursor
        where it is, on the first row. Returns whether it sorted."""
        if self.sort_column is None or not self._sort_due or self.sort_column not in self.shown_columns:
            self._sort_due = False
            return False
        self._sort_due = False
        selected = self._cursor_key() if follow else None
        col = self._by_key[self.sort_column]
        key = col.sort_key
        self.sort(col.key, key=lambda cell: key(plain(cell)), reverse=self.sort_reverse)
        self.sorts += 1
        if selected is not None and selected in self.rows:
            index = self.get_row_index(selected)
            if index != self.cursor_row:
                self.move_cursor(row=index)
        return True

    def sort_by(self, column: str | None, *, reverse: bool = False) -> None:
        """Sort by ``column`` (``None``: back to the order rows were put in)."""
        if column is not None and column not in self._by_key:
            raise ValueError(f"no column {column!r}")
        self.sort_column = column
        self.sort_reverse = reverse if column is not None else False
        self._lay_out(self._compute_fit())  # the header's mark (and maybe the column's width) changed

    def action_cycle_sort(self) -> None:
        order: list[str | None] = [None, *self.shown_columns]
        position = order.index(self.sort_column) if self.sort_column in order else 0
        self.sort_by(order[(position + 1) % len(order)])

    def action_reverse_sort(self) -> None:
        column = self.sort_column or next(iter(self.shown_columns), None)
        self.sort_by(column, reverse=not self.sort_reverse if self.sort_column else True)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.data_table is not self:
            return
        column = event.column_key.value
        if column != self.sort_column:
            self.sort_by(column)
        elif not self.sort_reverse:
            self.sort_by(column, reverse=True)
        else:
            self.sort_by(None)

    def ordered_keys(self) -> list[str]:
        """The row keys in the order shown (tests)."""
        return [str(row.key.value) for row in self.ordered_rows]

    def cells_of(self, key: str) -> tuple[CellType, ...]:
        """Every cell of a row, shown or not, in ``COLUMNS`` order."""
        return self._cells[key]

