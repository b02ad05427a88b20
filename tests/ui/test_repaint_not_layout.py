"""A running bulk's updates repaint the run page's header lines and the status bar, one fixed row each; they
do not lay the whole screen out again (``Static.update``'s default: ~20 ms at 120×36 on every poll of a
running bulk, the longest stalls of the keys while it ran — issue 16, ``benchmarks/dash_live``)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets._footer import FooterKey

from bulkdash.contract.models import BulkProcessDetails, status_counts
from bulkdash.model.run import RunModel
from bulkdash.ui.format import Display
from bulkdash.ui.sheets import FIRST, LATER
from bulkdash.ui.widgets.footer import CoalescingFooter
from bulkdash.ui.widgets.run_header import RunHeader
from bulkdash.ui.widgets.status_bar import StatusBar
from tests.ui.helpers import SIZE, until

N = 1000


class HeaderApp(App[None]):
    CSS_PATH = [*FIRST, *LATER]  # the app's own style sheets: the rows' fixed sizes are what makes this safe

    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")
        yield StatusBar(id="status")


def running(model: RunModel, done: int) -> None:
    counts = {"SUBMITTED": N - done - 1, "RUNNING": 1, "COMPLETED": done, "FAILED": 0, "CANCELLED": 0}
    model.apply_details(
        BulkProcessDetails(
            bulkId="1000001",
            status="RUNNING",
            mode="ON_FAILURE_CONTINUE",
            submittedItemsCount=N,
            operationStatusCounts=status_counts(counts),
            executionStart=1_767_225_600_000,
        )
    )


async def test_a_running_bulks_updates_ask_for_no_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    model = RunModel("1000001", clock=lambda: 0.0)
    app = HeaderApp()
    async with app.run_test(size=SIZE) as pilot:
        header = app.query_one(RunHeader)
        running(model, 0)
        header.show(model, Display())
        await pilot.pause()
        heights = [line.region.height for line in header.children]
        layouts: list[str] = []
        refresh = Widget.refresh

        def spy(self: Widget, *regions: Any, **kwargs: Any) -> Widget:
            if kwargs.get("layout") and (self is header or header in self.ancestors):
                layouts.append(f"{type(self).__name__}#{self.id}")
            return refresh(self, *regions, **kwargs)

        monkeypatch.setattr(Widget, "refresh", spy)
        for done in (10, 250, 999):
            running(model, done)
            header.show(model, Display())
            app.query_one(StatusBar).refresh_status()
            await pilot.pause()
        assert layouts == []
        assert [line.region.height for line in header.children] == heights == [1, 1, 1, 1, 1]
        assert "999/1,000" in str(header.query_one("#run-rates").render())  # repainted all the same


async def test_the_status_bar_skips_unchanged_text(monkeypatch: pytest.MonkeyPatch) -> None:
    app = HeaderApp()
    async with app.run_test(size=SIZE) as pilot:
        bar = app.query_one(StatusBar)
        await pilot.pause()
        updates: list[object] = []
        monkeypatch.setattr(bar, "update", lambda content, **kw: updates.append(content))
        bar.refresh_status()
        bar.refresh_status()
        assert updates == []  # the same text as on mount


class KeysApp(App[None]):
    BINDINGS = [("p", "pause", "Pause"), ("c", "cancel", "Cancel")]
    CSS_PATH = FIRST
    pausable = True

    def compose(self) -> ComposeResult:
        yield CoalescingFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.pausable if action == "pause" else True


async def test_the_footer_recomposes_only_when_its_keys_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a run page asked the footer ~11 times for the same keys; each recompose mounted them again and
    laid the whole screen out."""
    app = KeysApp()
    async with app.run_test(size=SIZE) as pilot:
        footer = app.query_one(CoalescingFooter)
        await pilot.pause()
        assert "p Pause" in footer.labels
        recomposed: list[int] = []
        recompose = CoalescingFooter.recompose

        async def spy(self: CoalescingFooter) -> None:
            recomposed.append(1)
            await recompose(self)

        monkeypatch.setattr(CoalescingFooter, "recompose", spy)
        for _ in range(5):
            app.refresh_bindings()
            await pilot.pause()
        assert recomposed == []  # the same keys: nothing redrawn
        app.pausable = False
        app.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert recomposed == [1]  # Pause now disabled: drawn again, once


@pytest.mark.parametrize("width", [SIZE[0], 26])  # wide: keys drawn in full; 26: the compact fit
async def test_footer_keys_mount_without_a_restyle(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """A key started compact (Textual's default), its watcher set the class as it mounted and the footer's
    binding cleared it again: two restyles of every key on every screen's first frame."""
    restyled: list[str] = []
    update = FooterKey.update_node_styles

    def spy(self: FooterKey, animate: bool = True) -> None:
        restyled.append(self.description)
        update(self, animate=animate)

    monkeypatch.setattr(FooterKey, "update_node_styles", spy)
    app = KeysApp()
    async with app.run_test(size=(width, SIZE[1])) as pilot:
        await pilot.pause()
        footer = app.query_one(CoalescingFooter)
        assert footer.labels
        keys = list(footer.query(FooterKey))
        assert all(key.has_class("-compact") == key.compact for key in keys)
        bound = [key for key in keys if not key.has_class("-command-palette")]  # that one is always compact
        assert any(key.compact for key in bound) == (width < SIZE[0])
        assert restyled == []


class KeysScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        yield CoalescingFooter()


class UnfocusedKeysApp(KeysApp):
    def get_default_screen(self) -> Screen[None]:
        return KeysScreen()  # the first screen, as the bulks are bulkdash's: it gets no resize

    def on_mount(self) -> None:
        self.app_focus = False  # a browser tab (``bulkdash serve``) that has not reported focus


async def test_the_footer_draws_its_keys_before_the_app_has_focus() -> None:
    """Out of focus, a footer keeps the keys it drew; one that never drew any must still draw them (it waited
    for a resize of the screen, which a first screen need not get)."""
    app = UnfocusedKeysApp()
    async with app.run_test(size=SIZE) as pilot:
        footer = app.query_one(CoalescingFooter)
        await until(pilot, lambda: footer.labels, what="the keys")
        assert not app.app_focus
        assert "p Pause" in footer.labels
