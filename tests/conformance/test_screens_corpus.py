"""Every case of the conformance corpus on the dashboard's screens: the app runs against a Weavr-shaped server
answering that case (a remote session, as ``bulkdash --url`` builds it), and the home, run, operation and
webhook screens (list, detail and delivery timeline) open and render — no exception caught, the app still
running, and the ``⚠ out of range`` marker wherever a timestamp is past what a date can be.

One app per case, one server for the module (``use`` swaps the case), no sleeps: every wait is on a
condition. Screens are opened by their actions rather than key presses (Pilot's ``press`` and ``pause()``
wait for the whole process to be idle, up to a second each, and the server shares the process). A bulk
webhook case is posted, signed, to the app's own receiver while its bulk's run is open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from textual.pilot import Pilot

from bulkdash.contract.kinds import OperationKind
from bulkdash.model.generate import generate
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.format import OUT_OF_RANGE
from bulkdash.ui.screens.operation import OperationScreen
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.screens.webhook_detail import WebhookDetailScreen
from bulkdash.ui.screens.webhooks import WebhooksScreen
from bulkdash.ui.widgets.bulks_table import BulksTable
from bulkdash.ui.widgets.ops_table import OpsTable
from bulkdash.ui.widgets.webhook_table import WebhookTable
from tests.conformance.corpus import ALL, Case, Endpoint, case
from tests.conformance.dashboard import corpus_app, post_bulk_webhook
from tests.conformance.server import CorpusServer
from tests.ui.helpers import SIZE, notes, until

shared_loop = pytest.mark.asyncio(loop_scope="module")
#: Cases whose executionStart is no date (before 1970 or past year 9999): the marker must show.
OUT_OF_RANGE_STARTS = {
    "times-int64-max-start",
    "times-int64-min-start",
    "times-past-year-9999",
    "times-before-1970",
}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server() -> AsyncIterator[CorpusServer]:
    async with CorpusServer() as running:
        yield running


def _bulk_to_open(chosen: Case) -> str:
    """The bulk whose run screen opens: the one the case names (a non-numeric or 10,000-digit id too)."""
    if chosen.endpoint is Endpoint.BULK_WEBHOOK:
        bulk_id = chosen.body.get("bulkId")
        return bulk_id if isinstance(bulk_id, str) else "1000001"
    if chosen.endpoint is Endpoint.LIST_BULKS:
        ids = [
            b.get("bulkId") for b in chosen.body.get("bulkProcesses", chosen.body.get("bulk_processes", []))
        ]
        return next((i for i in ids if isinstance(i, str)), "1000001")
    return "1000001"


async def _rendered(pilot: Pilot[int], app: BulkdashApp) -> str:
    """The screen on top, drawn (a widget that cannot render fails here), as text."""
    await pilot.pause(0)
    return app.export_screenshot()


async def _home(pilot: Pilot[int], app: BulkdashApp, chosen: Case) -> None:
    await until(pilot, lambda: app.session is not None and app.home.polls > 0, what="the first page")
    await _rendered(pilot, app)
    if chosen.endpoint is Endpoint.LIST_BULKS and chosen.name.removeprefix("times-") != chosen.name:
        table = app.home.query_one(BulksTable)
        await until(pilot, lambda: len(table.shown) == 1, what="the bulk")
        (cells,) = table.shown.values()
        if chosen.name in OUT_OF_RANGE_STARTS:
            assert cells[5] == OUT_OF_RANGE
    if chosen.name == "non-numeric-id" and chosen.endpoint is Endpoint.LIST_BULKS:
        table = app.home.query_one(BulksTable)
        await until(pilot, lambda: table.shown.get("abc-123", ("",) * 5)[4].startswith("⚠"), what="the mark")


async def _submit(pilot: Pilot[int], app: BulkdashApp) -> None:
    """A submission answered with the case's 201: its bulk opens when the answer names one."""
    submitted = await app.service.submit(OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 2))
    assert submitted.error is None
    if submitted.bulk_id is not None:
        await until(pilot, lambda: isinstance(app.screen, RunScreen), what="the submitted bulk's run")
        await _rendered(pilot, app)
        app.pop_screen()
    else:
        await until(pilot, lambda: any("no bulk id" in n for n in notes(app)), what="the notice")


async def _run(pilot: Pilot[int], app: BulkdashApp, chosen: Case) -> RunScreen:
    app.open_bulk(_bulk_to_open(chosen))
    await until(pilot, lambda: isinstance(app.screen, RunScreen), what="the run screen")
    run = app.screen
    assert isinstance(run, RunScreen)
    # Loaded: the details and their page, or the reason it could not be (a 400 for a non-numeric id).
    await until(
        pilot,
        lambda: (
            run.last_error is not None or (run.model.details is not None and not run.model.page_is_empty())
        ),
        what="the bulk and its page",
    )
    await _rendered(pilot, app)
    if chosen.endpoint is Endpoint.GET_BULK and chosen.name in OUT_OF_RANGE_STARTS:
        assert OUT_OF_RANGE in str(run.query_one("#run-times").content)
    return run


async def _operation(pilot: Pilot[int], app: BulkdashApp, run: RunScreen) -> None:
    table = run.query_one(OpsTable)
    if not table.row_count:
        return
    table.move_cursor(row=0)
    table.action_select_cursor()  # enter
    await until(pilot, lambda: isinstance(app.screen, OperationScreen), what="the operation")
    await _rendered(pilot, app)
    app.pop_screen()  # escape
    await until(pilot, lambda: app.screen is run, what="back to the run")


async def _webhooks(pilot: Pilot[int], app: BulkdashApp, chosen: Case) -> None:
    app.action_webhooks()  # w
    await until(pilot, lambda: isinstance(app.screen, WebhooksScreen), what="the webhooks")
    screen = app.screen
    assert isinstance(screen, WebhooksScreen)
    await _rendered(pilot, app)
    table = screen.query_one(WebhookTable)
    if chosen.endpoint is Endpoint.BULK_WEBHOOK:
        await until(pilot, lambda: table.row_count == 1, what="the webhook")
        table.action_select_cursor()  # enter
        await until(pilot, lambda: isinstance(app.screen, WebhookDetailScreen), what="the webhook detail")
        await _rendered(pilot, app)
        app.pop_screen()  # escape
        await until(pilot, lambda: app.screen is screen, what="back to the webhooks")
    screen.action_tab("timeline")  # 2
    await _rendered(pilot, app)


@shared_loop
@pytest.mark.parametrize("chosen", ALL, ids=lambda c: c.id)
async def test_every_screen_renders_every_case(
    chosen: Case, server: CorpusServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # the receiver's history: the test's own
    webhook = chosen.endpoint is Endpoint.BULK_WEBHOOK
    server.use(*(() if webhook else (chosen,)), only=True)
    app = corpus_app(server.url, login=chosen.endpoint is Endpoint.LOGIN)
    async with app.run_test(size=SIZE) as pilot:
        await _home(pilot, app, chosen)
        if chosen.endpoint is Endpoint.SUBMIT:
            await _submit(pilot, app)
        run = await _run(pilot, app, chosen)
        if webhook:
            assert await post_bulk_webhook(app, chosen.body) == 204
            await until(pilot, lambda: app.webhook_count == 1, what="the webhook received")
            await _rendered(pilot, app)
        await _operation(pilot, app, run)
        await _webhooks(pilot, app, chosen)
        assert app.is_running and app.caught == []
        assert not [n for n in notes(app) if n.startswith("Unexpected error")]


@shared_loop
async def test_a_far_future_bulk_shows_the_marker_on_the_list_and_on_its_run(
    server: CorpusServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's first report: a valid int64 timestamp in year 242,645, on both screens at once."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    server.use(
        case(Endpoint.LIST_BULKS, "times-past-year-9999"),
        case(Endpoint.GET_BULK, "times-past-year-9999"),
        only=True,
    )
    app = corpus_app(server.url)
    async with app.run_test(size=SIZE) as pilot:
        table = app.home.query_one(BulksTable)
        await until(pilot, lambda: "1000001" in table.shown, what="the bulk")
        assert table.shown["1000001"][5:] == (OUT_OF_RANGE, OUT_OF_RANGE)
        await _rendered(pilot, app)
        run = await _run(pilot, app, case(Endpoint.GET_BULK, "times-past-year-9999"))
        times = str(run.query_one("#run-times").content)
        assert times.count(OUT_OF_RANGE) == 3  # started, finished, elapsed
        assert app.is_running and app.caught == []
