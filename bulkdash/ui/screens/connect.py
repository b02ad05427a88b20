"""Connect: pick the embedded simulator or a profile of the config file (shown when it has several), edit a
profile's non-secret fields, and answer a secret the profile leaves to be asked for (masked input).

Choosing only dismisses with the choice: the app builds the session in its connect worker. Secrets are
never shown: rows carry name, base URL and the kind of auth; the edit dialog has no secret fields.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from bulkdash import config
from bulkdash.connect import ConnectChoice, profile_choice
from bulkdash.ui import sheets
from bulkdash.ui.guard import Guarded
from bulkdash.ui.readonly import ReadOnlyAware
from bulkdash.ui.screens.dialog import Dialog
from bulkdash.ui.widgets.footer import CoalescingFooter


class ConnectScreen(Guarded, ReadOnlyAware, Screen[ConnectChoice]):
    CSS_PATH = sheets.LATER
    VERTICAL_BREAKPOINTS = sheets.SHORT_TERMINAL
    TITLE = "bulkdash"
    SUB_TITLE = "Connect"

    BINDINGS = [
        Binding("enter", "choose", "Connect", id="connect.choose"),
        Binding("e", "edit", "Edit profile", id="connect.edit"),
    ]

    def __init__(self, choices: list[ConnectChoice], path: Path | None) -> None:
        super().__init__(id="connect")
        self.choices = choices  # shared with the app: edits show when the screen comes back
        self.path = path

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="▤")
        with Vertical(id="connect-body"):
            yield Static("Connect to", id="connect-title", classes="dialog-title")
            yield OptionList(*self._options(), id="connect-list")
            where = f"Profiles from {self.path}. " if self.path else ""
            yield Static(
                f"{where}enter connects, e edits the selected profile (secrets are not shown or edited).",
                id="connect-hint",
                classes="hint",
                markup=False,
            )
        yield CoalescingFooter()

    def _options(self) -> list[Option]:
        options = []
        for i, choice in enumerate(self.choices):
            label = Text.assemble((f"{choice.title:<28}", "bold"), "  ", (choice.detail, "dim"))
            options.append(Option(label, id=f"choice-{i}"))
        return options

    def _refresh_options(self) -> None:
        listing = self.query_one("#connect-list", OptionList)
        highlighted = listing.highlighted
        listing.clear_options()
        listing.add_options(self._options())
        listing.highlighted = highlighted

    def on_mount(self) -> None:
        listing = self.query_one("#connect-list", OptionList)
        listing.highlighted = 0
        listing.focus()

    @property
    def selected(self) -> ConnectChoice | None:
        index = self.query_one("#connect-list", OptionList).highlighted
        return self.choices[index] if index is not None and 0 <= index < len(self.choices) else None

    @on(OptionList.OptionSelected, "#connect-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose()

    def action_choose(self) -> None:
        choice = self.selected
        if choice is not None:
            self.dismiss(choice)

    def action_edit(self) -> None:
        choice = self.selected
        if choice is None or choice.profile is None or self.path is None:
            self.notify("The embedded simulator has nothing to edit", severity="warning", timeout=3)
            return
        index = self.choices.index(choice)
        path = self.path

        def edited(result: tuple[str, config.Profile] | None) -> None:
            if result is not None:
                name, profile = result
                self.choices[index] = profile_choice(path, name, profile)
                self._refresh_options()
                self.notify(f"Saved profile {name} to {path}", timeout=4, markup=False)

        self.app.push_screen(ProfileEditScreen(path, choice.profile), edited)


class ProfileEditScreen(Dialog[tuple[str, config.Profile] | None]):
    """Name, base URL, receiver port and public URL of one profile; saved to the file (kept 0600)."""

    CSS_PATH = sheets.LATER
    VERTICAL_BREAKPOINTS = sheets.SHORT_TERMINAL

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="profile-edit.cancel")]

    def __init__(self, path: Path, name: str) -> None:
        super().__init__(id="profile-edit")
        self.path = path
        self.profile_name = name
        self.profile = config.load(path, warn=io.StringIO()).profiles[name]

    def compose(self) -> ComposeResult:
        p = self.profile
        with Vertical(id="profile-edit-dialog", classes="dialog"):
            yield Static(f"Edit profile {self.profile_name}", classes="dialog-title", markup=False)
            yield Static("Name", classes="field-label")
            yield Input(self.profile_name, id="edit-name")
            yield Static("Base URL", classes="field-label")
            yield Input(p.base_url, id="edit-base-url")
            yield Static("Receiver port (0: any free one)", classes="field-label")
            yield Input(str(p.receiver_port), id="edit-receiver-port", type="integer")
            yield Static("Public URL of the receiver (optional)", classes="field-label")
            yield Input(p.public_url or "", id="edit-public-url")
            yield Static("Secrets stay in the file as they are (env: or asked for).", classes="hint")
            yield Static("", id="edit-error", classes="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="edit-save")
                yield Button("Cancel (esc)", id="edit-cancel")

    def on_mount(self) -> None:
        self.query_one("#edit-base-url", Input).focus()

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def save(self) -> None:
        port_text = self._value("#edit-receiver-port") or "0"
        changes: dict[str, object] = {
            "base_url": self._value("#edit-base-url"),
            "receiver_port": port_text,
            "public_url": self._value("#edit-public-url") or None,
        }
        name = self._value("#edit-name")
        try:
            profile = config.edit_profile(self.path, self.profile_name, name, changes)
        except config.ConfigError as exc:
            self.query_one("#edit-error", Static).update(str(exc))
            return
        self.dismiss((name, profile))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.save()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "edit-save":
            self.save()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SecretPromptScreen(Dialog[str | None]):
    """A secret the profile leaves to be asked for: masked input; esc declines (None)."""

    CSS_PATH = sheets.LATER
    VERTICAL_BREAKPOINTS = sheets.SHORT_TERMINAL

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="secret.cancel")]

    def __init__(self, prompt: str) -> None:
        super().__init__(id="secret-prompt")
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="secret-dialog", classes="dialog"):
            yield Static(self.prompt.rstrip(": "), classes="dialog-title", markup=False)
            yield Input(password=True, id="secret-input")
            yield Static("enter to connect, esc to give up", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#secret-input", Input).focus()

    @on(Input.Submitted, "#secret-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
