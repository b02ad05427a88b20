"""A webhook accepted on its ``webhooks-key`` alone reads "key only — body not signed" wherever a webhook is
shown — the webhooks table, the detail screen, the report — and never like a valid signature."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from textual.app import App, ComposeResult

from bulkdash.report import build_report
from bulkdash.ui.format import Display
from bulkdash.ui.screens.webhook_detail import WebhookDetailScreen
from bulkdash.ui.widgets.webhook_table import WebhookTable
from bulkdash.webhooks import KeyVerdict, ReceivedWebhook, SignatureVerdict
from tests.webhooks.test_webhook_store import draft

KEY_ONLY = "key only — body not signed"


def signed() -> ReceivedWebhook:
    return dataclasses.replace(draft(call_ref="ref-signed"), id=1, webhooks_key=KeyVerdict.VALID)


def key_only() -> ReceivedWebhook:
    """As the bulk_process_end contract allows it: request-ref, timestamp and webhooks-key, no signature."""
    return dataclasses.replace(
        draft(call_ref="ref-key"),
        id=2,
        signature_v2=SignatureVerdict.MISSING,
        signature_v1=SignatureVerdict.MISSING,
        webhooks_key=KeyVerdict.VALID,
    )


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield WebhookTable(Display(), id="table")


async def test_table_shows_key_only_in_words_and_whole() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 20)) as pilot:
        table = app.query_one(WebhookTable)
        table.add_record(signed())
        table.add_record(key_only())
        await pilot.pause()
        marks = [str(table.get_row_at(i)[5]) for i in range(2)]
        assert marks == ["✓", KEY_ONLY]
        sig = table.columns[next(k for k in table.columns if k.value == "sig")]
        assert sig.get_render_width(table) >= len(KEY_ONLY)  # not cut to "key…"


class DetailApp(App[None]):
    def __init__(self, record: ReceivedWebhook) -> None:
        super().__init__()
        self.record = record

    def on_mount(self) -> None:
        self.push_screen(WebhookDetailScreen(self.record))


async def _verdicts(record: ReceivedWebhook) -> str:
    app = DetailApp(record)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        return str(app.screen.query_one("#webhook-verdicts").content)


async def test_detail_screen_words_key_only_apart_from_a_signature() -> None:
    key_lines = (await _verdicts(key_only())).splitlines()
    signed_lines = (await _verdicts(signed())).splitlines()
    assert KEY_ONLY in key_lines and "signature valid" not in key_lines
    assert "signature valid" in signed_lines and KEY_ONLY not in signed_lines


class _Client:
    """Just what ``build_report`` asks of a client, for a finished bulk with no operations."""

    async def get_bulk(self, bulk_id: str, **_: Any) -> Any:
        return SimpleNamespace(
            bulkId=bulk_id,
            status="COMPLETED",
            mode="ON_FAILURE_CONTINUE",
            operation="transfers",
            submittedItemsCount=0,
            executionStart=None,
            executionFinish=None,
            operationStatusCounts=[],
        )

    async def list_operations(self, bulk_id: str, **_: Any) -> Any:
        return SimpleNamespace(operations=[], count=0, total=0)


async def test_report_words_key_only_in_markdown_and_json_lines(tmp_path: Path) -> None:
    records = [signed(), key_only()]
    report = await build_report(_Client(), "1000042", webhooks=records, stable=True)  # type: ignore[arg-type]
    rows = [line for line in report.markdown.splitlines() if "/bulk_process_end/watch" in line]
    assert len(rows) == 2
    assert "| ✓ |" in rows[0] and KEY_ONLY not in rows[0]
    assert f"| {KEY_ONLY} |" in rows[1] and "✓" not in rows[1]

    out = report.write(tmp_path / "r")
    lines = [json.loads(line) for line in (out / "webhooks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["verification"] for line in lines] == ["signature valid", KEY_ONLY]
