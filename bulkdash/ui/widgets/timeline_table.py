"""The delivery timeline of one bulk: API calls made, states seen and webhooks received, in time order.

The What column takes the width left (``fitted_table``) and ends in "…" when cut; a sort (``o``/``O``, a
header click) is kept as entries are appended.
"""

from __future__ import annotations

from rich.text import Text

from bulkdash.model.timeline import TimelineEntry
from bulkdash.ui.format import Display, clip
from bulkdash.ui.guard import Guarded
from bulkdash.ui.widgets.fitted_table import Col, FittedTable

SOURCE_STYLES = {"api": "#5fafff", "state": "bold #ffd75f", "webhook": "#d787ff"}


class TimelineTable(Guarded, FittedTable[str | Text]):
    COLUMNS = (
        Col("time", "Time", 12, priority=90),
        Col("source", "Source", 8, priority=50),
        Col("text", "What", None, priority=100, min_width=20),  # whatever width is left
    )

    def __init__(self, display: Display, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.display_ = display
        self._shown: list[TimelineEntry] = []

    def show_entries(self, entries: list[TimelineEntry]) -> None:
        """Append what is new; rebuild only when an entry landed before the last one shown."""
        if entries[: len(self._shown)] != self._shown:
            self.clear()
            self._shown = []
        for index, entry in enumerate(entries[len(self._shown) :], start=len(self._shown)):
            text = entry.text
            if self.display_.frozen:
                # Durations and request refs vary from run to run; snapshots need the same text every time.
                text = text.split(" (")[0]
            cells = (
                self.display_.time_ms(entry.at_ms),
                Text(entry.source, style=SOURCE_STYLES.get(entry.source, "")),
                clip(text),  # it quotes what the server sent (statuses, paths): any length
            )
            self.put_row(str(index), cells)
        self._shown = list(entries)
        self.resort()
