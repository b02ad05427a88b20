"""The history file itself: schema versioning, WAL, group commit, and records that read back unchanged."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from pathlib import Path

import pytest

from bulkdash.webhooks import EventKind, KeyVerdict, ReceivedWebhook, SignatureVerdict, TimestampVerdict
from bulkdash.webhooks.records import UNSTORED_ID, EventFacts, describe_event
from bulkdash.webhooks.schema import MIGRATIONS
from bulkdash.webhooks.store import SchemaTooNewError, WebhookStore
from tests.webhooks.webhook_helpers import SPEC_BODY, SPEC_CALL_REF


def draft(
    call_ref: str | None = SPEC_CALL_REF, status: int = 204, body: bytes = SPEC_BODY
) -> ReceivedWebhook:
    parsed = json.loads(body)
    return ReceivedWebhook(
        id=UNSTORED_ID,
        received_at_ms=1,
        method="POST",
        path="/bulk_process_end/watch",
        headers={"call-ref": call_ref or ""},
        body=body,
        body_size=len(body),
        body_truncated=False,
        json=parsed,
        kind=EventKind.BULK,
        call_ref=call_ref,
        published_timestamp_ms=1,
        signature_v2=SignatureVerdict.VALID,
        signature_v1=SignatureVerdict.VALID,
        timestamp=TimestampVerdict.OK,
        webhooks_key=KeyVerdict.NOT_CONFIGURED,
        http_status=status,
        error=None if status == 204 else "rejected",
        duplicate_of=None,
        client="127.0.0.1:1",
        facts=describe_event(EventKind.BULK, parsed),
    )


async def test_schema_is_versioned_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "h.db"  # parent directories are created
    store = WebhookStore(path)
    await store.open()
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Reopening applies nothing twice.
    await store.open()
    await store.close()


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(SchemaTooNewError):
        await WebhookStore(path).open()


async def test_records_read_back_equal(tmp_path: Path) -> None:
    store = WebhookStore(tmp_path / "h.db")
    await store.open()
    try:
        stored = await store.append(draft())
        assert stored.id != UNSTORED_ID
        assert stored == dataclasses.replace(draft(), id=stored.id)
        assert await store.history() == [stored]
        assert await store.get(stored.id) == stored
    finally:
        await store.close()


async def test_burst_is_group_committed_in_order(tmp_path: Path) -> None:
    batches: list[list[ReceivedWebhook]] = []
    store = WebhookStore(tmp_path / "h.db", on_commit=batches.append)
    await store.open()
    try:
        results = await asyncio.gather(*(store.append(draft(call_ref=f"r{i}")) for i in range(200)))
    finally:
        await store.close()
    # Queued together, committed together: far fewer commits than rows.
    assert len(batches) < 20
    committed = [r for batch in batches for r in batch]
    assert [r.id for r in committed] == sorted(r.id for r in committed)
    assert [r.call_ref for r in committed] == [f"r{i}" for i in range(200)]  # queue order is id order
    assert [r.id for r in results] == [r.id for r in committed]


async def test_only_accepted_records_are_originals(tmp_path: Path) -> None:
    store = WebhookStore(tmp_path / "h.db")
    await store.open()
    try:
        rejected = await store.append(draft(status=401))
        first = await store.append(draft())
        again = await store.append(draft())
        rejected_again = await store.append(draft(status=401))
        no_ref = [await store.append(draft(call_ref=None)) for _ in range(2)]
    finally:
        await store.close()
    assert rejected.duplicate_of is None and first.duplicate_of is None
    assert again.duplicate_of == first.id
    assert rejected_again.duplicate_of is None  # only an accepted request can be a duplicate
    assert [r.duplicate_of for r in no_ref] == [None, None]


async def test_close_flushes_queued_records_and_then_refuses(tmp_path: Path) -> None:
    store = WebhookStore(tmp_path / "h.db")
    await store.open()
    pending = [store.submit(draft(call_ref=f"r{i}")) for i in range(50)]
    await store.close()
    assert all(p.done() and p.result().id > 0 for p in pending)
    with pytest.raises(RuntimeError):
        await store.append(draft())
    reopened = WebhookStore(tmp_path / "h.db")
    await reopened.open()
    try:
        assert await reopened.count() == 50
    finally:
        await reopened.close()


def test_facts_of_a_record_are_exposed() -> None:
    record = draft()
    assert isinstance(record.facts, EventFacts)
    assert (record.bulk_id, record.bulk_status, record.counts["COMPLETED"]) == ("1000042", "RUNNING", 24)
    assert "body=" not in repr(record)  # bodies can be 1 MiB; the repr stays short
