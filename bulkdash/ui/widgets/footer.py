"""The footer of every screen: the keys that apply now, each one whole, fitted to the width there is, and
rebuilt once per refresh however many binding changes arrived meanwhile.

Which keys: Textual's ``check_action`` of the screen and the app (a bulk's state, read-only mode, training)
decides; a key it hides (``False``) is not listed, one it greys (``None``) is listed dimmed.

Fitting: Textual's Footer scrolls sideways when its keys are wider than the terminal, which cut the last ones
("? Help q", "n New bu" in an 80-column terminal or a browser tab). This one tries, in order, until the keys
fit: the full labels; compact spacing; each binding's short label (``SHORT``); then it drops the hints of the
lowest priority (``PRIORITY``), the rightmost first, and the help key says "more" (help lists every key).

Coalescing: opening a screen moves focus several times (the table, the filter, the search box), and Textual's
Footer recomposes every key on each change: measured ~120 ms of blocked loop when a run screen opens.
Coalescing those into one recompose keeps key presses responsive while a bulk's screen opens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from bulkdash.ui.guard import Guarded

#: A shorter label for a binding (by its id), used when the full labels do not fit.
SHORT = {
    "app.new_bulk": "New",
    "app.webhooks": "Hooks",
    "app.api_log": "API",
    "home.execute": "Exec",
    "run.execute": "Exec",
    "run.search": "Find",
    "run.prev_page": "Prev",
    "run.next_page": "Next",
    "op.copy_request": "Request",
    "op.copy_response": "Response",
    "api_log.copy": "curl",
    "webhook.copy": "Copy",
    "connect.edit": "Edit",
    "checklist.back": "Back",
    "checklist.next": "Next",
}
#: What a hint is worth when space is short (0 is never dropped; the highest goes first).
PRIORITY = {
    "app.help": 0,
    "app.quit": 1,
    "app.checklist": 1,
    "checklist.next": 1,
    "home.open": 1,
    "home.execute": 1,
    "home.pause": 1,
    "home.resume": 1,
    "home.cancel": 1,
    "run.execute": 1,
    "run.pause": 1,
    "run.resume": 1,
    "run.cancel": 1,
    "app.new_bulk": 2,
    "home.filter": 2,
    "run.search": 2,
    "run.filter": 2,
    "app.webhooks": 3,
    "run.timeline": 3,
    "run.export": 3,
    "app.api_log": 4,
    "run.prev_page": 4,
    "run.next_page": 4,
}
#: Leaving a screen (``*.back``, ``*.close``) is worth as much as help; anything else not listed: this.
DEFAULT_PRIORITY = 2
#: The command palette's key (ctrl+p) goes with the least worth hints: help and the palette itself list it.
PALETTE_PRIORITY = 4
#: The help key's label once hints were dropped: help lists them all.
MORE = "more"
HELP_ID = "app.help"


@dataclass(frozen=True, slots=True)
class Hint:
    """One key of the footer, as it may be drawn."""

    key: str
    key_display: str
    description: str
    action: str
    enabled: bool = True
    tooltip: str = ""
    id: str | None = None

    @property
    def short(self) -> str:
        return SHORT.get(self.id or "", self.description)

    @property
    def priority(self) -> int:
        binding_id = self.id or ""
        if binding_id in PRIORITY:
            return PRIORITY[binding_id]
        if binding_id.endswith((".back", ".close")):
            return 0
        return DEFAULT_PRIORITY


@dataclass(frozen=True, slots=True)
class Layout:
    """The keys that fit, each with the label it is drawn with, and the spacing."""

    keys: tuple[tuple[Hint, str], ...]
    palette: Hint | None
    compact: bool


def key_width(hint: Hint, label: str, *, compact: bool) -> int:
    """Cells a ``FooterKey`` takes (Textual's Footer CSS): " k label " apart, "k label" + a margin compact."""
    return cell_len(hint.key_display) + cell_len(label) + (2 if compact else 3)


def palette_width(hint: Hint, *, compact: bool) -> int:
    """The palette key (always drawn compact) is docked right with a left border, and then a padding on its
    right, or (compact footer) a margin."""
    return cell_len(hint.key_display) + cell_len(hint.description) + 3


def fit(hints: Iterable[Hint], palette: Hint | None, width: int) -> Layout:
    """The first way of drawing ``hints`` (and the palette key) that is no wider than ``width``."""
    hints = list(hints)

    def total(keys: Iterable[tuple[Hint, str]], palette: Hint | None, compact: bool) -> int:
        drawn = sum(key_width(hint, label, compact=compact) for hint, label in keys)
        return drawn + (0 if palette is None else palette_width(palette, compact=compact))

    full = tuple((hint, hint.description) for hint in hints)
    if total(full, palette, False) <= width:
        return Layout(full, palette, compact=False)
    if total(full, palette, True) <= width:
        return Layout(full, palette, compact=True)
    short = [(hint, hint.short) for hint in hints]
    if total(short, palette, True) <= width:
        return Layout(tuple(short), palette, compact=True)
    # Drop hints, the least worth first and, among equals, the rightmost (the palette key, None here, is the
    # last one); once a hint is gone, the help key says "more".
    candidates: list[Hint | None] = [hint for hint in hints if hint.priority > 0]
    if palette is not None:
        candidates.append(None)

    def worth(index: int) -> tuple[int, int]:
        candidate = candidates[index]
        return (PALETTE_PRIORITY if candidate is None else candidate.priority, index)

    dropped: set[int] = set()
    keys = short
    for index in sorted(range(len(candidates)), key=worth, reverse=True):
        candidate = candidates[index]
        if candidate is None:
            palette = None
        else:
            dropped.add(id(candidate))
        keys = [
            (hint, MORE if hint.id == HELP_ID and dropped else label)
            for hint, label in short
            if id(hint) not in dropped
        ]
        if total(keys, palette, True) <= width:
            break
    return Layout(tuple(keys), palette, compact=True)


class CoalescingFooter(Guarded, Footer):
    _recompose_pending = False
    #: What the keys were last composed from: ``hints()`` and the width they were fitted to (a binding
    #: check that changes neither, or a resize to the same width, redraws nothing).
    _drawn: tuple[object, int] | None = None

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus and self._drawn is not None:
            # Textual's Footer keeps its keys while the app is out of focus. But never drawn at all is not a
            # state to keep: a browser tab (``bulkdash serve``) may not report focus, and the keys came only
            # with a resize of the screen (none when the bulks are the first screen).
            return
        if self.is_attached and screen is self.screen:
            self._schedule_recompose()

    def _schedule_recompose(self) -> None:
        if not self._recompose_pending:
            self._recompose_pending = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_pending = False
        # The same keys, in the same states, at the same width as drawn: nothing to do. Opening a run page
        # asked ~11 times (each binding check as its state arrived), and every recompose mounted the keys
        # again and laid the whole screen out (issue 16, benchmarks/dash_live: keys stalled meanwhile).
        if self.is_attached and (self.hints(), self._width()) == self._drawn:
            return
        await self.recompose()

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and (self._drawn is None or event.size.width != self._drawn[1]):
            self._schedule_recompose()

    def _width(self) -> int:
        # Before its first layout the footer has no size: it spans the screen (it is docked at the bottom).
        return self.size.width or self.screen.size.width or self.app.size.width

    def hints(self) -> tuple[list[Hint], Hint | None]:
        """The keys to show (one per action, in Textual's order), and the command palette's."""
        active = self.screen.active_bindings
        hints: list[Hint] = []
        actions: set[str] = set()
        for _node, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in actions:
                continue
            actions.add(binding.action)
            hints.append(self._hint(binding, enabled, tooltip))
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            found = active.get(self.app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _node, binding, enabled, _tooltip = found
                palette = self._hint(binding, enabled, binding.tooltip or binding.description)
        return hints, palette

    def _hint(self, binding: Binding, enabled: bool, tooltip: str) -> Hint:
        return Hint(
            binding.key,
            self.app.get_key_display(binding),
            binding.description,
            binding.action,
            enabled,
            tooltip,
            binding.id,
        )

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self._width()
        hints, palette = self.hints()
        self._drawn = ((hints, palette), width)
        layout = fit(hints, palette, width)
        self.compact = layout.compact
        # Each key is born with the ``compact`` the binding gives it, and its class: a key starts compact
        # (Textual's default) and its watcher set the class as it mounted, then the binding cleared it — a
        # restyle of the key each time (~1 ms apiece, a dozen keys, on every screen's first frame).
        compact = "-compact" if layout.compact else ""
        for hint, label in layout.keys:
            key = FooterKey(
                hint.key,
                hint.key_display,
                label,
                hint.action,
                classes=compact,
                disabled=not hint.enabled,
                tooltip=hint.tooltip or (hint.description if label != hint.description else ""),
            )
            key.set_reactive(FooterKey.compact, layout.compact)
            yield key.data_bind(compact=Footer.compact)
        if layout.palette is not None:
            hint = layout.palette
            yield FooterKey(
                hint.key,
                hint.key_display,
                hint.description,
                hint.action,
                classes="-command-palette -compact",  # always compact (Textual's default for a key)
                disabled=not hint.enabled,
                tooltip=hint.tooltip,
            )

    @property
    def labels(self) -> list[str]:
        """What the footer shows, e.g. ``["esc Bulks", "p Pause", …]`` (tests)."""
        return [f"{key.key_display} {key.description}".strip() for key in self.query(FooterKey)]
