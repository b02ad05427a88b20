"""Errors never crash the dashboard nor reach the screen as a traceback: an unreachable endpoint, 5xx, 429,
401, malformed bodies and unknown enum values become a banner or a toast, and polling backs off and
recovers on its own."""

from __future__ import annotations

import json
from typing import Any

import httpx

from bulkdash.api.client import WeavrClient
from bulkdash.serving import QuietServer
from bulkdash.session import Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.run import RunScreen
from bulkdash.ui.widgets.banner import Banner
from bulkdash.ui.widgets.bulks_table import BulksTable
from bulkdash.ui.widgets.ops_table import OpsTable
from tests.ui.helpers import SIZE, Gate, connected, execute, make_app, notes, submit_bulk, until


async def test_simulator_stopped_mid_run_then_back() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        run = await submit_bulk(pilot, size=100, fail_percent=0)
        session = app.session
        assert session is not None and session._sim_server is not None
        gate = Gate(session, at=51)
        await execute(pilot)
        await until(pilot, lambda: gate.reached and run.model.attempted == 50, what="50 attempted")

        # The endpoint goes away mid-run.
        port = session._sim_server.port
        await session._sim_server.stop()
        banner = run.query_one(Banner)
        await until(pilot, lambda: banner.visible_message is not None, what="the banner")
        assert "Cannot reach" in banner.visible_message and "retrying in" in banner.visible_message
        assert app.connection.state == "unreachable"  # the client's link: no answer at all
        assert "unreachable" in str(run.query_one("#run-status-bar").content)
        await pilot.press("p")  # an action while down: a toast says why, nothing crashes
        await until(pilot, lambda: any(n.startswith("Cannot pause bulk") for n in notes(app)))

        # It comes back (same port, same database): the worker resumes and the follower recovers.
        gate.release()
        assert session.simulator is not None
        server = QuietServer(session.simulator.asgi, "127.0.0.1", port)
        await server.start()
        session._sim_server = server
        await pilot.press("g")  # poll now rather than after the back-off
        await until(
            pilot, lambda: run.model.status == "COMPLETED", timeout=15, what="COMPLETED after recovery"
        )
        await until(pilot, lambda: banner.visible_message is None, what="the banner to clear")
        # The link says how the *last* exchange went: a request sent while down may answer after the poll.
        await until(pilot, lambda: app.connection.state == "connected", what="the link to say connected")
        table = run.query_one(OpsTable)
        await until(pilot, lambda: table.shown[100][3] == "COMPLETED")


class FakeWeavr:
    """An httpx MockTransport standing in for a misbehaving server; ``mode`` says how it misbehaves."""

    def __init__(self) -> None:
        self.mode = "ok"

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        mode = self.mode
        if mode == "500":
            return httpx.Response(500, json={"code": "INTERNAL_SERVER_ERROR", "message": "boom"})
        if mode == "429":
            return httpx.Response(429, headers={"x-ratelimit-reset": "1", "x-ratelimit-limit": "100"})
        if mode == "401":
            return httpx.Response(401, json={"message": "token expired"})
        if mode == "malformed":
            return httpx.Response(200, content=b"<html>not json</html>")
        bulk: dict[str, Any] = {
            "bulkId": "7",
            "status": "ARCHIVED" if mode == "unknown-enum" else "COMPLETED",
            "submittedItemsCount": 1,
            "operation": "POST /transfers",
            "mode": "ON_FAILURE_CONTINUE",
            "executionStart": 1_700_000_000_000,
            "executionFinish": 1_700_000_001_000,
        }
        if path.endswith("/bulks"):
            return httpx.Response(200, json={"count": 1, "responseCount": 1, "bulkProcesses": [bulk]})
        if path.endswith("/operations"):
            op = {
                "operationId": "70",
                "sequence": 1,
                "method": "POST",
                "path": "/transfers",
                "status": "TELEPORTED" if mode == "unknown-enum" else "COMPLETED",
                "requestPayload": json.dumps({"profileId": "3001"}),
                "responsePayload": json.dumps({"id": "99", "state": "COMPLETED"}),
            }
            return httpx.Response(200, json={"count": 1, "responseCount": 1, "operations": [op]})
        counts = [{"status": "COMPLETED", "count": 1}, {"status": "VANISHED", "count": 0}]
        return httpx.Response(200, json={**bulk, "operationStatusCounts": counts})


def fake_app(fake: FakeWeavr) -> BulkdashApp:
    async def connect() -> Session:
        client = WeavrClient(
            "http://weavr.invalid/multi",
            "api-key-secret",
            "token-secret",
            transport=httpx.MockTransport(fake.handler),
        )
        return Session(client, label="http://weavr.invalid/multi")

    return BulkdashApp(connect)


async def test_server_errors_become_banners_and_recover() -> None:
    fake = FakeWeavr()
    fake.mode = "500"
    app = fake_app(fake)
    async with app.run_test(size=SIZE) as pilot:
        home = app.home
        banner = home.query_one(Banner)
        await until(pilot, lambda: banner.visible_message is not None, what="the 500 banner")
        assert banner.visible_message.startswith("Server error: boom")
        for mode, expected in (
            ("429", "Rate limited by the server"),
            ("401", "Not authenticated"),
            ("malformed", "Unexpected response body"),
        ):
            fake.mode = mode
            home.wake()
            await until(pilot, lambda e=expected: e in (banner.visible_message or ""), what=expected)
        # Budget blocked by the 429 for a second: the poll waits, then recovers by itself.
        fake.mode = "ok"
        home.wake()
        await until(pilot, lambda: banner.visible_message is None, timeout=15, what="recovery")
        table = home.query_one(BulksTable)
        await until(pilot, lambda: "7" in table.shown)
        # Secrets are never on screen.
        screen_text = app.export_screenshot()
        assert "api-key-secret" not in screen_text and "token-secret" not in screen_text


async def test_unknown_enum_values_are_shown_not_fatal() -> None:
    fake = FakeWeavr()
    fake.mode = "unknown-enum"
    app = fake_app(fake)
    async with app.run_test(size=SIZE) as pilot:
        table = app.home.query_one(BulksTable)
        await until(pilot, lambda: "7" in table.shown, what="the bulk")
        assert table.shown["7"][1] == "ARCHIVED"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunScreen))
        run = app.screen
        assert isinstance(run, RunScreen)
        ops = run.query_one(OpsTable)
        await until(pilot, lambda: 1 in ops.shown, what="the operation")
        assert ops.shown[1][3] == "TELEPORTED"
        assert "ARCHIVED" in str(run.query_one("#run-title").content)
        assert run.query_one(Banner).visible_message is None
        # A malformed body while following: a banner, not a crash.
        fake.mode = "malformed"
        await pilot.press("g")
        await until(pilot, lambda: run.query_one(Banner).visible_message is not None)
        assert "Unexpected response body" in run.query_one(Banner).visible_message


async def test_connection_failure_at_start_is_a_banner_and_g_retries() -> None:
    attempts = []

    async def connect() -> Session:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError(98, "Address already in use")
        client = WeavrClient(
            "http://weavr.invalid/multi", "k", "t", transport=httpx.MockTransport(FakeWeavr().handler)
        )
        return Session(client, label="http://weavr.invalid/multi")

    app = BulkdashApp(connect)
    async with app.run_test(size=SIZE) as pilot:
        banner = app.home.query_one(Banner)
        await until(pilot, lambda: banner.visible_message is not None)
        assert "Address already in use" in banner.visible_message
        await pilot.press("g")
        await until(pilot, lambda: app.session is not None and banner.visible_message is None)
