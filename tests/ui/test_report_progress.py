"""``e`` on a finished 10,000-operation bulk (issue 13): the report paces itself within Weavr's quota, the run
screen shows its progress bar (pages done of pages expected, the waits for the request budget), and Cancel
stops it with nothing written. On the virtual clock of ``tests/test_report.py``: its minute of waiting for the
budget takes no time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from textual.widgets import ProgressBar

from bulkdash.session import Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.widgets.report_panel import ReportPanel
from tests.test_report import FakeWeavr, VirtualTime, _paced_client
from tests.ui.helpers import SIZE, notes, until


def paced_app(server: FakeWeavr, time: VirtualTime, report_dir: Path) -> BulkdashApp:
    async def connect() -> Session:
        return Session(_paced_client(time, server, network=True), label="http://weavr.test/multi")

    return BulkdashApp(connect, token="t", report_dir=report_dir)


async def open_bulk_7(app: BulkdashApp, pilot: object) -> RunScreen:
    await until(pilot, lambda: app.session is not None, what="the session")  # type: ignore[arg-type]
    app.open_bulk("7")
    await until(pilot, lambda: isinstance(app.screen, RunScreen), what="the run screen")  # type: ignore[arg-type]
    run = app.screen
    assert isinstance(run, RunScreen)
    await until(pilot, lambda: run.model.is_final, what="the finished bulk")  # type: ignore[arg-type]
    return run


async def test_e_paces_a_10000_operation_report_with_a_progress_bar(tmp_path: Path) -> None:
    time = VirtualTime()
    server = FakeWeavr(time)
    app = paced_app(server, time, tmp_path)
    shown: list[tuple[float | None, float, str]] = []  # the bar's total and progress, the text, at each step
    async with app.run_test(size=SIZE) as pilot:
        run = await open_bulk_7(app, pilot)
        panel = run.query_one(ReportPanel)
        assert not panel.running
        # Empty until a report starts: no hidden bar redrawing itself, nothing to style as the page opens.
        assert not panel.children and panel.text == ""
        show_progress = panel.show_progress

        def recording(progress: object) -> None:
            show_progress(progress)  # type: ignore[arg-type]
            bar = panel.query_one(ProgressBar)
            shown.append((bar.total, bar.progress, panel.text))

        panel.show_progress = recording  # type: ignore[method-assign]
        # Shown only once its parts are mounted: shown before, the run header under it was drawn cut by a
        # line for up to a second (seen in a terminal).
        shown_unmounted: list[str] = []
        add_class = panel.add_class

        def adding(*names: str, update: bool = True) -> ReportPanel:
            if "-visible" in names and not all(child.is_mounted for child in panel.children):
                shown_unmounted.extend(type(c).__name__ for c in panel.children if not c.is_mounted)
            return add_class(*names, update=update)

        panel.add_class = adding  # type: ignore[method-assign]
        await pilot.press("e")  # on the virtual clock it may be over by the time the key is handled
        await until(pilot, lambda: app.last_report is not None, timeout=30, what="the report")
        await until(pilot, lambda: not panel.running, what="the panel to go")
        assert panel.children and shown_unmounted == []
        assert any(str(tmp_path) in n for n in notes(app))
    out = tmp_path / "bulkdash-report-7"
    assert len((out / "operations.jsonl").read_text().splitlines()) == 10_000
    assert server.refused == 0 and max(server.per_minute.values()) <= 90  # within the quota, paced
    assert shown[-1][:2] == (100, 100) and shown[-1][2].startswith("100/100 pages")
    assert any("waiting for the request budget · " in text for _, _, text in shown)
    assert "waited " in shown[-1][2]


async def test_cancel_stops_the_report_and_writes_nothing(tmp_path: Path) -> None:
    time = VirtualTime()
    server = FakeWeavr(time, n=1_000)
    held = asyncio.Event()
    release = asyncio.Event()

    async def holding(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/operations") and int(request.url.params["offset"]) >= 200:
            held.set()
            await release.wait()  # the third page never comes until the test says
        return server(request)

    async def connect() -> Session:
        client = _paced_client(time, server)
        client._http._transport = httpx.MockTransport(holding)
        return Session(client, label="http://weavr.test/multi")

    app = BulkdashApp(connect, token="t", report_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        run = await open_bulk_7(app, pilot)
        panel = run.query_one(ReportPanel)
        await pilot.press("e")
        await until(pilot, lambda: held.is_set() and panel.text.startswith("2/10 pages"), what="page 3 asked")
        # Also in the command palette while it runs (a user trial found no keyboard way to it).
        assert "Cancel report" in {c.title for c in app.get_system_commands(run)}
        await pilot.click("#report-cancel")
        await until(pilot, lambda: "Report cancelled: nothing was written" in notes(app), what="the notice")
        assert not panel.running and not app.service.report_running("7")
        assert panel.query_one(ProgressBar).total is not None  # hidden and not animating
        assert "Cancel report" not in {c.title for c in app.get_system_commands(run)}
        release.set()
    assert app.last_report is None and not any(tmp_path.iterdir())  # noqa: ASYNC240 -- after the run
