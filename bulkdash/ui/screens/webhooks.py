"""Webhooks: every webhook received (time, event, bulk, status, counts, signature, duplicate) and, per bulk,
the delivery timeline joining the API calls the dashboard made, the states it saw and the webhooks it got.

History is read from the receiver's store in a worker; live records arrive through the app as
``WebhookArrived`` and are appended. The timeline is in-memory (``session.timeline``) and redrawn on a timer
by appending what is new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Select, Static, TabbedContent, TabPane

from bulkdash.ui import sheets
from bulkdash.ui.format import clip
from bulkdash.ui.guard import Guarded
from bulkdash.ui.messages import WebhookHistoryLoaded
from bulkdash.ui.screens.webhook_detail import WebhookDetailScreen
from bulkdash.ui.widgets.banner import Banner
from bulkdash.ui.widgets.footer import CoalescingFooter
from bulkdash.ui.widgets.status_bar import StatusBar
from bulkdash.ui.widgets.timeline_table import TimelineTable
from bulkdash.ui.widgets.webhook_table import WebhookTable

if TYPE_CHECKING:
    from bulkdash.ui.app import BulkdashApp
    from bulkdash.webhooks import ReceivedWebhook

HISTORY_LIMIT = 500


def newest_first(bulk_id: str) -> tuple[bool, int, str]:
    """A sort key: numeric ids by their value (without ``int()``, which refuses past 4,300 digits and a server
    may send more), other ids after them."""
    if bulk_id.isascii() and bulk_id.isdigit():
        significant = bulk_id.lstrip("0")
        return (True, len(significant), significant)
    return (False, 0, bulk_id)


def merged_history(history: list[ReceivedWebhook], live: list[ReceivedWebhook]) -> list[ReceivedWebhook]:
    """The history's newest records and those that arrived live, once each, in the order received (their
    ids). History then live was out of order in a long session: the live ones older than the history's
    newest 500 came after them (a user's trial). A record not stored (no id) keeps its place at the end."""
    stored = {record.id: record for record in [*history, *live] if record.id}
    unstored = [record for record in live if not record.id]
    return [stored[rid] for rid in sorted(stored)] + unstored


class WebhooksScreen(Guarded, Screen[None]):
    CSS_PATH = sheets.LATER
    TITLE = "bulkdash"
    SUB_TITLE = "Webhooks"

    BINDINGS = [
        Binding("escape", "back", "Back", id="webhooks.back"),
        Binding("1", "tab('received')", "Received", id="webhooks.received"),
        Binding("2", "tab('timeline')", "Timeline", id="webhooks.timeline"),
        Binding("slash", "filter", "Bulk", id="webhooks.filter"),
    ]

    def __init__(self, *, bulk_id: str | None = None, tab: str = "received") -> None:
        super().__init__(id="webhooks")
        self.bulk_id = bulk_id
        self.initial_tab = tab

    @property
    def bulkdash(self) -> BulkdashApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        display = self.bulkdash.display_
        yield Header(show_clock=False, icon="▤")
        yield Banner(id="webhooks-banner")
        with TabbedContent(initial=f"tab-{self.initial_tab}", id="webhook-tabs"):
            # The number is the tab's key, not a count: say so.
            with TabPane("Received · key 1", id="tab-received"):
                yield WebhookTable(display, id="webhook-table")
                yield Static("No webhooks received yet.", id="webhooks-empty", classes="empty-hint")
            with TabPane("Delivery timeline · key 2", id="tab-timeline"):
                with Horizontal(classes="toolbar"):
                    yield Static("Bulk", classes="toolbar-label")
                    yield Select(
                        self._bulk_options(), prompt="choose a bulk", id="timeline-bulk", compact=True
                    )
                    yield Static("api calls · state changes · webhooks", classes="toolbar-info")
                yield TimelineTable(display, id="timeline-table")
        yield StatusBar(id="webhooks-status-bar")
        yield CoalescingFooter()

    def _bulk_options(self) -> list[tuple[str, str]]:
        ids = sorted(self.bulkdash.known_bulks, key=newest_first, reverse=True)
        if self.bulk_id and self.bulk_id not in ids:
            ids.insert(0, self.bulk_id)
        return [(clip(b, 40), b) for b in ids]  # after the "Bulk" label: the id alone

    def on_mount(self) -> None:
        table = self.query_one(WebhookTable)
        for record in self.bulkdash.webhooks:
            table.add_record(record)
        self._empty_hint()
        chosen = self.bulk_id or self.bulkdash.timeline_bulk
        if chosen and chosen in {value for _, value in self._bulk_options()}:
            self.query_one("#timeline-bulk", Select).value = chosen
        self._refresh_timeline()
        self.set_interval(1.0, self._refresh_timeline)
        if self.initial_tab == "timeline":
            self.query_one(TimelineTable).focus()
        else:
            table.focus()
        self.run_worker(self._load_history(), name="webhook-history", exit_on_error=False)

    async def _load_history(self) -> None:
        session = self.bulkdash.session
        if session is None or session.receiver is None:
            return
        try:
            records = await session.receiver.history(limit=HISTORY_LIMIT)
        except Exception as exc:  # a broken history file must not take the screen down
            self.query_one(Banner).show(f"Cannot read the webhook history: {exc}", "warning")
            return
        self.post_message(WebhookHistoryLoaded(records))

    def on_webhook_history_loaded(self, message: WebhookHistoryLoaded) -> None:
        table = self.query_one(WebhookTable)
        live = list(table.records.values())
        if not message.records:
            return
        table.clear()
        table.records.clear()
        for record in merged_history(message.records, live):  # rebuilt once, here only
            table.add_record(record)
        self._empty_hint()

    def add_record(self, record: ReceivedWebhook) -> None:
        self.query_one(WebhookTable).add_record(record)
        self._empty_hint()

    def _empty_hint(self) -> None:
        self.query_one("#webhooks-empty", Static).display = not self.query_one(WebhookTable).row_count

    def _refresh_timeline(self) -> None:
        session = self.bulkdash.session
        value = self.query_one("#timeline-bulk", Select).value
        if session is None or value is Select.NULL:
            return
        self.query_one(TimelineTable).show_entries(session.timeline.for_bulk(str(value)))

    @on(Select.Changed, "#timeline-bulk")
    def _bulk_changed(self) -> None:
        value = self.query_one("#timeline-bulk", Select).value
        if value is not Select.NULL:
            self.bulkdash.timeline_bulk = str(value)
        self.query_one(TimelineTable).show_entries([])
        self._refresh_timeline()

    @on(DataTable.RowSelected, "#webhook-table")
    def _open(self) -> None:
        record = self.query_one(WebhookTable).selected_record()
        if record is not None:
            self.app.push_screen(WebhookDetailScreen(record))

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{tab}"
        if tab == "timeline":
            self.query_one(TimelineTable).focus()
        else:
            self.query_one(WebhookTable).focus()

    def action_filter(self) -> None:
        self.action_tab("timeline")
        self.query_one("#timeline-bulk", Select).focus()

    def action_back(self) -> None:
        self.app.pop_screen()
