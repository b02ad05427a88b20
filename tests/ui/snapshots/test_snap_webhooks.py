"""Snapshots of the webhooks screen and of one webhook's detail."""

from __future__ import annotations

from textual.pilot import Pilot

from bulkdash.ui.screens.webhooks import WebhooksScreen
from bulkdash.ui.widgets.webhook_table import WebhookTable
from tests.ui.helpers import connected, execute, submit_bulk, until
from tests.ui.snapshots.conftest import SNAP_SIZE, frozen_app, settle


async def webhooks_received(pilot: Pilot) -> WebhooksScreen:
    app = await connected(pilot)
    run = await submit_bulk(pilot, kind="transfers", size=100, fail_percent=10)
    await execute(pilot, interval=25)
    await until(pilot, lambda: run.model.is_final and app.webhook_count == 4)
    await pilot.press("w")
    await until(pilot, lambda: isinstance(app.screen, WebhooksScreen))
    screen = app.screen
    assert isinstance(screen, WebhooksScreen)
    await until(pilot, lambda: screen.query_one(WebhookTable).row_count == 4)
    return screen


def test_webhooks_received(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await webhooks_received(pilot)

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_webhook_detail(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        screen = await webhooks_received(pilot)
        screen.query_one(WebhookTable).move_cursor(row=3)
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen.id == "webhook-detail")

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))
