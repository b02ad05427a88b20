"""Help: the keys of each screen, and where things are."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from bulkdash.ui import sheets
from bulkdash.ui.screens.dialog import Dialog
from bulkdash.ui.widgets.footer import CoalescingFooter

SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Everywhere",
        (
            ("n", "new bulk: generated items (with a share of failing ones) or a JSON file"),
            ("w", "webhooks received, and the delivery timeline of a bulk"),
            ("l", "API calls made, each copyable as curl"),
            ("N", "notifications: every toast shown, newest last"),
            ("o / O / click a header", "sort a table by a column / reverse it"),
            ("?", "this help"),
            ("ctrl+p", "command palette: every action, and themes"),
            ("q", "quit"),
        ),
    ),
    (
        "Bulks (home)",
        (
            ("enter / click", "open the bulk"),
            ("/", "filter by status"),
            ("x p r c", "execute, pause, resume, cancel the selected bulk (state allowing)"),
            ("[ ]", "older / newer page of bulks"),
            ("g", "refresh now"),
        ),
    ),
    (
        "Bulk run",
        (
            ("x", "execute a SUBMITTED bulk: mode (ON_FAILURE_CONTINUE or _STOP) and webhookInterval"),
            ("p r", "pause a RUNNING bulk, resume a PAUSED one"),
            ("c", "cancel a bulk not yet final (asks first)"),
            ("/  f", "search this page, filter by status"),
            ("[ ]  PgUp PgDn", "previous / next page of 100 (PgUp/PgDn at the table's edges)"),
            ("enter", "the operation's request and response (c / v copy them)"),
            ("t", "the bulk's delivery timeline"),
            ("e", "export a report: Markdown + JSON Lines of operations and webhooks"),
            ("esc", "back to the bulks"),
        ),
    ),
    (
        "Webhooks",
        (
            ("1 2", "received list, delivery timeline"),
            ("enter", "headers and body of a webhook (c copies the body)"),
            ("/", "choose the bulk of the timeline"),
        ),
    ),
    (
        "Training (bulkdash train) and presenting — simulator only",
        (
            ("s", "scenarios: a customer's report to investigate; enter plays it"),
            ("space", "start the scenario's run; at “your move”, let it go on (or act: p, c)"),
            ("k", "the scenario's checklist: 1–5 or enter answers, h shows a hint"),
            ("[ ]", "in the checklist: previous / next question (or shift+tab to the list, then ↑ ↓)"),
            ("b", "on the scenario's run: fold its brief away and back"),
            ("P", "pause / resume the whole world: no operation runs, no webhook is sent"),
            (".", "while the world is paused: run exactly one more operation"),
            ("+ -", "faster / slower playback (0.1× to 10×)"),
            ("!", "trigger the next fault now: the next operation fails"),
        ),
    ),
)

NOTES = (
    "The footer lists the keys that apply now: x p r c only when the bulk's state allows them. In a narrow\n"
    "terminal it shortens their labels, then leaves some out and says “? more”: they are all listed here.\n"
    "An action the server refuses says why and what to do, its code in brackets: “Bulk 1000042 is\n"
    "COMPLETED: … [INVALID_STATE]”.\n"
    "--read-only (READ-ONLY on the status bar) hides every action that changes something, scenarios and\n"
    "presenter controls included.\n"
    "The status bar shows the connection and the request budget spent per minute, hour and day."
)


def help_renderable() -> Group:
    parts: list[object] = [Text("bulkdash — Weavr Multi bulk processes", style="bold"), Text("")]
    for title, keys in SECTIONS:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold #ffaf5f", min_width=16)
        table.add_column()
        for key, what in keys:
            table.add_row(key, what)
        parts += [Text(title, style="bold underline"), table, Text("")]
    parts.append(Text(NOTES, style="dim"))
    return Group(*parts)  # type: ignore[arg-type]


class HelpScreen(Dialog[None]):
    CSS_PATH = sheets.LATER
    VERTICAL_BREAKPOINTS = sheets.SHORT_TERMINAL
    BINDINGS = [
        Binding("escape,question_mark", "dismiss", "Close", id="help.close"),
        # The help lists q as quit, and every other screen quits on it (a modal screen hides the app's keys).
        Binding("q", "app.quit", "Quit", id="help.quit", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="help")

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            with VerticalScroll():
                yield Static(help_renderable(), id="help-text")
            yield CoalescingFooter()
