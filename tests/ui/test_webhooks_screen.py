"""The webhooks screen: every webhook received with its verdicts, its headers and body on enter, and the
delivery timeline of a bulk joining API calls, state changes and webhooks."""

from __future__ import annotations

import dataclasses

from textual.widgets import TabbedContent

from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.screens.webhook_detail import WebhookDetailScreen
from bulkdash.ui.screens.webhooks import WebhooksScreen, merged_history
from bulkdash.ui.widgets.json_view import JsonView
from bulkdash.ui.widgets.timeline_table import TimelineTable
from bulkdash.ui.widgets.webhook_table import WebhookTable
from bulkdash.webhooks import ReceivedWebhook
from tests.ui.helpers import SIZE, connected, execute, make_app, notes, submit_bulk, until
from tests.webhooks.test_webhook_store import draft


async def test_webhooks_list_detail_and_timeline() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=20, fail_percent=0)
        await execute(pilot, interval=5)  # progress webhooks at 5, 10, 15; the end webhook at 20
        await until(pilot, lambda: run.model.is_final)
        await until(pilot, lambda: app.webhook_count == 4, what="4 bulk webhooks")

        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WebhooksScreen))
        screen = app.screen
        table = screen.query_one(WebhookTable)
        await until(pilot, lambda: table.row_count == 4, what="4 rows")
        rows = [table.get_row_at(i) for i in range(4)]
        assert [str(r[1]) for r in rows] == ["bulk progress"] * 3 + ["bulk end"]
        assert {str(r[2]) for r in rows} == {run.bulk_id}
        assert [str(r[4]) for r in rows] == ["5/20", "10/20", "15/20", "20/20"]
        assert str(rows[-1][3]) == "COMPLETED"
        assert all(str(r[5]) == "✓" for r in rows)  # signature-v2 verified
        assert all(str(r[6]) == "" for r in rows)  # no duplicates

        table.focus()
        table.move_cursor(row=3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WebhookDetailScreen))
        detail = app.screen
        body = detail.query_one("#webhook-body", JsonView)
        assert body.text is not None and '"status": "COMPLETED"' in body.text
        assert "signature-v2" in str(detail.query_one("#webhook-verdicts").content)
        await pilot.press("c")
        await until(pilot, lambda: app.clipboard == body.text)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)

        # The delivery timeline of this bulk.
        screen.query_one("#timeline-bulk").value = run.bulk_id
        await pilot.press("2")
        assert screen.query_one(TabbedContent).active == "tab-timeline"
        timeline = screen.query_one(TimelineTable)
        await until(pilot, lambda: timeline.row_count > 0, what="timeline rows")
        sources = [str(timeline.get_row_at(i)[1]) for i in range(timeline.row_count)]
        texts = [str(timeline.get_row_at(i)[2]) for i in range(timeline.row_count)]
        assert {"api", "state", "webhook"} <= set(sources)
        assert any(t.startswith(f"POST /bulks/{run.bulk_id}/execute → 204") for t in texts)
        assert any("RUNNING → COMPLETED" in t or "SUBMITTED → COMPLETED" in t for t in texts), texts
        assert any("/bulk_process_end/watch COMPLETED sig ✓" in t for t in texts)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RunScreen))

        # t on a run opens its timeline directly.
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, WebhooksScreen))
        assert app.screen.query_one(TabbedContent).active == "tab-timeline"
        # Opened later from the bulks list, the timeline shows the bulk last chosen (it came back empty,
        # "choose a bulk"; a user's trial).
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, RunScreen))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RunScreen))
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WebhooksScreen))
        assert app.screen.query_one("#timeline-bulk").value == run.bulk_id
        assert not [n for n in notes(app) if "Unexpected" in n]


def test_the_history_and_the_live_records_merge_in_the_order_received() -> None:
    """A user's trial, ~2,800 webhooks into a session: reopened, the screen listed the history's newest 500
    first and this session's older live records after them (21:15 under 21:21)."""
    def rec(rid: int) -> ReceivedWebhook:
        return dataclasses.replace(draft(call_ref=f"ref-{rid}"), id=rid)

    history = [rec(i) for i in range(2301, 2801)]  # the newest 500, oldest first
    live = [rec(i) for i in range(1, 2801, 7)]  # this session's, older ones among them
    unstored = dataclasses.replace(draft(call_ref="not-stored"), id=0)
    merged = merged_history(history, [*live, unstored])
    ids = [r.id for r in merged]
    assert ids[:-1] == sorted({*range(2301, 2801), *range(1, 2801, 7)})
    assert merged[-1] is unstored
