"""A new bulk: the kind, the size and the share of failing items for the generator, or a JSON file of items.

Generating is plain CPU work (≤ 10,000 small dicts, a few ms) and reading a local file is not network I/O,
so both happen here; the submission itself is done by the app in a worker.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Select, Static

from bulkdash.contract.kinds import KINDS, UNIQUE_TARGET_KINDS, OperationKind
from bulkdash.model.generate import (
    GenerateError,
    describe_limits,
    fail_share_from_percent,
    generate,
    load_items,
    size_limit,
)
from bulkdash.ui import sheets
from bulkdash.ui.screens.dialog import Dialog


@dataclass(frozen=True, slots=True)
class NewBulkChoice:
    kind: OperationKind
    items: list[dict[str, Any]]
    source: str  # "generated" or the file name


class NewBulkScreen(Dialog[NewBulkChoice | None]):
    CSS_PATH = sheets.LATER
    VERTICAL_BREAKPOINTS = sheets.SHORT_TERMINAL
    BINDINGS = [Binding("escape", "close", "Close", id="new.close")]

    def __init__(self, *, token: str | None = None) -> None:
        super().__init__(id="new-bulk")
        # Makes generated user emails unique across bulks; fixed in snapshot mode for identical screens.
        self.token = token or secrets.token_hex(3)

    def compose(self) -> ComposeResult:
        with Vertical(id="new-dialog", classes="dialog"):
            yield Static("New bulk", classes="dialog-title")
            yield Static("Operation", classes="field-label")
            yield Select(
                [(f"{spec.title}  ({spec.operation})", kind.value) for kind, spec in KINDS.items()],
                value=OperationKind.TRANSFERS.value,
                allow_blank=False,
                id="new-kind",
            )
            with Horizontal(classes="field-row"):
                with Vertical(classes="field"):
                    yield Static("Size (1–10,000)", classes="field-label")
                    # "number", not "integer": that type drops a typed "." (5.5 became 55, a user found); the
                    # whole-number check below says what is wrong instead.
                    yield Input("100", type="number", id="new-size")
                with Vertical(classes="field"):
                    yield Static("Failing items (0–100 %)", classes="field-label")
                    yield Input("10", type="number", id="new-fail")
            yield Static("", id="new-limits", classes="hint", markup=False)
            yield Static("…or load the items from a JSON file (an array of items)", classes="field-label")
            yield Input(placeholder="path/to/items.json (optional)", id="new-file")
            yield Static("", id="new-error", classes="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Submit", variant="primary", id="new-submit")
                yield Button("Close", id="new-close")

    def on_mount(self) -> None:
        if getattr(getattr(self.app, "display_", None), "frozen", False):
            for field in self.query(Input):
                field.cursor_blink = False  # a blinking cursor would make snapshots flaky
        self._show_limits()
        self.query_one("#new-size", Input).focus()

    def _kind(self) -> OperationKind:
        return OperationKind(str(self.query_one("#new-kind", Select).value))

    def _fail_share(self) -> float:
        try:
            return min(100.0, max(0.0, float(self.query_one("#new-fail", Input).value or 0))) / 100
        except ValueError:
            return 0.0

    @on(Select.Changed, "#new-kind")
    @on(Input.Changed, "#new-fail")
    def _show_limits(self) -> None:
        kind = self._kind()
        text = describe_limits(kind)
        if kind in UNIQUE_TARGET_KINDS:
            limit = size_limit(kind, self._fail_share())
            text += f". With this share of failures: at most {limit} item(s)."
        self.query_one("#new-limits", Static).update(text)

    @on(Button.Pressed, "#new-submit")
    @on(Input.Submitted)
    def _submit(self) -> None:
        error = self.query_one("#new-error", Static)
        kind = self._kind()
        path = self.query_one("#new-file", Input).value.strip()
        try:
            if path:
                items = load_items(Path(path))
                source = Path(path).name
            else:
                raw_size = self.query_one("#new-size", Input).value.strip()
                try:
                    size = int(raw_size)
                except ValueError:
                    raise GenerateError("the size must be a whole number") from None
                # Checked here, not clamped: 10001 % is a typo, not a request for 100 %.
                share = fail_share_from_percent(self.query_one("#new-fail", Input).value)
                items = generate(kind, size, share, token=self.token)
                source = "generated"
        except GenerateError as exc:
            error.update(str(exc))
            return
        self.dismiss(NewBulkChoice(kind, items, source))

    @on(Button.Pressed, "#new-close")
    def action_close(self) -> None:
        self.dismiss(None)
