"""The run header's title line: what it says of the bulk's mode."""

from __future__ import annotations

from textual.app import App, ComposeResult

from bulkdash.contract.models import BulkProcessDetails
from bulkdash.model.run import RunModel
from bulkdash.ui.format import Display
from bulkdash.ui.widgets.run_header import RunHeader
from tests.model.test_pace import details


class HeaderApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RunHeader()


def title(app: HeaderApp) -> str:
    return str(app.query_one("#run-title").content)


async def test_a_bulk_ended_by_webhook_before_its_mode_was_seen_is_not_called_not_executed() -> None:
    """A user's trial: a bulk finished while the polls waited out a 429, its end came by webhook, and the
    header read "COMPLETED  not executed" for ~20 s."""
    app = HeaderApp()
    async with app.run_test(size=(120, 10)):
        header = app.query_one(RunHeader)
        model = RunModel("1")
        model.apply_details(details("SUBMITTED", 4, 0))  # polled before its execute: no mode yet
        header.show(model, Display(frozen=True))
        assert "not executed" in title(app)
        model.apply_progress_event("COMPLETED", {"COMPLETED": 4})
        header.show(model, Display(frozen=True))
        assert "COMPLETED" in title(app) and "not executed" not in title(app)
        assert "mode not seen yet" in title(app)
        mode = details("COMPLETED", 4, 4).model_copy(update={"mode": "ON_FAILURE_STOP"})
        assert isinstance(mode, BulkProcessDetails)
        model.apply_details(mode)
        header.show(model, Display(frozen=True))
        assert "ON_FAILURE_STOP" in title(app)
