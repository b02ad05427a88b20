"""The report of the bulk on screen while it is written: a progress bar (pages fetched of pages expected),
what it is doing (``12/100 pages · waiting for the request budget · 51 s``) and a Cancel button.

A report paces itself within the request budget, so a 10,000-operation bulk takes more than a minute: this
panel says it is moving, and lets it be stopped (nothing is written then). Hidden while no report runs, and
empty until the first one starts: composed with every run page, its bar, indeterminate, redrew itself 15 times
a second while hidden, and its four widgets (and their classes' default CSS) were styled as each page opened,
for a panel most pages never show (issue 16).
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
    _wanted = False  # a report is under way: shown (once its parts are mounted)

    def compose(self) -> ComposeResult:
        yield from ()  # the parts come with the first report (``_parts``)

    def _parts(self) -> None:
        """Mount the panel's widgets, once (they stay, hidden, for the next report)."""
        if not self.children:
            self.mount(
                Static("Report", classes="report-label", markup=False),
                ProgressBar(total=None, show_eta=False, show_percentage=False, id="report-progress"),
                Static("starting…", id="report-text", markup=False),
                Button("Cancel report", id="report-cancel", variant="error", compact=True),
            )

    def _show(self) -> None:
        self._wanted = True
        self._reveal()

    def _reveal(self) -> None:
        if not self._wanted or not self.is_attached or self.has_class("-visible"):
            return  # finished, or its page closed, meanwhile; or shown already
        if all(child.is_mounted for child in self.children):
            self.add_class("-visible")
            return
        # Shown once its parts are mounted: shown while they still were, the run header below it was drawn
        # moved down but cut by a line, for up to a second (until its next layout).
        self.call_after_refresh(self._reveal)

    @property
    def running(self) -> bool:
        return self._wanted

    def start(self) -> None:
        """A report began: an indeterminate bar until its first page says how many there are."""
        self._parts()
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#report-text", Static).update("starting…")
        self._show()

    def show_progress(self, progress: Progress) -> None:
        self._parts()
        self._show()
        self.query_one(ProgressBar).update(total=progress.pages_total, progress=progress.pages_done)
        self.query_one("#report-text", Static).update(progress_text(progress))

    @property
    def text(self) -> str:
        """What the panel says it is doing ("" before the first report)."""
        if not self.children:
            return ""
        return str(self.query_one("#report-text", Static).content)

    def finish(self) -> None:
        self._wanted = False
        self.remove_class("-visible")
        if self.children:
            # A bar left indeterminate (a report cancelled before its first page) redraws itself 15 times a
            # second, hidden or not; a known total stops that.
            bar = self.query_one(ProgressBar)
            if bar.total is None:
                bar.update(total=1, progress=0)
