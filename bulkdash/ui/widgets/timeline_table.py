"""The delivery timeline of one bulk: API calls made, states seen and webhooks received, in time order."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from bulkdash.model.timeline import TimelineEntry
from bulkdash.ui.format import Display, clip
from bulkdash.ui.guard import Guarded

SOURCE_STYLES = {"api": "#5fafff", "state": "bold #ffd75f", "webhook": "#d787ff"}


class TimelineTable(Guarded, DataTable[str | Text]):
    def __init__(self, display: Display, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.display_ = display
        self._shown: list[TimelineEntry] = []

    def on_mount(self) -> None:
        self.add_column("Time", key="time", width=12)
        self.add_column("Source", key="source", width=8)
        self.add_column("What", key="text")

    def show_entries(self, entries: list[TimelineEntry]) -> None:
        """Append what is new; rebuild only when an entry landed before the last one shown."""
        if entries[: len(self._shown)] != self._shown:
            self.clear()
            self._shown = []
        for entry in entries[len(self._shown) :]:
            text = entry.text
            if self.display_.frozen:
                # Durations and request refs vary from run to run; snapshots need the same text every time.
                text = text.split(" (")[0]
            self.add_row(
                self.display_.time_ms(entry.at_ms),
                Text(entry.source, style=SOURCE_STYLES.get(entry.source, "")),
                clip(text),  # it quotes what the server sent (statuses, paths): any length
            )
        self._shown = list(entries)
