"""The home screen: every bulk of the identity with status, operation, size, progress, start and end.

A worker polls ``GET /bulks`` (every ~3 s while something runs and the screen is shown, ~30 s otherwise, at
once after an action or a bulk webhook) and posts ``BulksFetched``; the handler updates changed cells only.
Progress needs each bulk's counts: they are fetched for bulks that can still move and cached for final ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Select, Static

from bulkdash.api.budget import BudgetExhausted
from bulkdash.api.client import ApiError
from bulkdash.contract.models import FINAL_BULK_STATUSES, BulkProcessDetails
from bulkdash.ui.format import BULK_STATUSES
from bulkdash.ui.messages import BulksFetched, BulksPage
from bulkdash.ui.readonly import ReadOnlyAware
from bulkdash.ui.widgets.banner import Banner
from bulkdash.ui.widgets.bulks_table import BulksTable
from bulkdash.ui.widgets.footer import CoalescingFooter
from bulkdash.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from bulkdash.ui.app import BulkdashApp

PAGE = 100
FAST_POLL_S = 3.0  # something runs and the screen is shown
SLOW_POLL_S = 30.0
FINAL = {s.value for s in FINAL_BULK_STATUSES}
#: Details of at most this many not-yet-seen final bulks per poll (each is one request of the budget).
DETAILS_PER_POLL = 10


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
        self.status_filter: str | None = None
        self.page = 0  # 0 = the newest bulks
        self.total = 0
        self.on_screen = True
        self._wake = asyncio.Event()
        self._final_details: dict[str, BulkProcessDetails] = {}
        self._shown_key: tuple[object, ...] | None = None
        self.polls = 0

    @property
    def bulkdash(self) -> BulkdashApp:
        return self.app  # type: ignore[return-value]

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
        if self.bulkdash.session is not None:
            self.session_ready()

    def session_ready(self) -> None:
        self.query_one("#home-empty", Static).update("No bulks yet: press n to submit one.")
        self.run_worker(
            self._poll(), name="home-poll", group="home-poll", exclusive=True, exit_on_error=False
        )

    def session_failed(self, error: str) -> None:
        self.query_one(Banner).show(f"Not connected: {error}  (press g to retry)", "error")
        self.query_one("#home-empty", Static).update("Not connected.")

    # --- polling (worker) ---------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    async def _poll(self) -> None:
        errors = 0
        while True:
            self._wake.clear()
            page = await self._fetch()
            self.post_message(BulksFetched(page))
            if page.error:
                errors += 1
                delay = page.retry_in_s or min(30.0, 2.0**errors)
            else:
                errors = 0
                running = any(str(b.status) in ("RUNNING",) for b in page.bulks)
                delay = FAST_POLL_S if running and self.on_screen else SLOW_POLL_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _fetch(self) -> BulksPage:
        session = self.bulkdash.session
        key = (self.status_filter, self.page)
        page = BulksPage(page_key=key)
        if session is None:
            return page
        client = session.client
        try:
            # Newest first: the API lists in ascending id order, so the newest page is the last one.
            offset = max(0, self.total - PAGE * (self.page + 1))
            result = await client.list_bulks(offset, PAGE, self.status_filter)
            if result.count != self.total and result.count > PAGE:
                self.total = result.count
                offset = max(0, result.count - PAGE * (self.page + 1))
                result = await client.list_bulks(offset, PAGE, self.status_filter)
            self.total = result.count
            page.total = result.count
            page.bulks = list(reversed(result.bulkProcesses))
            uncached = 0
            for bulk in page.bulks:
                status = str(bulk.status)
                if status == "SUBMITTED":
                    continue  # nothing ran yet: progress is 0 without asking
                cached = self._final_details.get(bulk.bulkId)
                if cached is not None and status in FINAL:
                    page.details[bulk.bulkId] = cached
                    continue
                if status in FINAL:
                    if uncached >= DETAILS_PER_POLL:
                        continue
                    uncached += 1
                elif client.budget.headroom() < 0.5:
                    continue  # keep the budget for the run being watched
                details = await client.get_bulk(bulk.bulkId)
                page.details[bulk.bulkId] = details
                if str(details.status) in FINAL:
                    self._final_details[bulk.bulkId] = details
        except BudgetExhausted as exc:
            page.error, page.retry_in_s = f"Waiting: {exc.reason}", min(60.0, exc.wait_s + 0.1)
        except ApiError as exc:
            page.error = str(exc)
            page.retry_in_s = exc.retry_after_s if exc.status == 429 else None
        except (
            Exception
        ) as exc:  # never let a surprise end the poll loop (or reach the screen as a traceback)
            page.error = f"Unexpected error while listing bulks: {type(exc).__name__}: {exc}"
        return page

    # --- applying -----------------------------------------------------------------------------------
    def on_bulks_fetched(self, message: BulksFetched) -> None:
        page = message.page
        self.polls += 1
        banner = self.query_one(Banner)
        if page.error:
            retry = f" — retrying in {page.retry_in_s:.0f} s" if page.retry_in_s else " — retrying"
            banner.show(page.error + retry, "error")
            self.bulkdash.connection.failed(page.error)
            return
        banner.hide()
        self.bulkdash.connection.ok()
        if page.page_key != (self.status_filter, self.page):
            return  # the user changed the filter while this poll was in flight
        table = self.query_one(BulksTable)
        display = self.bulkdash.display_
        rows = [table.cells(b, page.details.get(b.bulkId), display) for b in page.bulks]
        for bulk in page.bulks:
            self.bulkdash.note_state(bulk.bulkId, str(bulk.status))
        if self._shown_key != page.page_key:
            table.rebuild(rows)
            self._shown_key = page.page_key
        else:
            table.apply(rows)
        self.query_one("#home-empty", Static).display = not rows
        pages = max(1, math.ceil(page.total / PAGE))
        info = f"{page.total:,} bulk(s)" + (f" · page {self.page + 1}/{pages}" if pages > 1 else "")
        self.query_one("#home-page-info", Static).update(info)

    # --- events and actions -------------------------------------------------------------------------
    def on_screen_suspend(self) -> None:
        self.on_screen = False

    def on_screen_resume(self) -> None:
        self.on_screen = True
        self.wake()

    @on(DataTable.RowSelected, "#bulks")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.bulkdash.open_bulk(str(event.row_key.value))

    @on(Select.Changed, "#home-status")
    def _status_changed(self, event: Select.Changed) -> None:
        value = event.value
        self.status_filter = None if value is Select.NULL else str(value)
        self.page = 0
        self.total = 0
        self.query_one(BulksTable).focus()
        self.wake()

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
        if self.bulkdash.session is None:
            self.bulkdash.connect()
        else:
            self.wake()

    def action_page(self, delta: int) -> None:
        pages = max(1, math.ceil(self.total / PAGE))
        new = min(max(0, self.page + delta), pages - 1)
        if new != self.page:
            self.page = new
            self.wake()

    def action_execute(self) -> None:
        if (bulk_id := self.selected()) is not None:
            self.bulkdash.request_execute(bulk_id)

    def action_pause(self) -> None:
        if (bulk_id := self.selected()) is not None:
            self.bulkdash.bulk_action(bulk_id, "pause")

    def action_resume(self) -> None:
        if (bulk_id := self.selected()) is not None:
            self.bulkdash.bulk_action(bulk_id, "resume")

    def action_cancel(self) -> None:
        if (bulk_id := self.selected()) is not None:
            self.bulkdash.request_cancel(bulk_id)
