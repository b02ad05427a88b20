"""Benchmark 1 and 3 of the simulator issue: a 10,000-operation transfers bulk at ``--op-delay-ms 0``.

Prints execute → final state (ops/s), the same writes done by a bare ``sqlite3`` loop in this process
(ops/s, and the simulator's ratio to it), and the simulator's peak RSS.
Run: ``python -m benchmarks.sim_execute``.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks._common import free_port, login, peak_rss_mb, start_simulator, transfer_items
from simulator.store.schema import MIGRATIONS

N = 10_000


def bare_sqlite_loop(path: Path, n: int) -> float:
    """The floor: the simulator's own schema and the same rows per operation (the operation's status and
    response, the two balance rows, the transaction, its signed webhook in the outbox, the bulk's
    counters), committed every 200 operations like the simulator, in a plain loop: no HTTP, no asyncio,
    no business rules, no signing."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(MIGRATIONS[0])
    con.execute(
        "INSERT INTO bulks (bulk_id, identity_id, programme, kind, status, n, created_ms) "
        "VALUES (1, '1001', 'P1', 'transfers', 'RUNNING', ?, 0)",
        (n,),
    )
    con.executemany(
        "INSERT INTO operations (bulk_id, sequence, operation_id, status, path, target, request_payload) "
        "VALUES (1, ?, ?, 'SUBMITTED', '/transfers', NULL, ?)",
        [(i, 1000 + i, json.dumps(transfer_items(1)[0]["requestBody"])) for i in range(1, n + 1)],
    )
    con.executemany("INSERT INTO instruments VALUES (?, ?)", [("4001", "{}"), ("5002", "{}")])
    con.commit()
    response = json.dumps(
        {
            "id": "1000005",
            "profileId": "3001",
            "source": {"type": "managed_accounts", "id": "4001"},
            "destination": {"type": "managed_cards", "id": "5002"},
            "destinationAmount": {"currency": "GBP", "amount": 1},
            "state": "COMPLETED",
            "creationTimestamp": 1767225600120,
            "executionTimestamp": "1767225600120",
        }
    )
    instrument = json.dumps(
        {
            "id": "4001",
            "identity_id": "1001",
            "type": "managed_accounts",
            "currency": "GBP",
            "state": "ACTIVE",
            "balance": 1000000,
            "spend_rules": {},
        }
    )
    headers = json.dumps(
        {
            "content-type": "application/json",
            "call-ref": "x" * 36,
            "request-ref": "x" * 36,
            "published-timestamp": "1767225600120",
            "signature": "s" * 44,
            "signature-v2": "s" * 44,
        }
    )
    event_body = (
        '{"eventType":"COMPLETED","publishedTimestamp":"1767225600120","transfer":' + response
    ).encode()
    start = time.perf_counter()
    ops: list[tuple] = []
    txs: list[tuple] = []
    events: list[tuple] = []
    for i in range(1, n + 1):
        ops.append(("COMPLETED", response, 1, i))
        txs.append((str(i), "transfers", "1001", response))
        events.append(
            (f"ev-{i}", "P1", "1", "/transfers/watch", None, headers, event_body, "SKIPPED", None, 0)
        )
        if len(ops) == 200 or i == n:
            con.execute("BEGIN")
            con.executemany(
                "UPDATE operations SET status=?, response_payload=? WHERE bulk_id=? AND sequence=?", ops
            )
            con.executemany(
                "INSERT OR REPLACE INTO instruments (id, data) VALUES (?, ?)",
                [("4001", instrument), ("5002", instrument)],
            )
            con.executemany("INSERT INTO transactions (id, kind, identity_id, body) VALUES (?, ?, ?, ?)", txs)
            con.execute("UPDATE bulks SET completed=? WHERE bulk_id=1", (i,))
            con.executemany(
                "INSERT INTO webhook_events (event_id, programme, bulk_id, path, url, headers, body, "
                "delivery_status, next_attempt_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                events,
            )
            con.commit()
            ops, txs, events = [], [], []
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bulkdash-bench-"))
    port = free_port()
    proc = start_simulator(tmp / "sim.db", port, "--op-delay-ms", "0")
    base = f"http://127.0.0.1:{port}"
    try:
        headers = login(base)
        with httpx.Client(base_url=base + "/multi", headers=headers, timeout=60) as client:
            start = time.perf_counter()
            created = client.post("/bulks/transfers", json=transfer_items(N))
            submit_s = time.perf_counter() - start
            bulk_id = created.json()["bulkId"]
            start = time.perf_counter()
            client.post(f"/bulks/{bulk_id}/execute", json={}).raise_for_status()
            while True:
                bulk = client.get(f"/bulks/{bulk_id}").json()
                if bulk["status"] not in ("RUNNING", "SUBMITTED"):
                    break
                time.sleep(0.005)
            wall_s = time.perf_counter() - start
            # The simulator's own figure: its timestamps, free of our polling granularity.
            sim_s = (bulk["executionFinish"] - bulk["executionStart"]) / 1000
        rss = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bare_s = bare_sqlite_loop(tmp / "bare.db", N)
    print(f"submission of {N:,} transfers: {submit_s * 1000:.0f} ms (HTTP, validation, insert)")
    print(
        f"execute → {bulk['status']}: {sim_s * 1000:.0f} ms by the simulator's timestamps "
        f"= {N / sim_s:,.0f} operations/s (target ≥ 10,000/s); {wall_s * 1000:.0f} ms seen by polling"
    )
    print(
        f"bare sqlite3 loop, same writes: {bare_s * 1000:.0f} ms = {N / bare_s:,.0f} operations/s; "
        f"simulator / bare = {sim_s / bare_s:.1f}× (target ≤ 4×)"
    )
    print(f"simulator peak RSS: {rss:.0f} MB (target ≤ 150 MB)")


if __name__ == "__main__":
    main()
