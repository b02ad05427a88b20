"""Every webhook received: time, event, bulk, status, counts, verification, duplicate marker, HTTP answer.

The verification column shows ✓ for a valid signature, ✗ for a bad or missing one, ? when the body could not
be checked, and "key only — body not signed" in full for a webhook accepted on its ``webhooks-key`` alone:
that one is not worth a ✓. Rows are only ever appended (a webhook never changes once received), newest at
the bottom — unless sorted (``o``/``O``, a header click; ``fitted_table``): then a burst of arrivals is
sorted in once per screen refresh. In a narrow terminal Done/Size is left out first; Event and Bulk end in
"…" when cut (the webhook's screen shows them whole).
"""

from __future__ import annotations

from rich.text import Text

from bulkdash.contract.models import FINAL_BULK_STATUSES
from bulkdash.ui.format import Display, clip, status_text
from bulkdash.ui.guard import Guarded
from bulkdash.ui.widgets.fitted_table import Col, FittedTable
from bulkdash.webhooks import Authenticity, EventKind, ReceivedWebhook

COLUMNS = (
    Col("time", "Received", 12, priority=90),
    Col("event", "Event", 22, priority=80, min_width=12),
    Col("bulk", "Bulk", 9, priority=70, min_width=9),  # flexible only to end a longer id in "…"
    Col("status", "Status", 19, priority=60),
    Col("counts", "Done/Size", 12, priority=30),
    # No fixed width: ✓/✗ keep it narrow, and it widens to show "key only — body not signed" whole.
    Col("sig", "Sig", None, priority=85),
    Col("dup", "Dup", 3, priority=45),
    Col("http", "HTTP", 4, priority=50),
)


def event_label(record: ReceivedWebhook) -> str:
    if record.kind is EventKind.BULK:
        # Weavr sends progress and end on the same path by default: the status tells them apart.
        if record.bulk_status is None:
            return "bulk (unreadable)"
        return "bulk end" if record.bulk_status in FINAL_BULK_STATUSES else "bulk progress"
    if record.kind is EventKind.UNKNOWN:
        return record.path[-22:]
    # A transaction webhook is about one transaction: its kind and own id say which ("transfer 1000005");
    # its event type is in the Status column, and the Bulk column stays for bulk ids only.
    return f"{record.kind.value} {clip(record.object_id or '?', 40)}"


def signature_mark(record: ReceivedWebhook) -> Text:
    authenticity = record.authenticity
    if authenticity is Authenticity.SIGNED:
        return Text("✓", style="bold #5fd787")
    if authenticity is Authenticity.KEY_ONLY:
        return Text(authenticity.value, style="bold #ffaf5f")
    if authenticity is Authenticity.UNCHECKED:
        return Text("?", style="dim")
    return Text("✗", style="bold #ff5f5f")


class WebhookTable(Guarded, FittedTable[str | Text]):
    COLUMNS = COLUMNS

    def __init__(self, display: Display, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.display_ = display
        self.records: dict[str, ReceivedWebhook] = {}
        self._resort_pending = False

    def add_record(self, record: ReceivedWebhook) -> None:
        key = str(record.id) if record.id else f"live-{len(self.records)}"
        if key in self.records:
            return  # loaded from history and delivered live: show once
        self.records[key] = record
        counts = record.counts or {}
        done = counts.get("COMPLETED", 0) + counts.get("FAILED", 0) + counts.get("CANCELLED", 0)
        size = record.submitted_items_count
        cells = (
            self.display_.time_ms(record.received_at_ms),
            event_label(record),
            # Any length a sender chose; a bulk's id only (a transaction's own id is in its event label).
            clip(record.bulk_id or "", 40) if record.kind is EventKind.BULK else "",
            status_text(record.bulk_status)
            if record.bulk_status
            else Text(record.event_type or "", style="dim"),
            f"{done}/{size}" if size is not None else "",
            signature_mark(record),
            Text("⧉", style="bold #ffaf5f") if record.duplicate else "",
            Text(str(record.http_status), style="" if record.accepted else "bold #ff5f5f"),
        )
        self.put_row(key, cells)
        if self.sort_column is not None and not self._resort_pending:
            # Webhooks arrive one message each (hundreds in a burst, the history all at once): sorted in once
            # per refresh, not once per webhook.
            self._resort_pending = True
            self.call_after_refresh(self._resort_once)

    def _resort_once(self) -> None:
        self._resort_pending = False
        self.resort()

    def selected_record(self) -> ReceivedWebhook | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self.records.get(str(key.value))
