"""One received webhook: its verdicts, headers (secrets redacted by the receiver) and body as pretty JSON.

The verdicts start with what the credentials establish, in the receiver's words ("signature valid", "key
only — body not signed", ...), then each check on its own.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from bulkdash.ui import sheets
from bulkdash.ui.format import clip
from bulkdash.ui.screens.dialog import Dialog
from bulkdash.ui.widgets.footer import CoalescingFooter
from bulkdash.ui.widgets.json_view import JsonView, pretty_json
from bulkdash.webhooks import Authenticity, ReceivedWebhook, event_summary

#: Headers whose values are the same on every run (the others are masked in frozen mode).
STABLE_HEADERS = frozenset({"content-type", "accept", "accept-encoding", "connection", "webhooks-key"})

_AUTHENTICITY_STYLES = {
    Authenticity.SIGNED: "bold #5fd787",
    Authenticity.KEY_ONLY: "bold #ffaf5f",
    Authenticity.UNCHECKED: "dim",
}


class WebhookDetailScreen(Dialog[None]):
    CSS_PATH = sheets.LATER
    VERTICAL_BREAKPOINTS = sheets.SHORT_TERMINAL
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="webhook.close"),
        Binding("c", "copy", "Copy body", id="webhook.copy"),
    ]

    def __init__(self, record: ReceivedWebhook) -> None:
        super().__init__(id="webhook-detail")
        self.record = record

    def compose(self) -> ComposeResult:
        record = self.record
        display = getattr(self.app, "display_", None)
        title = Text()
        title.append(f"{clip(record.method, 20)} {clip(record.path)}  ", style="bold")
        title.append(f"→ {record.http_status}", style="bold" if record.accepted else "bold #ff5f5f")
        verdicts = Text()
        verdicts.append(
            clip(event_summary(record), 500)
        )  # it quotes the body: ids and statuses of any length
        authenticity = record.authenticity
        verdicts.append(
            f"\n{authenticity.value}", style=_AUTHENTICITY_STYLES.get(authenticity, "bold #ff5f5f")
        )
        verdicts.append(
            f"\nsignature-v2 {record.signature_v2.value} · signature {record.signature_v1.value}"
            f" · timestamp {record.timestamp.value} · webhooks-key {record.webhooks_key.value}",
            style="dim",
        )
        if record.duplicate_of is not None:
            verdicts.append(f"\nDUPLICATE of #{record.duplicate_of} (same call-ref)", style="bold #ffaf5f")
        if record.error:
            verdicts.append(f"\n{record.error}", style="#ff5f5f")
        headers = Table.grid(padding=(0, 1))
        headers.add_column(style="bold")
        headers.add_column()
        frozen = display is not None and display.frozen
        for name, value in sorted(record.headers.items()):
            if frozen and name not in STABLE_HEADERS:
                value = "…"  # refs, signatures, timestamps and ports vary per run: snapshots need one picture
            headers.add_row(name, value)
        with Vertical(id="webhook-dialog", classes="dialog"):
            yield Static(title, id="webhook-title")
            yield Static(verdicts, id="webhook-verdicts")
            with Horizontal(id="webhook-panes"):
                with Vertical(classes="op-pane"):
                    yield Static("Headers", classes="pane-title")
                    with VerticalScroll(classes="json-view"):
                        yield Static(headers)
                with Vertical(classes="op-pane"):
                    yield Static(
                        "Body" + (" (truncated)" if record.body_truncated else ""), classes="pane-title"
                    )
                    yield JsonView(record.body, empty="(empty body)", id="webhook-body")
            yield CoalescingFooter()

    def action_copy(self) -> None:
        text = pretty_json(self.record.body)
        if text is None:
            self.notify("The body is empty", severity="warning", timeout=3)
            return
        self.app.copy_to_clipboard(text)
        self.notify("Body copied to the clipboard", timeout=3)
