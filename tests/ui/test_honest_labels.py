"""Labels that say what they show (issue 14): the webhooks table's Bulk column holds bulk ids only, a
transaction webhook names its own transaction; the tab numbers read as keys, not counts; the execute dialog
says how the simulator raises a small webhookInterval; a run's header shows a finished run's mean rate."""

from __future__ import annotations

import dataclasses
import math

from textual.app import App, ComposeResult
from textual.widgets import Tab

from bulkdash.contract.models import BulkProcessDetails, status_counts
from bulkdash.model.run import RunModel
from bulkdash.ui.format import Display
from bulkdash.ui.screens.execute import INTERVAL_HINT
from bulkdash.ui.screens.webhooks import WebhooksScreen
from bulkdash.ui.widgets.run_header import RunHeader
from bulkdash.ui.widgets.webhook_table import WebhookTable, event_label
from bulkdash.webhooks import EventKind, ReceivedWebhook
from bulkdash.webhooks.records import EventFacts
from tests.ui.helpers import SIZE, connected, make_app, until
from tests.webhooks.test_webhook_store import draft


def transfer_webhook() -> ReceivedWebhook:
    return dataclasses.replace(
        draft(),
        id=2,
        path="/transfers/watch",
        kind=EventKind.TRANSFER,
        facts=EventFacts(event_type="COMPLETED", object_id="1000005"),
    )


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield WebhookTable(Display(), id="table")


async def test_the_bulk_column_holds_bulk_ids_only() -> None:
    app = TableApp()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(WebhookTable)
        table.add_record(dataclasses.replace(draft(), id=1))
        table.add_record(transfer_webhook())
        await pilot.pause()
        bulk, transfer = (table.get_row_at(i) for i in range(2))
        assert str(bulk[2]) == "1000042"
        # The transfer's id was in the Bulk column; it is now named as what it is, beside its kind.
        assert str(transfer[2]) == "" and str(transfer[1]) == "transfer 1000005"
        assert str(transfer[3]) == "COMPLETED"  # its event type, in the Status column
    assert event_label(dataclasses.replace(transfer_webhook(), facts=EventFacts())) == "transfer ?"


async def test_the_tabs_say_their_numbers_are_keys_and_the_bulk_is_not_said_twice() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        screen = WebhooksScreen(bulk_id="1000001", tab="timeline")
        await app.push_screen(screen)
        await until(pilot, lambda: app.screen is screen)
        labels = [str(tab.label) for tab in screen.query(Tab)]
        assert labels == ["Received · key 1", "Delivery timeline · key 2"]  # was "Received (1)"
        # The toolbar says "Bulk" before the choice: the choice is the id alone (was "Bulk bulk 1000001").
        assert screen._bulk_options()[0] == ("1000001", "1000001")


def test_the_interval_hint_states_the_quarter_rule_with_true_numbers() -> None:
    # docs/behaviour.md 6.4: I = max(w, ⌈N/4⌉); progress at multiples of I below N.
    interval = max(100, math.ceil(2000 / 4))
    fired = [a for a in range(1, 2000) if a % interval == 0]
    assert fired == [500, 1000, 1500]
    assert "at least a quarter of the bulk" in INTERVAL_HINT
    assert "100 on 2,000 operations gives progress webhooks at 500, 1,000 and 1,500" in INTERVAL_HINT


class HeaderApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")


async def test_a_finished_run_shows_its_mean_rate_not_zero() -> None:
    model = RunModel("1000001", clock=lambda: 0.0)
    counts = {"SUBMITTED": 0, "RUNNING": 0, "COMPLETED": 2000, "FAILED": 0, "CANCELLED": 0}
    model.apply_details(
        BulkProcessDetails(
            bulkId="1000001",
            status="COMPLETED",
            submittedItemsCount=2000,
            operationStatusCounts=status_counts(counts),
            executionStart=1_767_225_600_000,
            executionFinish=1_767_225_700_000,
        )
    )
    app = HeaderApp()
    async with app.run_test(size=SIZE) as pilot:
        header = app.query_one(RunHeader)
        header.show(model, Display())
        await pilot.pause()
        rates = str(header.query_one("#run-rates").render())
        assert "mean 20.0 ops/s" in rates and "0 ops/s" not in rates.replace("20.0 ops/s", "")
        assert "ETA" not in rates  # an ended run has none
