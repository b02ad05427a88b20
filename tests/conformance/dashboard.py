"""The dashboard against a Weavr-shaped test server (``tests/conformance/server.py``): an app whose session is
a remote one on the server's ``/multi`` URL, as ``bulkdash --url`` would build it, and signed bulk webhooks
posted to that session's own receiver. Shared by the screen tests of the corpus and of issue 13."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from bulkdash.session import Session
from bulkdash.ui.app import BulkdashApp
from tests.webhooks.webhook_helpers import BULK_PATH, signed_headers

#: The api-key the app sends; its receiver verifies webhooks with it (Weavr signs with the api-key).
KEY = "corpus-key"
EMAIL, PASSWORD = "ops@acme.example", "pw"


def corpus_app(url: str, *, login: bool = False) -> BulkdashApp:
    """The dashboard on ``url`` with a token, or (``login``) logging in first (the LOGIN cases). The
    receiver's history goes where ``XDG_DATA_HOME`` says: tests point it at their own directory."""

    async def connect() -> Session:
        if login:
            return await Session.remote(url, KEY, email=EMAIL, password=PASSWORD, signing_key=KEY)
        return await Session.remote(url, KEY, token="corpus-token", signing_key=KEY)

    return BulkdashApp(connect, token="t")


async def post_bulk_webhook(app: BulkdashApp, body: Any) -> int:
    """``body`` as a signed bulk webhook to the app's receiver; the HTTP status it answered."""
    session = app.session
    assert session is not None and session.receiver is not None
    raw = json.dumps(body).encode()
    headers = signed_headers(raw, timestamp=str(int(time.time() * 1000)), key=KEY)
    async with httpx.AsyncClient(timeout=5) as http:
        answer = await http.post(f"{session.receiver.url}{BULK_PATH}", content=raw, headers=headers)
    return answer.status_code
