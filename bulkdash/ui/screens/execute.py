"""Execute a bulk: the mode (ON_FAILURE_CONTINUE / ON_FAILURE_STOP) and an optional webhookInterval."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from bulkdash.ui import sheets
from bulkdash.ui.screens.dialog import Dialog

MODES = ("ON_FAILURE_CONTINUE", "ON_FAILURE_STOP")
#: The effective interval is max(w, ⌈N/4⌉) (docs/behaviour.md 6.4, decision A16): say so, with numbers, or
#: a user asking for every 100 operations wonders why the first webhook comes at 500.
INTERVAL_HINT = (
    "The simulator raises it to at least a quarter of the bulk, as Weavr's schema says: 100 on 2,000 "
    "operations gives progress webhooks at 500, 1,000 and 1,500, then the end webhook."
)


@dataclass(frozen=True, slots=True)
class ExecuteChoice:
    mode: str
    webhook_interval: int | None


class ExecuteScreen(Dialog[ExecuteChoice | None]):
    CSS_PATH = sheets.LATER
    VERTICAL_BREAKPOINTS = sheets.SHORT_TERMINAL
    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="execute.close")]

    def __init__(self, bulk_id: str, suggested: ExecuteChoice | None = None, why: str = "") -> None:
        """``suggested`` pre-fills the dialog (a training scenario's options, ``why`` says so)."""
        super().__init__(id="execute")
        self.bulk_id = bulk_id
        self.suggested = suggested
        self.why = why

    def compose(self) -> ComposeResult:
        with Vertical(id="execute-dialog", classes="dialog"):
            yield Static(f"Execute bulk {self.bulk_id}", classes="dialog-title", markup=False)
            if self.why:
                yield Static(self.why, classes="hint", markup=False)
            stop = self.suggested is not None and self.suggested.mode == MODES[1]
            yield Static("Mode", classes="field-label")
            with RadioSet(id="execute-mode"):
                yield RadioButton(
                    "ON_FAILURE_CONTINUE — run every operation", value=not stop, id="mode-continue"
                )
                yield RadioButton("ON_FAILURE_STOP — stop at the first failure", value=stop, id="mode-stop")
            yield Static(
                "webhookInterval (progress webhook every N operations; empty: end only)",
                classes="field-label",
            )
            yield Static(INTERVAL_HINT, classes="hint", markup=False, id="execute-interval-hint")
            interval = self.suggested.webhook_interval if self.suggested else None
            yield Input(
                "" if interval is None else str(interval),
                placeholder="e.g. 100",
                type="integer",
                id="execute-interval",
            )
            yield Static("", id="execute-error", classes="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Execute", variant="primary", id="execute-go")
                yield Button("Close", id="execute-close")

    def on_mount(self) -> None:
        if getattr(getattr(self.app, "display_", None), "frozen", False):
            for field in self.query(Input):
                field.cursor_blink = False  # a blinking cursor would make snapshots flaky
        self.query_one(RadioSet).focus()

    def _choice(self) -> ExecuteChoice | None:
        stop = self.query_one("#mode-stop", RadioButton).value
        raw = self.query_one("#execute-interval", Input).value.strip()
        interval: int | None = None
        if raw:
            try:
                interval = int(raw)
            except ValueError:
                interval = 0
            if interval < 1:
                self.query_one("#execute-error", Static).update("webhookInterval must be a whole number ≥ 1")
                return None
        return ExecuteChoice(MODES[1] if stop else MODES[0], interval)

    @on(Button.Pressed, "#execute-go")
    @on(Input.Submitted, "#execute-interval")
    def _go(self) -> None:
        choice = self._choice()
        if choice is not None:
            self.dismiss(choice)

    @on(Button.Pressed, "#execute-close")
    def action_dismiss_none(self) -> None:
        self.dismiss(None)
