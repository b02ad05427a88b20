"""The home screen: every bulk of the identity with status, operation, size, progress, start and end.

The service's ``BulksFollower`` polls the list (faster while something runs and this screen is shown) and each
page arrives as ``BulksFetched``; the handler updates changed cells only. The status filter and the page
are the follower's: this screen only says what the user picked.

A bulk whose follow-up failed (or that has no id) is marked on its own row, and the line under the table says
why for the row under the cursor; only a failed listing is a banner over the whole screen, counting down to
the next try.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Select, Static

from bulkdash.service.actions import BulkAction, allowed
from bulkdash.ui import flows, sheets
from bulkdash.ui.format import BULK_STATUSES, clip, count
from bulkdash.ui.guard import Guarded
from bulkdash.ui.messages import BulksFetched
from bulkdash.ui.readonly import ReadOnlyAware
from bulkdash.ui.widgets.banner import Banner
from bulkdash.ui.widgets.bulks_table import BulksTable, bulk_rows
from bulkdash.ui.widgets.footer import CoalescingFooter
from bulkdash.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from bulkdash.service import DashboardService
    from bulkdash.service.bulks import BulksFollower
    from bulkdash.ui.app import BulkdashApp


class HomeScreen(Guarded, ReadOnlyAware, Screen[None]):
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
        #: The status of each bulk of the page shown, by id: which lifecycle keys the selected one offers.
        self._statuses: dict[str, str | None] = {}
        self._offered: tuple[bool | None, ...] = ()

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
        yield Static("", id="home-row-note", classes="row-note", markup=False)
        # Read-only, n is refused: the hints do not offer it.
        offer = "" if self.bulkdash.read_only else "  press n to submit a new bulk once connected"
        yield Static(f"Connecting…{offer}", id="home-empty", classes="empty-hint")
        yield StatusBar(id="home-status-bar")
        yield CoalescingFooter()

    def on_mount(self) -> None:
        self.query_one(BulksTable).focus()
        service = self.bulkdash.started_service  # None on the first frame: built just after it
        if service is not None:
            self.service_started(service)

    def service_started(self, service: DashboardService) -> None:
        """The service exists (built after the first frame): follow the bulks while this screen is shown."""
        service.bulks.on_screen = self.is_current
        if service.session is not None:
            self.session_ready()

    def session_ready(self) -> None:
        # Not "no bulks" yet: only an answer says that (an unreachable endpoint has a session too).
        self.query_one("#home-empty", Static).update("Asking the server for its bulks…")

    def _no_bulks(self) -> str:
        return "No bulks yet." if self.bulkdash.read_only else "No bulks yet: press n to submit one."

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
        if self.polls == 1:
            # Connected: the other screens' style sheets, read once this page is drawn, so the first bulk to
            # open does not wait for them (``bulkdash.ui.sheets``).
            self.call_after_refresh(sheets.preload_later, self.app)
        banner = self.query_one(Banner)
        if page.error:
            severity = "warning" if page.error.startswith("Waiting") else "error"
            banner.show(page.error, severity, retry_at=page.retry_at, clock=self.service.clock)
            return
        banner.hide()
        if page.page_key != self.follower.key:
            return  # the user changed the filter while this poll was in flight
        table = self.query_one(BulksTable)
        rows = bulk_rows(page.bulks, page.details, page.row_errors, self.bulkdash.display_)
        table.show(rows, rebuild=self._shown_key != page.page_key)
        self._shown_key = page.page_key
        # As the table shows it (the list's status), so the keys agree with the row under the cursor.
        self._statuses = {
            bulk.bulkId: None if bulk.status is None else str(bulk.status)
            for bulk in page.bulks
            if bulk.bulkId is not None
        }
        self._offer_keys()
        empty = self.query_one("#home-empty", Static)
        empty.display = not rows
        if not rows:
            empty.update(self._no_bulks())
        self._show_row_note()
        pages = page.pages
        info = f"{count(page.total)} bulk(s)"
        if pages > 1:
            info += f" · page {self.follower.page + 1}/{pages}"
        self.query_one("#home-page-info", Static).update(info)

    def _show_row_note(self) -> None:
        """Why the row under the cursor is marked (a refused follow-up, no id); nothing for a fine row."""
        row = self.query_one(BulksTable).selected_row()
        note = self.query_one("#home-row-note", Static)
        if row is None or row.problem is None:
            note.display = False
            return
        name = f"Bulk {clip(row.bulk_id, 40)}" if row.bulk_id is not None else "This bulk"
        note.update(f"⚠ {name}: {clip(row.problem, 300)}")
        note.display = True

    @on(DataTable.RowHighlighted, "#bulks")
    def _row_highlighted(self) -> None:
        self._show_row_note()
        self._offer_keys()

    # --- the keys the selected bulk's state allows ---------------------------------------------------
    def _lifecycle_state(self, action: str) -> bool | None:
        """``allowed`` for the bulk under the cursor; nothing to act on (no rows, no id) hides the key."""
        tables = self.query(BulksTable)
        bulk_id = tables.first().selected_bulk() if tables else None
        if bulk_id is None:
            return False
        service = self.bulkdash.started_service
        expected = service.expected_status(bulk_id) if service is not None else None
        return allowed(expected or self._statuses.get(bulk_id), BulkAction(action))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = super().check_action(action, parameters)
        if state and action in flows.LIFECYCLE:
            return self._lifecycle_state(action)
        return state

    def _offer_keys(self) -> None:
        """Refresh the footer's keys when what the selected bulk allows changed (not at every poll)."""
        offered = tuple(self._lifecycle_state(action) for action in sorted(flows.LIFECYCLE))
        if offered != self._offered:
            self._offered = offered
            self.refresh_bindings()

    # --- events and actions -------------------------------------------------------------------------
    def on_screen_suspend(self) -> None:
        if self.bulkdash.started_service is not None:
            self.follower.on_screen = False

    def on_screen_resume(self) -> None:
        if self.bulkdash.started_service is not None:  # else ``service_started`` does this
            self.follower.on_screen = True
            self.wake()

    @on(DataTable.RowSelected, "#bulks")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is None:
            return
        bulk_id = self.query_one(BulksTable).bulk_of(str(event.row_key.value))
        if bulk_id is None:
            self.notify("This bulk has no id: it cannot be opened", severity="warning", timeout=3)
            return
        self.bulkdash.open_bulk(bulk_id)

    @on(Select.Changed, "#home-status")
    def _status_changed(self, event: Select.Changed) -> None:
        value = event.value
        self.query_one(BulksTable).focus()
        self.follower.set_filter(None if value is Select.NULL else str(value))

    def selected(self) -> str | None:
        table = self.query_one(BulksTable)
        bulk_id = table.selected_bulk()
        if bulk_id is None:
            no_id = table.selected_row() is not None
            self.notify("This bulk has no id" if no_id else "No bulk selected", severity="warning")
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
            self._offer_keys()  # the keys that apply once it is paused, for the next key already

    def action_resume(self) -> None:
        if (bulk_id := self.selected()) is not None:
            flows.act(self.bulkdash, bulk_id, BulkAction.RESUME)
            self._offer_keys()

    def action_cancel(self) -> None:
        if (bulk_id := self.selected()) is not None:
            flows.cancel(self.bulkdash, bulk_id)
