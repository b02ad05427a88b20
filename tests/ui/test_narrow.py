"""At 80×24 every screen's footer shows whole keys: full labels while they fit, then compact spacing, each
binding's short label, then the least worth hints dropped with "? more" (``bulkdash.ui.widgets.footer``).
Textual's own Footer scrolled sideways and cut the last keys ("? Help q", "n New bu")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.widgets.footer import (
    MORE,
    SHORT,
    CoalescingFooter,
    Hint,
    Layout,
    fit,
    key_width,
    palette_width,
)
from tests.test_serve_browser import (
    CATCH_TERMINAL,
    CHROMIUM,
    browser,
    serve_args,  # noqa: F401  (fixtures: bulkdash serve on a free port)
    served,  # noqa: F401
)
from tests.ui.helpers import connected, make_app, submit_bulk, until

SMALL = (80, 24)


def hint(key: str, description: str, binding_id: str) -> Hint:
    return Hint(key, key, description, binding_id.split(".")[-1], id=binding_id)


RUN_KEYS = [
    hint("esc", "Bulks", "run.back"),
    hint("p", "Pause", "run.pause"),
    hint("c", "Cancel", "run.cancel"),
    hint("/", "Search", "run.search"),
    hint("f", "Filter", "run.filter"),
    hint("t", "Timeline", "run.timeline"),
    hint("e", "Report", "run.export"),
    hint("[", "Prev page", "run.prev_page"),
    hint("]", "Next page", "run.next_page"),
    hint("n", "New bulk", "app.new_bulk"),
    hint("w", "Webhooks", "app.webhooks"),
    hint("l", "API calls", "app.api_log"),
    hint("?", "Help", "app.help"),
    hint("q", "Quit", "app.quit"),
]
PALETTE = hint("^p", "palette", "palette")


def drawn(layout_keys: tuple[tuple[Hint, str], ...]) -> list[str]:
    return [f"{h.key_display} {label}" for h, label in layout_keys]


def width_of(layout: Layout) -> int:
    keys = sum(key_width(h, label, compact=layout.compact) for h, label in layout.keys)
    return keys + (0 if layout.palette is None else palette_width(layout.palette, compact=layout.compact))


def test_wide_enough_shows_every_full_label() -> None:
    layout = fit(RUN_KEYS, PALETTE, 200)
    assert not layout.compact and layout.palette is PALETTE
    assert drawn(layout.keys) == [f"{h.key_display} {h.description}" for h in RUN_KEYS]


def test_short_labels_before_dropping_anything() -> None:
    layout = fit(RUN_KEYS, PALETTE, 120)
    assert layout.compact
    assert [h for h, _ in layout.keys] == RUN_KEYS  # every key kept
    assert "n New" in drawn(layout.keys) and "[ Prev" in drawn(layout.keys)
    assert width_of(layout) <= 120


@pytest.mark.parametrize("width", [80, 60, 40, 24])
def test_narrow_drops_the_least_worth_hints_and_says_more(width: int) -> None:
    layout = fit(RUN_KEYS, PALETTE, width)
    labels = drawn(layout.keys)
    assert width_of(layout) <= width
    assert f"? {MORE}" in labels  # help lists what was dropped
    assert "esc Bulks" in labels  # leaving the screen is never dropped
    kept = [h.id for h, _ in layout.keys]
    assert kept == [h.id for h in RUN_KEYS if h.id in kept]  # the order is kept
    if width >= 60:
        assert {"p Pause", "c Cancel", "q Quit"} <= set(labels)
    assert "l API" not in labels and layout.palette is None  # the first to go


def test_every_label_is_whole_full_or_short() -> None:
    for width in range(20, 200):
        for h, label in fit(RUN_KEYS, PALETTE, width).keys:
            assert label in {h.description, SHORT.get(h.id or "", h.description), MORE}


def footer_fits(app: BulkdashApp) -> list[str]:
    """The footer's keys on screen, after checking each is drawn whole inside the footer."""
    footer = app.screen.query_one(CoalescingFooter)
    assert footer.max_scroll_x == 0, f"{footer.labels} overflow a footer of {footer.size.width}"
    for key in footer.query(FooterKey):
        assert footer.region.contains_region(key.region), f"{key.key_display} {key.description} is cut"
    return footer.labels


async def settled_footer(pilot: Pilot, *, more: bool | None = None) -> list[str]:
    app = pilot.app
    assert isinstance(app, BulkdashApp)

    def ready() -> bool:
        footers = app.screen.query(CoalescingFooter)
        if not footers or not footers.first().query(FooterKey):
            return False
        # Laid out too: keys just mounted (after a recompose of the footer) have no region until the next
        # layout, which a loaded machine can show (one run in the full suite read "/ Filter" at 0×0).
        if not all(key.region.area for key in footers.first().query(FooterKey)):
            return False
        labels = footers.first().labels
        return more is None or (f"? {MORE}" in labels) == more

    await until(pilot, ready, what="the footer")
    return footer_fits(app)


async def test_every_screen_at_80x24_shows_whole_keys() -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await connected(pilot)
        home = await settled_footer(pilot)
        assert {"/ Filter", "? Help", "q Quit"} <= set(home)
        run = await submit_bulk(pilot, size=5, fail_percent=0)
        labels = await settled_footer(pilot, more=True)
        assert {"esc Bulks", "x Exec", "c Cancel", "? more", "q Quit"} <= set(labels)
        for key, screen_id in (("w", "webhooks"), ("l", "api-log")):
            await pilot.press(key)
            await until(pilot, lambda i=screen_id: app.screen.id == i, what=screen_id)  # type: ignore[misc]
            assert "q Quit" in await settled_footer(pilot)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is run or app.screen is app.home, what="back")
        await pilot.press("question_mark")
        await until(pilot, lambda: app.screen.id == "help", what="help")
        assert "esc Close" in await settled_footer(pilot)


def whole_on_screen(app: BulkdashApp, *selectors: str) -> None:
    screen = app.screen.region
    for selector in selectors:
        widget = app.screen.query_one(selector)
        assert screen.contains_region(widget.region), f"{selector} at {widget.region} is cut by {screen}"


async def test_the_dialogs_fit_80x24_with_their_buttons() -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await connected(pilot)
        await pilot.press("n")
        await until(pilot, lambda: app.screen.id == "new-bulk", what="the new-bulk dialog")
        await pilot.pause()
        assert app.screen.has_class("-short")  # the dialogs' VERTICAL_BREAKPOINTS (sheets.SHORT_TERMINAL)
        whole_on_screen(app, "#new-dialog", "#new-size", "#new-file", "#new-submit", "#new-close")
        await pilot.press("escape")
        run = await submit_bulk(pilot, size=3, fail_percent=0)
        # Only the dialogs take the class: on any other screen, setting it as the screen first got its size
        # restyled every widget on it, for rules that style none of them (issue 16).
        assert not {"-short", "-tall"} & (set(app.home.classes) | set(run.classes))
        for key, dialog, parts in (
            ("x", "execute", ("#execute-dialog", "#mode-stop", "#execute-interval", "#execute-go")),
            ("c", "confirm", ("#confirm-dialog", "#confirm-yes", "#confirm-no")),
        ):
            await pilot.press(key)
            await until(pilot, lambda d=dialog: app.screen.id == d, what=dialog)  # type: ignore[misc]
            await pilot.pause()
            whole_on_screen(app, *parts)
            await pilot.press("escape")
            await until(pilot, lambda d=dialog: app.screen.id != d, what="the dialog to close")  # type: ignore[misc]


async def test_the_footer_fits_again_when_the_terminal_is_resized() -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await connected(pilot)
        await submit_bulk(pilot, size=5, fail_percent=0)
        wide = await settled_footer(pilot, more=False)
        assert {"x Execute", "l API calls", "e Report", "? Help"} <= set(wide)
        await pilot.resize_terminal(*SMALL)
        narrow = await settled_footer(pilot, more=True)
        assert "l API calls" not in narrow and "x Exec" in narrow
        await pilot.resize_terminal(160, 50)
        assert await settled_footer(pilot, more=False) == wide
        assert isinstance(app.screen, RunScreen)


@pytest.mark.slow
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing")
def test_a_narrow_browser_tab_shows_whole_keys(served: str, tmp_path: Path) -> None:  # noqa: F811
    """``bulkdash serve`` in a tab about 80 columns wide: the bottom bar's last keys are whole ("? Help",
    "q Quit"), where Textual's Footer showed "? Help q" and cut the rest."""
    with browser(tmp_path) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 720, "height": 480})
        page.add_init_script(CATCH_TERMINAL)
        page.goto(served)
        home = "() => window.__screen().includes('No bulks yet')"
        page.wait_for_function(home, timeout=20_000, polling=100)
        columns = page.evaluate("window.__terminal.cols")
        assert columns < 100  # narrower than the home screen's keys in full
        bottom_quit = "() => window.__screen().trimEnd().split('\\n').pop().includes('q Quit')"
        page.wait_for_function(bottom_quit, timeout=10_000, polling=100)
        bottom = page.evaluate("window.__screen()").rstrip().splitlines()[-1]
        assert "/ Filter" in bottom and "? Help" in bottom and "l API calls" in bottom
