"""The home screen: every bulk of the identity with status, operation, size, progress, start and end.

The service's ``BulksFollower`` polls the list (faster while something runs and this screen is shown) and each
page arrives as ``BulksFetched``; the handler updates changed cells only. The status filter and the page
are the follower's: this screen only says what the user picked.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Select, Static

from bulkdash.service.actions import BulkAction
from bulkdash.service.bulks import PAGE
from bulkdash.ui import flows
from bulkdash.ui.format import BULK_STATUSES
from bulkdash.ui.messages import BulksFetched
from bulkdash.ui.readonly import ReadOnlyAware
from bulkdash.ui.widgets.banner import Banner
from bulkdash.ui.widgets.bulks_table import BulksTable
from bulkdash.ui.widgets.footer import CoalescingFooter
from bulkdash.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from bulkdash.service import DashboardService
    from bulkdash.service.bulks import BulksFollower
    from bulkdash.ui.app import BulkdashApp


class HomeScreen(ReadOnlyAware, Screen[None]):
    TITLE = "bulkdash"
    SUB_TITLE = "Bulks"

    BINDINGS = [
        Binding("enter", "open", "Open", id="home.open"),
        Binding("slash", "filter", "Filter", id="home.filter"),
        Binding("x", "execute", "Execute", id="home.execute"),
        Binding("p", "pause", "Pause", id="home.pause"),
        Binding("r", "resume", "Resume", id="home.resume"),
        Binding("c", "cancel", "Cancel", id="home.cancel"),
        Binding("g", "refresh", "Refresh", id="home.refresh", show=False),
        Binding("left_square_bracket", "page(1)", "Older", id="home.older", show=False),
        Binding("right_square_bracket", "page(-1)", "Newer", id="home.newer", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="home")
        self._shown_key: tuple[object, ...] | None = None
        self.polls = 0  # pages shown

    @property
    def bulkdash(self) -> BulkdashApp:
        return self.app  # type: ignore[return-value]

    @property
    def service(self) -> DashboardService:
        return self.bulkdash.service

    @property
    def follower(self) -> BulksFollower:
        return self.service.bulks

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="▤")
        yield Banner(id="home-banner")
        with Horizontal(id="home-filters", classes="toolbar"):
            yield Static("Status", classes="toolbar-label")
            yield Select(
                [(s, s) for s in BULK_STATUSES], prompt="All statuses", id="home-status", compact=True
            )
            yield Static("", id="home-page-info", classes="toolbar-info")
        yield BulksTable(id="bulks")
        yield Static(
            "Connecting…  press n to submit a new bulk once connected", id="home-empty", classes="empty-hint"
        )
        yield StatusBar(id="home-status-bar")
        yield CoalescingFooter()

    def on_mount(self) -> None:
        self.query_one(BulksTable).focus()
        if self.service.session is not None:
            self.session_ready()

    def session_ready(self) -> None:
        self.query_one("#home-empty", Static).update("No bulks yet: press n to submit one.")

    def session_failed(self, error: str) -> None:
        self.query_one(Banner).show(f"Not connected: {error}  (press g to retry)", "error")
        self.query_one("#home-empty", Static).update("Not connected.")

    def wake(self) -> None:
        """Poll the list now."""
        self.follower.wake()

    # --- applying -----------------------------------------------------------------------------------
    def on_bulks_fetched(self, message: BulksFetched) -> None:
        page = message.page
        self.polls += 1
        banner = self.query_one(Banner)
        if page.error:
            retry = f" — retrying in {page.retry_in_s:.0f} s" if page.retry_in_s else " — retrying"
            banner.show(page.error + retry, "error")
            return
        banner.hide()
        if page.page_key != self.follower.key:
            return  # the user changed the filter while this poll was in flight
        table = self.query_one(BulksTable)
        display = self.bulkdash.display_
        rows = [table.cells(b, page.details.get(b.bulkId), display) for b in page.bulks]
        if self._shown_key != page.page_key:
            table.rebuild(rows)
            self._shown_key = page.page_key
        else:
            table.apply(rows)
        self.query_one("#home-empty", Static).display = not rows
        pages = max(1, math.ceil(page.total / PAGE))
        info = f"{page.total:,} bulk(s)" + (f" · page {self.follower.page + 1}/{pages}" if pages > 1 else "")
        self.query_one("#home-page-info", Static).update(info)

    # --- events and actions -------------------------------------------------------------------------
    def on_screen_suspend(self) -> None:
        self.follower.on_screen = False

    def on_screen_resume(self) -> None:
        self.follower.on_screen = True
        self.wake()

    @on(DataTable.RowSelected, "#bulks")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.bulkdash.open_bulk(str(event.row_key.value))

    @on(Select.Changed, "#home-status")
    def _status_changed(self, event: Select.Changed) -> None:
        value = event.value
        self.query_one(BulksTable).focus()
        self.follower.set_filter(None if value is Select.NULL else str(value))

    def selected(self) -> str | None:
        bulk_id = self.query_one(BulksTable).selected_bulk()
        if bulk_id is None:
            self.notify("No bulk selected", severity="warning")
        return bulk_id

    def action_open(self) -> None:
        bulk_id = self.selected()
        if bulk_id is not None:
            self.bulkdash.open_bulk(bulk_id)

    def action_filter(self) -> None:
        self.query_one("#home-status", Select).focus()

    def action_refresh(self) -> None:
        if self.service.session is None:
            self.bulkdash.connect()
        else:
            self.wake()

    def action_page(self, delta: int) -> None:
        self.follower.move_page(delta)

    def action_execute(self) -> None:
        if (bulk_id := self.selected()) is not None:
            flows.execute(self.bulkdash, bulk_id)

    def action_pause(self) -> None:
        if (bulk_id := self.selected()) is not None:
            flows.act(self.bulkdash, bulk_id, BulkAction.PAUSE)

    def action_resume(self) -> None:
        if (bulk_id := self.selected()) is not None:
            flows.act(self.bulkdash, bulk_id, BulkAction.RESUME)

    def action_cancel(self) -> None:
        if (bulk_id := self.selected()) is not None:
            flows.cancel(self.bulkdash, bulk_id)
