"""The API-call log (``l``): every request the dashboard made, newest last — method, the full URL with its
query string (``?offset=0&limit=100&status=FAILED``: which page and filter were asked for is the point of
reading it), status, duration, request-ref — with ``c`` copying the selected call as a ``curl`` command
(secrets stay ``***``).

Records come from ``session.calls`` (already redacted by the client); new ones are appended on a timer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header

from bulkdash.api.client import CallRecord, to_curl
from bulkdash.ui import sheets
from bulkdash.ui.guard import Guarded
from bulkdash.ui.widgets.footer import CoalescingFooter
from bulkdash.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from bulkdash.ui.app import BulkdashApp


def shown_url(call: CallRecord) -> str:
    """The URL as sent, query string included (already redacted by the client, ``redact_url``); the bare path
    for a record that has none."""
    return call.url or call.path


class ApiLogScreen(Guarded, Screen[None]):
    CSS_PATH = sheets.LATER
    TITLE = "bulkdash"
    SUB_TITLE = "API calls"
    BINDINGS = [
        Binding("escape", "back", "Back", id="api_log.back"),
        Binding("c", "copy_curl", "Copy as curl", id="api_log.copy"),
    ]

    def __init__(self) -> None:
        super().__init__(id="api-log")
        self._records: list[CallRecord] = []

    @property
    def bulkdash(self) -> BulkdashApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="▤")
        yield DataTable(id="api-log-table", cursor_type="row", zebra_stripes=True)
        yield StatusBar(id="api-log-status-bar")
        yield CoalescingFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("time", "method", "url", "status", "ms", "request-ref")
        self.refresh_calls()
        self.set_interval(1.0, self.refresh_calls)
        table.focus()

    def refresh_calls(self) -> None:
        session = self.bulkdash.service.session
        if session is None:
            return
        table = self.query_one(DataTable)
        # ``session.calls`` is a bounded deque: only what is new since the last refresh is appended.
        new = list(session.calls)[len(self._records) :] if len(session.calls) >= len(self._records) else []
        for call in new:
            self._records.append(call)
            status = str(call.status) if call.status is not None else (call.error or "—")
            retry = f" (try {call.attempt})" if call.attempt > 1 else ""
            table.add_row(
                time.strftime("%H:%M:%S", time.localtime(call.at_ms / 1000)),
                call.method,
                shown_url(call) + retry,
                status,
                f"{call.duration_ms:.0f}",
                call.request_ref or "",
            )
        if new:
            table.move_cursor(row=table.row_count - 1)

    def selected(self) -> CallRecord | None:
        row = self.query_one(DataTable).cursor_row
        return self._records[row] if 0 <= row < len(self._records) else None

    def action_copy_curl(self) -> None:
        call = self.selected()
        if call is None:
            self.notify("No call selected", severity="warning")
            return
        self.app.copy_to_clipboard(to_curl(call))
        self.notify(f"Copied {call.method} {call.path} as curl (secrets as ***)")

    def action_back(self) -> None:
        self.app.pop_screen()
