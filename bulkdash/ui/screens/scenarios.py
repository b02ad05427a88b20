"""Scenarios: the simulator's training packs (level, title, size, mode) with the customer's report of the one
highlighted; enter sets it up on the simulator and opens its run with the brief (``BulkdashApp``).

The service reads the list from the simulator's control API (it arrives as ``ScenariosLoaded``); it needs a
simulator — the embedded one, which ``bulkdash`` and ``bulkdash train`` start by default.

Read-only (``--read-only``) the packs and their reports are listed but none starts: starting one submits and
runs a bulk, and what a trainee then does (execute, pause, cancel) are the very actions read-only hides. The
screen says so in place of "Start one", and enter explains it rather than only saying "read-only mode".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bulkdash.contract.scenarios import Difficulty, ScenarioSummary
from bulkdash.ui import flows, sheets
from bulkdash.ui.format import LEVEL_STYLE
from bulkdash.ui.messages import ScenariosLoaded
from bulkdash.ui.readonly import ReadOnlyAware, refused
from bulkdash.ui.widgets.footer import CoalescingFooter
from bulkdash.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from bulkdash.service import DashboardService
    from bulkdash.ui.app import BulkdashApp

LEVELS = get_args(Difficulty)  # easiest first
INTRO = (
    "Each scenario is a customer's report. Start one: the simulator plays it, you investigate with the "
    "dashboard and answer its checklist (k)."
)
#: What read-only allows here, said where "Start one" would be.
READ_ONLY_INTRO = (
    "Read-only: you can read each scenario's customer report, but not start one — starting submits and runs "
    "a bulk, and executing, pausing and cancelling it are hidden. Run `bulkdash train` without --read-only "
    "to play them."
)
READ_ONLY_START = "Read-only: scenarios cannot be started (run `bulkdash train` without --read-only)"


class ScenariosScreen(ReadOnlyAware, Screen[None]):
    CSS_PATH = sheets.LATER
    TITLE = "bulkdash"
    SUB_TITLE = "Scenarios"
    AUTO_FOCUS = "#scenarios-table"  # the arrows move through the list at once

    BINDINGS = [
        Binding("escape", "back", "Back", id="scenarios.back"),
        # priority: before the focused table's own (hidden) enter, so the footer shows "⏎ Start".
        Binding("enter", "start_scenario", "Start", id="scenarios.start", priority=True),
        Binding("g", "reload", "Reload", id="scenarios.reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="scenarios")
        self.scenarios: dict[str, ScenarioSummary] = {}
        self.loading = False

    @property
    def bulkdash(self) -> BulkdashApp:
        return self.app  # type: ignore[return-value]

    @property
    def read_only(self) -> bool:
        return refused(self.app, "start_scenario")

    @property
    def service(self) -> DashboardService:
        return self.bulkdash.service

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="▤")
        yield Static(READ_ONLY_INTRO if self.read_only else INTRO, id="scenarios-intro", markup=False)
        with Horizontal(id="scenarios-body"):
            yield DataTable(id="scenarios-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="scenario-detail", can_focus=False):
                yield Static("Loading the scenarios…", id="scenario-report", markup=False)
        yield StatusBar(id="scenarios-status-bar")
        yield CoalescingFooter()

    def on_mount(self) -> None:
        table = self.query_one("#scenarios-table", DataTable)
        table.add_column("Level", key="level", width=12)
        table.add_column("Scenario", key="title", width=42)
        table.add_column("Ops", key="size", width=6)
        table.add_column("On failure", key="mode", width=10)
        self.load()

    def load(self) -> None:
        """List the packs (again); a no-op until the session is connected (the app calls it then)."""
        if self.service.session is None or self.loading:
            return
        self.loading = True
        self.service.list_scenarios()

    def on_scenarios_loaded(self, message: ScenariosLoaded) -> None:
        self.loading = False
        report = self.query_one("#scenario-report", Static)
        if message.error:
            report.update(f"Scenarios are not available: {message.error}")
            return
        table = self.query_one("#scenarios-table", DataTable)
        table.clear()
        self.scenarios = {s.name: s for s in message.scenarios}
        ordered = sorted(message.scenarios, key=lambda s: (LEVELS.index(s.difficulty), s.title))
        for s in ordered:
            table.add_row(
                Text(s.difficulty, style=LEVEL_STYLE.get(s.difficulty, "")),
                s.title,
                f"{s.size:,}",
                s.mode.removeprefix("ON_FAILURE_"),
                key=s.name,
            )
        if ordered:
            self._show(ordered[0].name)
        table.focus()  # pushed while the app was still starting, the screen may have lost its focus

    @on(DataTable.RowHighlighted, "#scenarios-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._show(str(event.row_key.value))

    @on(DataTable.RowSelected, "#scenarios-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_start_scenario()

    def _show(self, name: str) -> None:
        s = self.scenarios.get(name)
        if s is None:
            return
        text = Text()
        text.append(f"{s.title}\n", style="bold")
        text.append(s.difficulty, style=LEVEL_STYLE.get(s.difficulty, ""))
        text.append(f" · {s.size:,} {s.kind} · {s.mode}\n\n", style="dim")
        text.append("The customer says\n", style="bold underline")
        text.append(" ".join(s.narrative.split()) + "\n\n")  # reflowed: the packs wrap it by hand
        you = (
            "you execute the bulk (x) and act on it"
            if s.byClient
            else "the bulk runs once you start it (space) on its screen"
        )
        text.append(f"{len(s.questions)} questions · {you}\n", style="dim")
        if self.read_only:
            text.append(READ_ONLY_START, style="bold #ffaf5f")
        else:
            text.append("enter: start", style="bold #ffaf5f")
        self.query_one("#scenario-report", Static).update(text)

    def selected(self) -> str | None:
        table = self.query_one("#scenarios-table", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    # --- actions ------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()  # the bulks screen is always below

    def action_reload(self) -> None:
        self.load()

    def action_start_scenario(self) -> None:
        """Set the highlighted scenario up on the simulator; the service opens its run once it is."""
        name = self.selected()
        if name is None or name not in self.scenarios:
            return
        if refused(self.app, "start_scenario"):  # enter on the table calls this directly, past check_action
            self.notify(READ_ONLY_START, severity="warning", timeout=6)
            return
        if not flows.connected(self.bulkdash) or self.service.starting_scenario:
            return
        scenario = self.scenarios[name]
        self.notify(f"Setting up “{scenario.title}”…", timeout=3)
        self.service.start_scenario(scenario)
