"""The other screens' style sheets are read once the first screen is connected (``bulkdash.ui.sheets``), so
the first bulk to open does not re-parse every sheet and restyle the app while keys wait (issue 16: ~45 ms
of one handler as a run page opened). What it must not change: the styles every widget ends up with."""

from __future__ import annotations

from typing import Any

import pytest
from textual.css.stylesheet import Stylesheet

from bulkdash.contract.kinds import OperationKind
from bulkdash.model.generate import generate
from bulkdash.ui import sheets
from bulkdash.ui.screens.run import RunScreen
from tests.ui.helpers import SIZE, connected, make_app, until


def _styles(app: Any) -> list[tuple[str, str | None, str]]:
    """Every node of the current screen, in DOM order, with the CSS its rules gave it."""
    return [
        (type(node).__name__, node.id, node.styles.base.css)
        for node in app.screen.walk_children(with_self=True)
    ]


async def _open_a_bulk(monkeypatch: pytest.MonkeyPatch, *, preload: bool) -> tuple[list[Any], list[Any], int]:
    """(run screen's styles, home screen's styles after it, re-parses while the run screen opened)."""
    if not preload:
        monkeypatch.setattr(sheets, "preload_later", lambda app: None)
    reparses = 0
    real_reparse = Stylesheet.reparse

    def counting(self: Stylesheet) -> None:
        nonlocal reparses
        reparses += 1
        real_reparse(self)

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        if preload:
            await until(pilot, lambda: not sheets.unread(app), what="the later sheets read")
        else:
            await pilot.pause(0.1)
            assert sheets.unread(app) == sheets.LATER
        assert app.session is not None
        created = await app.session.client.submit(
            OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 3)
        )
        monkeypatch.setattr(Stylesheet, "reparse", counting)
        app.open_bulk(created.bulkId)
        await until(pilot, lambda: isinstance(app.screen, RunScreen), what="the run screen")
        run = app.screen
        assert isinstance(run, RunScreen)
        await until(pilot, lambda: run.model.rows, what="the first page")
        await pilot.pause()
        opened = reparses
        on_run = _styles(app)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.home, what="the bulks screen")
        await pilot.pause()
        return on_run, _styles(app), opened


async def test_the_first_bulk_opens_without_reading_sheets(monkeypatch: pytest.MonkeyPatch) -> None:
    run_preloaded, home_preloaded, reparses = await _open_a_bulk(monkeypatch, preload=True)
    assert reparses == 0
    # Left to Textual, the same opening re-parses everything (what this test would catch coming back).
    with monkeypatch.context() as m:
        run_textual, home_textual, reparses_textual = await _open_a_bulk(m, preload=False)
    assert reparses_textual >= 1
    # The same cascade either way, on the run page and on the bulks screen it restyled.
    assert run_preloaded == run_textual
    assert home_preloaded == home_textual
    assert any("run-" in (node_id or "") and css for _, node_id, css in run_preloaded)  # compared for real
