"""Every webhook received: time, event, bulk, status, counts, verification, duplicate marker, HTTP answer.

The verification column shows ✓ for a valid signature, ✗ for a bad or missing one, ? when the body could not
be checked, and "key only — body not signed" in full for a webhook accepted on its ``webhooks-key`` alone:
that one is not worth a ✓. Rows are only ever appended (a webhook never changes once received), newest at
the bottom.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from bulkdash.contract.models import FINAL_BULK_STATUSES
from bulkdash.ui.format import Display, clip, status_text
from bulkdash.ui.guard import Guarded
from bulkdash.webhooks import Authenticity, EventKind, ReceivedWebhook

COLUMNS = (
    ("time", "Received", 12),
    ("event", "Event", 22),
    ("bulk", "Bulk", 9),
    ("status", "Status", 19),
    ("counts", "Done/Size", 12),
    # No fixed width: ✓/✗ keep it narrow, and it widens to show "key only — body not signed" whole.
    ("sig", "Sig", None),
    ("dup", "Dup", 3),
    ("http", "HTTP", 4),
)


def event_label(record: ReceivedWebhook) -> str:
    if record.kind is EventKind.BULK:
        # Weavr sends progress and end on the same path by default: the status tells them apart.
        if record.bulk_status is None:
            return "bulk (unreadable)"
        return "bulk end" if record.bulk_status in FINAL_BULK_STATUSES else "bulk progress"
    if record.kind is EventKind.UNKNOWN:
        return record.path[-22:]
    return f"{record.kind.value} {record.event_type or ''}".strip()


def signature_mark(record: ReceivedWebhook) -> Text:
    authenticity = record.authenticity
    if authenticity is Authenticity.SIGNED:
        return Text("✓", style="bold #5fd787")
    if authenticity is Authenticity.KEY_ONLY:
        return Text(authenticity.value, style="bold #ffaf5f")
    if authenticity is Authenticity.UNCHECKED:
        return Text("?", style="dim")
    return Text("✗", style="bold #ff5f5f")


class WebhookTable(Guarded, DataTable[str | Text]):
    def __init__(self, display: Display, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.display_ = display
        self.records: dict[str, ReceivedWebhook] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def add_record(self, record: ReceivedWebhook) -> None:
        key = str(record.id) if record.id else f"live-{len(self.records)}"
        if key in self.records:
            return  # loaded from history and delivered live: show once
        self.records[key] = record
        counts = record.counts or {}
        done = counts.get("COMPLETED", 0) + counts.get("FAILED", 0) + counts.get("CANCELLED", 0)
        size = record.submitted_items_count
        self.add_row(
            self.display_.time_ms(record.received_at_ms),
            event_label(record),
            clip(record.bulk_id or record.object_id or "", 40),  # any length a sender chose
            status_text(record.bulk_status)
            if record.bulk_status
            else Text(record.event_type or "", style="dim"),
            f"{done}/{size}" if size is not None else "",
            signature_mark(record),
            Text("⧉", style="bold #ffaf5f") if record.duplicate else "",
            Text(str(record.http_status), style="" if record.accepted else "bold #ff5f5f"),
            key=key,
        )

    def selected_record(self) -> ReceivedWebhook | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return self.records.get(str(key.value))
