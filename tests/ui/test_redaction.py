"""Secrets never reach the screen: the dashboard connected with a non-demo api-key and token."""

from __future__ import annotations

import httpx
from textual.widgets import DataTable

from bulkdash.api.client import WeavrClient, redact_url
from bulkdash.session import Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.api_log import ApiLogScreen
from bulkdash.ui.widgets.status_bar import StatusBar
from tests.ui.helpers import SIZE, connected

API_KEY = "live-api-key-7Q2x9Zk4"
TOKEN = "eyJ-live-token-Vb81Lq0W"


def handler(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    if request.url.path.endswith("/bulks"):
        return httpx.Response(200, json={"count": 0, "responseCount": 0, "bulkProcesses": []})
    return httpx.Response(401)  # anything else: an error shown on screen, still without secrets


async def test_status_bar_and_screen_never_show_the_token_or_api_key() -> None:
    async def connect() -> Session:
        client = WeavrClient(
            "http://weavr.test/multi", API_KEY, TOKEN, transport=httpx.MockTransport(handler)
        )
        return Session(client, label="http://weavr.test/multi")

    app = BulkdashApp(connect, token="t")
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.pause()
        bar = app.screen.query_one(StatusBar)
        rendered = str(bar.render())
        assert "weavr.test" in rendered
        screen = app.export_screenshot()
        assert app.session is not None and app.session.calls
        for text in (rendered, screen, *(repr(c) for c in app.session.calls)):
            assert TOKEN not in text and API_KEY not in text


async def test_api_log_lists_calls_and_copies_a_redacted_curl() -> None:
    async def connect() -> Session:
        client = WeavrClient(
            "http://weavr.test/multi", API_KEY, TOKEN, transport=httpx.MockTransport(handler)
        )
        return Session(client, label="http://weavr.test/multi")

    app = BulkdashApp(connect, token="t")
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, ApiLogScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count >= 1
        # The full URL with its query string: which page (and filter) was asked for.
        url = str(table.get_row_at(0)[2])
        assert url.startswith("http://weavr.test/multi/bulks?") and "limit=" in url
        await pilot.press("c")
        await pilot.pause()
        curl = app.clipboard
        assert curl.startswith("curl -X GET 'http://weavr.test/multi/bulks?")
        assert "-H 'authorization: Bearer ***'" in curl and "-H 'api-key: ***'" in curl
        assert TOKEN not in curl and API_KEY not in curl
        assert TOKEN not in app.export_screenshot()


def test_a_secret_in_a_query_string_is_recorded_as_stars() -> None:
    url = "http://h/multi/bulks/7/operations?offset=0&limit=100&status=FAILED"
    assert redact_url(url) == url  # nothing secret: as sent
    assert redact_url("http://h/x?status=FAILED&Token=abc&api_key=k") == (
        "http://h/x?status=FAILED&Token=***&api_key=***"
    )
