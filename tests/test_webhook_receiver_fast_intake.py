"""The receiver's fast paths keep its answers and its records: the raw ASGI endpoint (every method, the
bounded body read, a client leaving early, the lifespan), the writer's BEGIN on the loop with its fallback
when another connection writes, an uncancellable write, and the positional copy of a committed record."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bulkdash.webhooks import ReceivedWebhook, ReceiverSettings, SignatureVerdict
from bulkdash.webhooks import store as store_module
from bulkdash.webhooks.app import CLIENT_CLOSED_REQUEST, WebhookIntake, create_app
from bulkdash.webhooks.records import REDACTED, headers_dicts
from bulkdash.webhooks.store import WebhookStore
from tests.webhooks.test_webhook_store import draft
from tests.webhooks.webhook_helpers import BULK_PATH, SPEC_BODY, SPEC_KEY, FakeClock, signed_headers


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[WebhookStore]:
    opened = WebhookStore(tmp_path / "h.db")
    await opened.open()
    yield opened
    await opened.close()


def _scope(method: str, headers: dict[str, str], path: str = BULK_PATH) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 4242),
    }


async def _call(
    intake: WebhookIntake, scope: dict[str, Any], messages: list[dict[str, Any]]
) -> tuple[int, dict[bytes, bytes], bytes]:
    """(status, headers, body) the app sent for ``scope`` fed with ``messages``."""
    incoming = iter(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await create_app(intake)(scope, receive, send)
    start, body = sent
    assert start["type"] == "http.response.start" and body["type"] == "http.response.body"
    return start["status"], dict(start["headers"]), body["body"]


def _intake(store: WebhookStore, **settings: Any) -> WebhookIntake:
    return WebhookIntake(ReceiverSettings(signing_key=SPEC_KEY, **settings), store, FakeClock())


async def test_a_signed_webhook_in_several_chunks_is_204_and_recorded(store: WebhookStore) -> None:
    headers = {"content-length": str(len(SPEC_BODY)), **signed_headers(SPEC_BODY)}
    half = len(SPEC_BODY) // 2
    chunks = [
        {"type": "http.request", "body": SPEC_BODY[:half], "more_body": True},
        {"type": "http.request", "body": SPEC_BODY[half:], "more_body": False},
    ]
    status, sent_headers, body = await _call(_intake(store), _scope("POST", headers), chunks)
    assert (status, sent_headers, body) == (204, {}, b"")
    (record,) = await store.history()
    assert record.accepted and record.body == SPEC_BODY and record.client == "127.0.0.1:4242"
    assert record.signature_v2 is SignatureVerdict.VALID


@pytest.mark.parametrize("method", ["GET", "HEAD", "TRACE", "PROPFIND"])
async def test_every_other_method_is_a_json_405_and_recorded(store: WebhookStore, method: str) -> None:
    status, headers, body = await _call(_intake(store), _scope(method, {}), [])
    assert status == 405
    assert headers[b"allow"] == b"POST" and headers[b"content-type"] == b"application/json"
    assert int(headers[b"content-length"]) == len(body)
    assert json.loads(body)["code"] == "METHOD_NOT_ALLOWED"
    (record,) = await store.history()
    assert (record.method, record.http_status) == (method, 405)


async def test_a_streamed_body_past_the_limit_is_413_with_a_preview(store: WebhookStore) -> None:
    chunk = b"x" * 3000
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for _ in range(4)]
    status, _, body = await _call(
        _intake(store, max_body_bytes=8000), _scope("POST", signed_headers(b"{}")), messages
    )
    assert status == 413 and json.loads(body)["code"] == "PAYLOAD_TOO_LARGE"
    (record,) = await store.history()
    assert record.body_truncated and record.body_size == 9000 and record.body == (chunk * 2)[:4096]


async def test_a_client_leaving_before_the_whole_body_is_recorded_as_499(store: WebhookStore) -> None:
    messages = [
        {"type": "http.request", "body": b'{"bulk', "more_body": True},
        {"type": "http.disconnect"},
    ]
    status, _, _ = await _call(_intake(store), _scope("POST", signed_headers(SPEC_BODY)), messages)
    assert status == CLIENT_CLOSED_REQUEST
    (record,) = await store.history()
    assert record.http_status == CLIENT_CLOSED_REQUEST
    assert record.signature_v2 is SignatureVerdict.UNCHECKED


async def test_the_lifespan_is_acknowledged(store: WebhookStore) -> None:
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await create_app(_intake(store))({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_headers_without_a_secret_are_one_dict_and_a_secret_is_redacted() -> None:
    plain, shown = headers_dicts([(b"Call-Ref", b"r"), (b"x-a", b"1")])
    assert plain is shown and plain == {"call-ref": "r", "x-a": "1"}
    plain, shown = headers_dicts([(b"x-a", b"1"), (b"Cookie", b"c")])
    assert plain == {"x-a": "1", "cookie": "c"} and shown == {"x-a": "1", "cookie": REDACTED}


def test_the_committed_copy_is_replace() -> None:
    # Every field distinct from its default, so a field out of order in the positional copy shows.
    record = dataclasses.replace(draft(call_ref="r"), error="e", received_at_ms=7, body_truncated=True)
    assert store_module._committed(record, 41, 40) == dataclasses.replace(record, id=41, duplicate_of=40)


async def test_a_cancelled_append_is_still_written_and_published(tmp_path: Path) -> None:
    published: list[ReceivedWebhook] = []
    store = WebhookStore(tmp_path / "h.db", on_commit=published.extend)
    await store.open()
    try:
        waiting = asyncio.ensure_future(store.append(draft(call_ref="gone")))
        await asyncio.sleep(0)  # one turn of the loop: the record is queued
        waiting.cancel()
        after = await store.append(draft(call_ref="next"))
        assert waiting.cancelled()
        assert [r.call_ref for r in published] == ["gone", "next"]
        assert [r.call_ref for r in await store.history()] == ["gone", "next"]
        assert after.id == published[0].id + 1
    finally:
        await store.close()


async def test_begin_waits_on_the_thread_while_another_connection_writes(
    store: WebhookStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    refused = asyncio.Event()
    begin_now = store_module._begin_now

    def observed(conn: sqlite3.Connection, busy_timeout_ms: int) -> bool:
        began = begin_now(conn, busy_timeout_ms)
        if not began:
            refused.set()
        return began

    monkeypatch.setattr(store_module, "_begin_now", observed)
    try:
        appending = asyncio.ensure_future(store.append(draft(call_ref="late")))
        await refused.wait()  # the loop did not block on the lock: it handed the wait to the thread
        assert not appending.done()
        other.execute("COMMIT")
        record = await appending
    finally:
        other.close()
    assert record.id == 1 and record.call_ref == "late"
    # The attempt on the loop leaves the connection's own busy timeout as it was.
    assert (await store._db.execute_fetchall("PRAGMA busy_timeout"))[0][0] == store_module.BUSY_TIMEOUT_MS  # type: ignore[union-attr]
