"""A yes/no question (cancel a bulk…): dismisses with True or False."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from bulkdash.ui import sheets
from bulkdash.ui.screens.dialog import Dialog


class ConfirmScreen(Dialog[bool]):
    CSS_PATH = sheets.LATER
    VERTICAL_BREAKPOINTS = sheets.SHORT_TERMINAL
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "", *, yes: str = "Yes") -> None:
        super().__init__(id="confirm")
        self.question = question
        self.detail = detail
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(self.question, id="confirm-question", markup=False)
            if self.detail:
                yield Static(self.detail, id="confirm-detail", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="confirm-yes")
                yield Button("No (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class QuitConfirmScreen(ConfirmScreen):
    """Quit, though something would be lost: ``q`` again answers yes (the app's own ``q`` does not reach past
    a modal screen)."""

    BINDINGS = [Binding("q", "answer(True)", "Quit", id="confirm.quit")]
