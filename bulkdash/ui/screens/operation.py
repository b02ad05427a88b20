"""One operation of a bulk: its request and response payloads as highlighted, pretty JSON, copyable."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from bulkdash.model.run import OpRow
from bulkdash.ui import sheets
from bulkdash.ui.format import clip, status_text
from bulkdash.ui.screens.dialog import Dialog
from bulkdash.ui.widgets.footer import CoalescingFooter
from bulkdash.ui.widgets.json_view import JsonView, pretty_json


class OperationScreen(Dialog[None]):
    CSS_PATH = sheets.LATER
    VERTICAL_BREAKPOINTS = sheets.SHORT_TERMINAL
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="op.close"),
        Binding("c", "copy('request')", "Copy request", id="op.copy_request"),
        Binding("v", "copy('response')", "Copy response", id="op.copy_response"),
    ]

    def __init__(self, bulk_id: str, row: OpRow) -> None:
        super().__init__(id="operation")
        self.bulk_id = bulk_id
        self.row = row

    def compose(self) -> ComposeResult:
        row = self.row
        title = Text()
        title.append(f"Bulk {clip(self.bulk_id, 40)} · operation #{row.sequence}  ", style="bold")
        title.append_text(status_text(row.status))
        title.append(f"  {clip(row.method, 20)} {clip(row.path)}")  # whatever length the server sent
        if row.key:
            title.append(f"  → {clip(row.key)}", style="bold")
        with Vertical(id="op-dialog", classes="dialog"):
            yield Static(title, id="op-title")
            yield Static(f"operationId {clip(row.operation_id)}", id="op-id", classes="dim", markup=False)
            with Horizontal(id="op-panes"):
                with Vertical(classes="op-pane"):
                    yield Static("Request", classes="pane-title")
                    yield JsonView(row.request_payload, empty="(no request body)", id="op-request")
                with Vertical(classes="op-pane"):
                    yield Static("Response", classes="pane-title")
                    empty = "(not run yet)" if row.status in ("SUBMITTED", "RUNNING") else "(no body: 204)"
                    if row.status == "CANCELLED":
                        empty = "(cancelled: never run)"
                    yield JsonView(row.response_payload, empty=empty, id="op-response")
            yield CoalescingFooter()

    def action_copy(self, which: str) -> None:
        payload = self.row.request_payload if which == "request" else self.row.response_payload
        text = pretty_json(payload)
        if text is None:
            self.notify(f"No {which} body to copy", severity="warning", timeout=3)
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"{which.capitalize()} copied to the clipboard", timeout=3)
