"""Notifications (``N``, or "Notifications" in the command palette): every toast the app showed, newest last —
time, severity and message, the last ``notices.HISTORY`` — with the highlighted one whole under the table.

The notices come from the app's ``NoticesMixin`` (``bulkdash.ui.notices``); new ones are appended while the
screen is shown.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bulkdash.ui.format import Display
from bulkdash.ui.guard import Guarded
from bulkdash.ui.widgets.fitted_table import Col, FittedTable
from bulkdash.ui.widgets.footer import CoalescingFooter

if TYPE_CHECKING:
    from bulkdash.ui.notices import Notice

#: Its own style sheet (Screen.CSS_PATH), so the app's list of sheets does not change for it.
STYLES = Path(__file__).parent.parent / "styles" / "notices.tcss"
SEVERITY_STYLES = {"information": "", "warning": "bold #ffaf5f", "error": "bold #ff5f5f"}


class NotificationsTable(Guarded, FittedTable[str | Text]):
    COLUMNS = (
        Col("time", "Time", 12, priority=90),
        Col("severity", "Severity", 11, priority=50),
        Col("message", "Message", None, priority=100, min_width=20),  # whatever width is left, then "…"
    )


class NotificationsScreen(Guarded, Screen[None]):
    TITLE = "bulkdash"
    SUB_TITLE = "Notifications"
    CSS_PATH = STYLES
    BINDINGS = [Binding("escape", "back", "Back", id="notifications.back")]

    def __init__(self) -> None:
        super().__init__(id="notifications")
        self._notices: list[Notice] = []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="▤")
        yield NotificationsTable(id="notices-table")
        yield Static("No notifications yet.", id="notices-empty", classes="empty-hint")
        yield Static("", id="notices-detail")
        yield CoalescingFooter()

    @property
    def _source(self) -> Any:
        return self.app  # a ``NoticesMixin`` app

    def on_mount(self) -> None:
        table = self.query_one(NotificationsTable)
        for notice in self._source.notices:
            self._add(notice)
        self._source.add_notice_listener(self.add_notice)
        self._empty_hint()
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)  # the newest
        table.focus()

    def on_unmount(self) -> None:
        self._source.remove_notice_listener(self.add_notice)

    def add_notice(self, notice: Notice) -> None:
        """A notice raised while the screen is shown."""
        table = self.query_one(NotificationsTable)
        at_end = not table.row_count or table.cursor_row == table.row_count - 1
        self._add(notice)
        table.resort()
        self._empty_hint()
        if at_end:
            table.move_cursor(row=table.row_count - 1)  # following the newest, unless the reader moved away

    def _add(self, notice: Notice) -> None:
        self._notices.append(notice)
        self.query_one(NotificationsTable).put_row(
            str(len(self._notices) - 1),
            (
                self._time(notice.at),
                Text(notice.severity, style=SEVERITY_STYLES.get(notice.severity, "")),
                notice.line,
            ),
        )

    def _time(self, at: float) -> str:
        display = getattr(self.app, "display_", None)
        if isinstance(display, Display):
            return display.time_ms(int(at * 1000))
        return time.strftime("%H:%M:%S", time.localtime(at))

    def _empty_hint(self) -> None:
        self.query_one("#notices-empty", Static).display = not self._notices

    @on(DataTable.RowHighlighted, "#notices-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is None:
            return
        notice = self._notices[int(event.row_key.value)]
        head = f"{self._time(notice.at)}  {notice.severity}" + (f"  {notice.title}" if notice.title else "")
        self.query_one("#notices-detail", Static).update(Text(f"{head}\n{notice.message}"))

    def action_back(self) -> None:
        self.app.pop_screen()
