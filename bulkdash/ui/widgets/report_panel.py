"""The report of the bulk on screen while it is written: a progress bar (pages fetched of pages expected),
what it is doing (``12/100 pages · waiting for the request budget · waited 45 s``) and a Cancel button.

A report paces itself within the request budget, so a 10,000-operation bulk takes more than a minute: this
panel says it is moving, and lets it be stopped (nothing is written then). Hidden while no report runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, ProgressBar, Static

from bulkdash.model.report_progress import progress_text
from bulkdash.ui.guard import Guarded

if TYPE_CHECKING:
    from bulkdash.model.report_progress import Progress


class ReportPanel(Guarded, Horizontal):
    DEFAULT_CLASSES = "report-panel"

    def compose(self) -> ComposeResult:
        yield Static("Report", classes="report-label", markup=False)
        yield ProgressBar(total=None, show_eta=False, id="report-progress")
        yield Static("starting…", id="report-text", markup=False)
        yield Button("Cancel report", id="report-cancel", variant="error", compact=True)

    @property
    def running(self) -> bool:
        return self.has_class("-visible")

    def start(self) -> None:
        """A report began: an indeterminate bar until its first page says how many there are."""
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#report-text", Static).update("starting…")
        self.add_class("-visible")

    def show_progress(self, progress: Progress) -> None:
        self.add_class("-visible")
        self.query_one(ProgressBar).update(total=progress.pages_total, progress=progress.pages_done)
        self.query_one("#report-text", Static).update(progress_text(progress))

    @property
    def text(self) -> str:
        return str(self.query_one("#report-text", Static).content)

    def finish(self) -> None:
        self.remove_class("-visible")
