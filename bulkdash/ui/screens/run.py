"""One bulk run: its header (status, mode, counts, progress, throughput, ETA, sparkline, times) and the
operations table of the one page on screen, updated live.

The service follows the bulk into this screen's ``RunModel`` (``follow_run``); each update arrives as
``RunUpdated``, whose handler redraws the header and calls ``update_cell`` for the changed cells only (the
table is rebuilt only when the page itself is replaced: first load, page move, status filter, search). The
screen is installed by the app, so the bulk is still followed (slowly) while another screen is shown.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, DataTable, Header, Input, Select, Static

from bulkdash.model.run import PAGE_SIZE, RunModel
from bulkdash.service.actions import BulkAction, allowed
from bulkdash.ui import flows, sheets
from bulkdash.ui.format import COUNT_ORDER, clip, count
from bulkdash.ui.guard import Guarded
from bulkdash.ui.messages import RunUpdated
from bulkdash.ui.readonly import ReadOnlyAware
from bulkdash.ui.screens.operation import OperationScreen
from bulkdash.ui.widgets.banner import Banner
from bulkdash.ui.widgets.footer import CoalescingFooter
from bulkdash.ui.widgets.ops_table import OpsTable
from bulkdash.ui.widgets.report_panel import ReportPanel
from bulkdash.ui.widgets.run_header import RunHeader
from bulkdash.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from bulkdash.model.report_progress import Progress
    from bulkdash.service import DashboardService
    from bulkdash.ui.app import BulkdashApp

#: Bulk ids that can be a screen's id as they are (Textual ids allow letters, digits, ``_`` and ``-``).
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


def screen_name(bulk_id: str) -> str:
    """The name (and Textual id) of the run screen of ``bulk_id``: ``run-7``. A server's id can hold any
    character and be any length, so any other id is named by its digest (``run--`` never starts a plain one).
    """
    if _PLAIN_ID.fullmatch(bulk_id):
        return f"run-{bulk_id}"
    return "run--" + hashlib.sha256(bulk_id.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class RunScreen(Guarded, ReadOnlyAware, Screen[None]):
    CSS_PATH = sheets.LATER
    TITLE = "bulkdash"

    BINDINGS = [
        Binding("escape", "back", "Bulks", id="run.back"),
        Binding("x", "execute", "Execute", id="run.execute"),
        Binding("p", "pause", "Pause", id="run.pause"),
        Binding("r", "resume", "Resume", id="run.resume"),
        Binding("c", "cancel", "Cancel", id="run.cancel"),
        Binding("slash", "search", "Search", id="run.search"),
        Binding("f", "filter", "Filter", id="run.filter"),
        Binding("t", "timeline", "Timeline", id="run.timeline"),
        Binding("e", "export", "Report", id="run.export"),
        # Hidden from the footer (in the palette and help).
        Binding("g", "refresh", "Refresh", id="run.refresh", show=False),
        Binding("b", "toggle_brief", "Brief", id="run.toggle_brief", show=False),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="run.prev_page"),
        Binding("right_square_bracket", "page(1)", "Next page", id="run.next_page"),
    ]

    def __init__(self, bulk_id: str) -> None:
        super().__init__(id=screen_name(bulk_id))
        self.bulk_id = bulk_id
        self.model = RunModel(bulk_id)
        self.sub_title = f"Bulk {clip(bulk_id, 40)}"
        self.last_error: str | None = None
        self.updates = 0

    @property
    def bulkdash(self) -> BulkdashApp:
        return self.app  # type: ignore[return-value]

    @property
    def service(self) -> DashboardService:
        return self.bulkdash.service

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="▤")
        yield Banner(id="run-banner")
        yield ReportPanel(id="run-report")
        training = self.service.training
        if training is not None and training.bulk_id == self.bulk_id:
            from bulkdash.ui.widgets.brief import Brief  # training only: not on the start-up path

            yield Brief(training, id="run-brief")
        yield RunHeader(id="run-header")
        with Horizontal(id="run-filters", classes="toolbar"):
            yield Static("Status", classes="toolbar-label")
            yield Select([(s, s) for s in COUNT_ORDER], prompt="All", id="run-status", compact=True)
            yield Input(placeholder="/ search this page (status, path, errorCode, id…)", id="run-search")
            yield Static("", id="run-page-info", classes="toolbar-info")
        yield OpsTable(id="ops")
        yield StatusBar(id="run-status-bar")
        yield CoalescingFooter()

    def on_mount(self) -> None:
        if getattr(getattr(self.app, "display_", None), "frozen", False):
            for field in self.query(Input):
                field.cursor_blink = False  # a blinking cursor would make snapshots flaky
        self.query_one(OpsTable).focus()
        if self.service.session is not None:
            self.service.follow_run(self.bulk_id, self.model)
        if self.service.report_running(self.bulk_id):
            self.query_one(ReportPanel).start()

    def on_unmount(self) -> None:
        self.service.unfollow_run(self.bulk_id)

    def on_screen_suspend(self) -> None:
        self.service.watch_run(self.bulk_id, on_screen=False)

    def on_screen_resume(self) -> None:
        self.refresh_brief()  # the checklist may have moved on meanwhile
        self.service.watch_run(self.bulk_id, on_screen=True)

    def refresh_brief(self) -> None:
        for brief in self.query(".brief"):
            brief.show()  # type: ignore[attr-defined]

    def wake(self) -> None:
        """Poll the bulk now."""
        self.service.wake_run(self.bulk_id)

    # --- the keys the bulk's state allows -----------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = super().check_action(action, parameters)
        if state and action in flows.LIFECYCLE:
            # Shown and enabled when the state allows it, hidden when not, greyed until the status is known.
            # As the actions already asked for will leave it: p r pressed together pause, then resume.
            status = self.service.expected_status(self.bulk_id) or self.model.status
            return allowed(status, BulkAction(action))
        if state and action == "cancel_report":
            # In the palette while a report of this bulk is being written (besides the panel's button).
            return self.service.report_running(self.bulk_id)
        return state

    # --- applying updates ---------------------------------------------------------------------------
    def on_run_updated(self, message: RunUpdated) -> None:
        update = message.update
        self.updates += 1
        banner = self.query_one(Banner)
        if update.error:
            self.last_error = update.error
            severity = "warning" if update.error.startswith("Waiting") else "error"
            banner.show(update.error, severity, retry_at=update.retry_at, clock=self.service.clock)
            return
        if self.last_error is not None:
            self.last_error = None
            banner.hide()
        change = update.change
        if change is not None:
            self.query_one(RunHeader).show(self.model, self.bulkdash.display_)
            if change.status_changed:
                self.refresh_bindings()  # other lifecycle keys apply now
            if change.became_final and change.previous_status is not None:
                self._announce_final()
        table = self.query_one(OpsTable)
        if update.page_replaced:
            table.rebuild(self.model.visible_rows())
        elif update.changed_rows:
            self._apply_rows(table, update.changed_rows)
        self._show_page_info()

    def _apply_rows(self, table: OpsTable, changed: list[int]) -> None:
        visible = self.model.visible_rows()
        visible_ids = {row.row_id for row in visible}
        # Rows that left the page (a status filter) or no longer match the search.
        table.drop([row_id for row_id in table.shown if row_id not in visible_ids])
        wanted = set(changed)
        rows = [row for row in visible if row.row_id in wanted]
        if not table.apply(rows):
            table.rebuild(visible)

    def _announce_final(self) -> None:
        counts = self.model.counts
        status = self.model.status or "?"
        parts = ", ".join(
            f"{count(counts[s])} {s.lower()}" for s in ("COMPLETED", "FAILED", "CANCELLED") if counts.get(s)
        )
        severity = "information" if status == "COMPLETED" else "warning"
        text = f"Bulk {clip(self.bulk_id, 40)} {clip(status, 40)}: {parts or 'no operations'}"
        self.notify(text, severity=severity, timeout=8, markup=False)

    def _show_page_info(self) -> None:
        model = self.model
        total = model.filtered_total if model.status_filter else model.n
        if total <= 0:
            info = "no operations" if model.details is not None else "loading…"
        else:
            first = model.page_offset + 1
            last = min(model.page_offset + PAGE_SIZE, total)
            pages = math.ceil(total / PAGE_SIZE)
            info = f"{first:,}–{last:,} of {total:,}"
            if pages > 1:
                info += f" · page {model.page_offset // PAGE_SIZE + 1}/{pages}"
        if model.search:
            info += f" · {model.search_summary()}"
        # One row of a one-row toolbar (``.toolbar-info``): a repaint, not a layout (see RunHeader._line).
        self.query_one("#run-page-info", Static).update(info, layout=False)

    # --- events -------------------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#ops")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        row = self.model.rows.get(int(event.row_key.value))  # keyed by the row's ``row_id``
        if row is not None:
            self.app.push_screen(OperationScreen(self.bulk_id, row))

    @on(OpsTable.EdgeReached)
    def _edge(self, event: OpsTable.EdgeReached) -> None:
        self.action_page(event.direction)

    @on(Select.Changed, "#run-status")
    def _status_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else str(event.value)
        if value == self.model.status_filter:
            return
        self.model.set_filter(value)
        self.query_one(OpsTable).rebuild([])  # a new page: the follower fetches it now
        self._show_page_info()
        self.query_one(OpsTable).focus()
        self.wake()

    @on(Input.Changed, "#run-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.model.search = event.value.strip()
        self.query_one(OpsTable).rebuild(self.model.visible_rows())  # local: no request
        self._show_page_info()

    @on(Input.Submitted, "#run-search")
    def _search_done(self) -> None:
        self.query_one(OpsTable).focus()

    # --- actions ------------------------------------------------------------------------------------
    def action_back(self) -> None:
        if self.focused is not None and self.focused.id == "run-search":
            self.query_one(OpsTable).focus()
            return
        self.bulkdash.show_bulks()  # what the footer says, even for a run opened from another run

    def action_page(self, delta: int) -> None:
        if self.model.details is None:
            return
        if self.model.set_page(self.model.page_offset + delta * PAGE_SIZE):
            self.query_one(OpsTable).rebuild([])
            self._show_page_info()
            self.wake()
        else:
            self.notify("No more pages that way", timeout=2)

    def action_refresh(self) -> None:
        self.wake()

    def action_toggle_brief(self) -> None:
        """Fold the scenario's brief away (and back) to give the operations its lines."""
        for brief in self.query(".brief"):
            brief.display = not brief.display

    def action_search(self) -> None:
        self.query_one("#run-search", Input).focus()

    def action_filter(self) -> None:
        self.query_one("#run-status", Select).focus()

    def action_timeline(self) -> None:
        self.bulkdash.show_webhooks(bulk_id=self.bulk_id, tab="timeline")

    def action_export(self) -> None:
        if not flows.connected(self.bulkdash):
            return
        if self.service.report_running(self.bulk_id):
            self.notify("A report of this bulk is being written (Cancel report stops it)", timeout=3)
            return
        self.service.export_report(self.bulk_id)
        self.query_one(ReportPanel).start()

    # --- a report being written (the service says how far it is) ------------------------------------
    def report_progressed(self, progress: Progress) -> None:
        self.query_one(ReportPanel).show_progress(progress)

    def report_ended(self) -> None:
        self.query_one(ReportPanel).finish()

    @on(Button.Pressed, "#report-cancel")
    def _cancel_report(self) -> None:
        self.action_cancel_report()

    def action_cancel_report(self) -> None:
        if not self.service.cancel_report(self.bulk_id):
            self.query_one(ReportPanel).finish()  # nothing under way (any more)

    def action_execute(self) -> None:
        flows.execute(self.bulkdash, self.bulk_id)

    def action_pause(self) -> None:
        flows.act(self.bulkdash, self.bulk_id, BulkAction.PAUSE)
        self.refresh_bindings()  # the keys that apply once it is paused, for the next key already

    def action_resume(self) -> None:
        flows.act(self.bulkdash, self.bulk_id, BulkAction.RESUME)
        self.refresh_bindings()

    def action_cancel(self) -> None:
        flows.cancel(self.bulkdash, self.bulk_id)
