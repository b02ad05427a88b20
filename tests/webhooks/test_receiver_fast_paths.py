"""The receiver's cheap paths give what the general ones gave: a bulk event's facts read straight from a
plainly typed body (the model validates anything else), both header dicts made in one pass, and a batch
of records written with one statement gets ids in order and its duplicates right."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bulkdash.webhooks import records
from bulkdash.webhooks.records import EventKind, describe_event, headers_dict, headers_dicts
from bulkdash.webhooks.store import WebhookStore
from tests.webhooks.test_webhook_store import draft

BODIES: list[dict[str, Any]] = [
    {
        "bulkId": "1",
        "status": "RUNNING",
        "submittedItemsCount": 100,
        "operationStatusCounts": [{"status": "SUBMITTED", "count": 75}, {"status": "RUNNING", "count": 0}],
    },
    {},
    {"bulkId": "1"},
    {"status": None, "submittedItemsCount": None},
    {"operationStatusCounts": None},
    {
        "operationStatusCounts": [
            {"status": "X"},
            {"count": 3},
            {"status": "A", "count": 1},
            {"status": "A", "count": 2},
        ]
    },
    {"operationStatusCounts": [{"status": "WEIRD", "count": 2, "extra": 1}], "extra": {"a": 1}},
    {"bulkId": 5},
    {"submittedItemsCount": "5"},
    {"submittedItemsCount": True},
    {"submittedItemsCount": 10**30},
    {"operationStatusCounts": [{"status": "A", "count": "2"}]},
    {"operationStatusCounts": ["x"]},
    {"operationStatusCounts": {"status": "A"}},
    {"status": 7},
]


@pytest.mark.parametrize("body", BODIES)
def test_plain_bulk_facts_are_the_models(body: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = describe_event(EventKind.BULK, body)
    monkeypatch.setattr(records, "_plain_bulk_facts", lambda parsed: None)  # always through the model
    assert fast == describe_event(EventKind.BULK, body)


def test_both_header_dicts_in_one_pass() -> None:
    raw = [
        (b"Webhooks-Key", b"secret"),
        (b"x-a", b"1"),
        (b"webhooks-key", b"again"),
        (b"X-A", b"2"),
        (b"authorization", b"Bearer t"),
        (b"x-latin", "é".encode("latin-1")),
    ]
    plain, redacted = headers_dicts(raw)
    assert plain == {
        "webhooks-key": "secret, again",
        "x-a": "1, 2",
        "authorization": "Bearer t",
        "x-latin": "é",
    }
    assert redacted == {
        "webhooks-key": "<redacted>, <redacted>",
        "x-a": "1, 2",
        "authorization": "<redacted>",
        "x-latin": "é",
    }
    assert (headers_dict(raw, redact=False), headers_dict(raw)) == (plain, redacted)


async def test_a_batch_gets_the_ids_after_the_file_and_its_duplicates_right(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store = WebhookStore(path)
    await store.open()
    try:
        first = await store.append(draft(call_ref="a"))
        other = sqlite3.connect(path)  # another process appends meanwhile: ids continue after its rows
        other.execute(
            "INSERT INTO webhooks (id, received_at_ms, method, path, headers, body, body_size, "
            "body_truncated, json_ok, kind, sig_v2, sig_v1, ts_verdict, key_verdict, http_status) "
            "VALUES (41, 1, 'POST', '/x', '{}', x'', 0, 0, 0, 'unknown', 'missing', 'missing', 'missing', "
            "'not_configured', 401)"
        )
        other.commit()
        other.close()
        batch = await asyncio.gather(
            store.append(draft(call_ref="b")),
            store.append(draft(call_ref="b")),
            store.append(draft(call_ref="a")),
        )
    finally:
        await store.close()
    assert [r.id for r in batch] == [42, 43, 44]
    assert [r.duplicate_of for r in batch] == [None, 42, first.id]
