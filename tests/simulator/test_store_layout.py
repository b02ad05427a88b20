"""How the store keeps things small and off the commit path: outbox events are signed when sent (the file
keeps no signature, listings and deliveries show the same headers as before, rows of older files included); a
transaction an operation created is its response, stored once (schema 3, migrated from schema 2); WAL
checkpoints run on their own connection; the startup heap is frozen out of the collector's way."""

from __future__ import annotations

import gc
import json
import sqlite3
from pathlib import Path

import httpx

from bulkdash.contract.signatures import sign_v1, sign_v2
from simulator.server import Simulator
from simulator.store.schema import MIGRATIONS, SQL_FUNCTIONS
from simulator.store.store import Store
from tests.simulator.helpers import KEY1, Api, transfer
from tests.simulator.webhook_helpers import outbox, run_bulk

WEBHOOKS_KEY1 = "sim-webhooks-key-P1"


def rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


async def test_events_are_stored_unsigned_and_listed_signed(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, client = sim
    bulk_id, _ = await run_bulk(alice, [transfer(), transfer()], interval=1)
    await simulator.engine.flush()
    stored = rows(simulator.settings.db, "SELECT path, headers FROM webhook_events")
    assert stored and all("signature" not in headers for _path, headers in stored)
    assert {headers for path, headers in stored if path == "/transfers/watch"} == {"{}"}
    assert {headers for path, headers in stored if "bulk_process" in path} == {
        json.dumps({"webhooks-key": WEBHOOKS_KEY1}, separators=(",", ":"))
    }
    for event in await outbox(client, bulk_id):
        h, body = event["headers"], json.dumps(event["body"], separators=(",", ":")).encode()
        assert list(h)[:6] == [
            "content-type",
            "call-ref",
            "request-ref",
            "published-timestamp",
            "signature",
            "signature-v2",
        ]
        assert h["call-ref"] == h["request-ref"] == event["eventId"]
        assert h["signature"] == sign_v1(KEY1, h["published-timestamp"])
        assert h["signature-v2"] == sign_v2(KEY1, event["eventId"], body, h["published-timestamp"])


async def test_a_row_from_before_keeps_the_headers_it_stored(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, client = sim
    body = b'{"bulkId":"1","status":"COMPLETED"}'
    headers = {
        "content-type": "application/json",
        "call-ref": "old-1",
        "request-ref": "old-1",
        "published-timestamp": "1767225600000",
        "signature": sign_v1(KEY1, "1767225600000"),
        "signature-v2": sign_v2(KEY1, "old-1", body, "1767225600000"),
        "webhooks-key": WEBHOOKS_KEY1,
    }
    await simulator.store.w.execute(
        "INSERT INTO webhook_events (event_id, programme, bulk_id, path, url, headers, body, "
        "delivery_status, next_attempt_ms, created_ms) "
        "VALUES ('old-1', 'P1', '1', '/bulk_process_end/watch', NULL, ?, ?, 'SKIPPED', NULL, 1767225600000)",
        (json.dumps(headers), body),
    )
    await simulator.store.w.commit()
    (listed,) = [e for e in await outbox(client) if e["eventId"] == "old-1"]
    assert listed["headers"] == {**headers, "webhooks-key": listed["headers"]["webhooks-key"]}
    assert list(listed["headers"]) == list(headers)


async def test_a_transaction_is_its_operations_response_stored_once(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, _ = sim
    bulk_id, _ = await run_bulk(alice, [transfer(1), transfer(2), transfer(3)])
    await simulator.engine.flush()
    db = simulator.settings.db
    txs = rows(db, "SELECT id, body, bulk_id, sequence FROM transactions ORDER BY sequence")
    assert [(body, b, seq) for _id, body, b, seq in txs] == [(None, int(bulk_id), s) for s in (1, 2, 3)]
    responses = dict(rows(db, f"SELECT sequence, response_payload FROM operations WHERE bulk_id={bulk_id}"))
    assert [json.loads(responses[seq])["id"] for _id, _b, _bulk, seq in txs] == [tx_id for tx_id, *_ in txs]
    (schema,) = rows(db, "SELECT sql FROM sqlite_master WHERE name='transactions'")[0]
    assert "WITHOUT ROWID" in schema


async def test_schema_2_files_migrate_keeping_their_transactions(tmp_path: Path) -> None:
    db = tmp_path / "v2.db"
    con = sqlite3.connect(db)
    for name, (n_args, func) in SQL_FUNCTIONS.items():
        con.create_function(name, n_args, func)
    for script in MIGRATIONS[:2]:
        con.executescript(script)
    con.execute("INSERT INTO transactions VALUES ('7', 'transfers', '1001', '{\"id\":\"7\"}')")
    con.execute("PRAGMA user_version=2")
    con.commit()
    con.close()
    store = Store(db)
    await store.open()
    await store.close()
    assert rows(db, "PRAGMA user_version") == [(len(MIGRATIONS),)]
    assert rows(db, "SELECT id, kind, identity_id, body, bulk_id, sequence FROM transactions") == [
        ("7", "transfers", "1001", '{"id":"7"}', None, None)
    ]
    (index,) = rows(db, "SELECT sql FROM sqlite_master WHERE name='webhook_events_due'")[0]
    assert "WHERE delivery_status = 'PENDING'" in index


async def test_checkpoints_run_beside_the_writer(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, _ = sim
    store = simulator.store
    assert (await store.w.execute_fetchall("PRAGMA wal_autocheckpoint")) == [(0,)]  # not inside COMMITs
    bulk_id, _ = await run_bulk(alice, [transfer()] * 50)
    await simulator.engine.flush()
    if store._checkpoint is not None:
        await store._checkpoint
    store._checkpoint_started = 0.0  # due again: the next commit starts one
    store._after_commit()
    assert store._checkpoint is not None
    await store._checkpoint
    # The database file itself, read without its WAL, holds the bulk's results: the checkpointer put them
    # there.
    immutable = sqlite3.connect(f"file:{simulator.settings.db}?immutable=1", uri=True)
    try:
        (in_file,) = immutable.execute(
            f"SELECT count(*) FROM operations WHERE bulk_id={bulk_id} AND status='COMPLETED'"
        ).fetchone()
    finally:
        immutable.close()
    assert in_file == 50


async def test_the_startup_heap_is_frozen(sim: tuple[Simulator, httpx.AsyncClient]) -> None:
    assert gc.get_freeze_count() > 0
