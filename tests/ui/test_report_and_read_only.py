"""``e`` writes the run report; ``--read-only`` hides and refuses mutating actions; ``bulkdash report``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from bulkdash.cli import main
from bulkdash.contract.kinds import OperationKind
from bulkdash.model.generate import generate
from bulkdash.session import EmbeddedOptions, Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.readonly import MUTATING_ACTIONS
from bulkdash.ui.screens.run import RunScreen
from tests.ui.helpers import SIZE, connected, make_app, notes, submit_bulk, until

MUTATING_TITLES = {
    "New bulk",
    "Execute bulk",
    "Pause bulk",
    "Resume bulk",
    "Cancel bulk",
    "End the scenario",
    "Pause / resume the world",
    "Step one operation",
    "Faster playback",
    "Slower playback",
    "Trigger the next fault now",
}


def _read_only_app() -> BulkdashApp:
    async def connect() -> Session:
        return await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off"))

    return BulkdashApp(connect, token="t", read_only=True)


def _footer_actions(app: BulkdashApp) -> set[str]:
    return {key.action for key in app.screen.query(FooterKey)}


def _palette_titles(app: BulkdashApp) -> set[str]:
    return {command.title for command in app.get_system_commands(app.screen)}


async def test_e_writes_the_report(tmp_path: Path) -> None:
    app = make_app()
    app.report_dir = tmp_path
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=5, fail_percent=0)
        assert "Export report" in _palette_titles(app)
        await pilot.press("e")
        await until(pilot, lambda: app.last_report is not None, what="the report")
        out = tmp_path / f"bulkdash-report-{run.bulk_id}"
        assert app.last_report == out
        assert (out / "report.md").read_text().startswith(f"# Bulk {run.bulk_id}")
        assert len((out / "operations.jsonl").read_text().splitlines()) == 5
        assert (out / "webhooks.jsonl").exists()
        await until(pilot, lambda: any(str(out) in n for n in notes(app)), what="the toast")


async def test_read_only_hides_and_refuses_mutations() -> None:
    app = _read_only_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert not _footer_actions(app) & MUTATING_ACTIONS
        assert not _palette_titles(app) & MUTATING_TITLES
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is app.home  # no new-bulk dialog
        # A bulk made behind the dashboard's back, then opened: nothing on its run screen changes it.
        assert app.session is not None
        items = generate(OperationKind.TRANSFERS, 3)
        created = await app.session.client.submit(OperationKind.TRANSFERS, items)
        app.open_bulk(created.bulkId)
        await until(pilot, lambda: isinstance(app.screen, RunScreen), what="the run screen")
        run = app.screen
        assert isinstance(run, RunScreen)
        await until(pilot, lambda: run.model.details is not None, what="the bulk")
        await pilot.pause()
        assert not _footer_actions(app) & MUTATING_ACTIONS
        assert not _palette_titles(app) & MUTATING_TITLES
        assert "Export report" in _palette_titles(app)
        await pilot.press("x", "p", "n")
        await pilot.pause(0.1)
        assert app.screen is run
        details = await app.session.client.get_bulk(created.bulkId)
        assert str(details.status) == "SUBMITTED"
        # Invoked anyway (a stale palette entry, a script): refused with a toast.
        await run.run_action("execute")
        assert app.screen is run
        assert "read-only mode" in notes(app)


def test_report_command_on_the_default_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    async def make_bulk() -> str:
        session = await Session.embedded(EmbeddedOptions(op_delay_ms=0, rate_limits="off"))
        try:
            created = await session.client.submit(
                OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 4, 0.5)
            )
        finally:
            await session.close()
        return created.bulkId

    bulk_id = asyncio.run(make_bulk())
    out = tmp_path / "out"
    assert main(["report", bulk_id, "--out", str(out), "--status", "SUBMITTED"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    ops = [json.loads(line) for line in (out / "operations.jsonl").read_text().splitlines()]
    assert len(ops) == 4 and {op["status"] for op in ops} == {"SUBMITTED"}
    assert "| Status | SUBMITTED |" in (out / "report.md").read_text()
