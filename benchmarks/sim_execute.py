"""Benchmark 1 and 3 of the simulator issue: a 10,000-operation transfers bulk at ``--op-delay-ms 0``.

Each run starts ``bulkdash-sim serve`` on a fresh database, submits the bulk, executes it and times execute →
final state by the simulator's own timestamps; then, in this process, a bare ``sqlite3`` loop does the same
writes on the same schema (the baseline measured in the same run). Runs alternate, so a busy machine slows
both sides alike; the ratio is the figure to compare across machines, ops/s the one for the record.

Targets: simulator / bare ≤ 2.0× and ≥ 25,000 operations/s; peak RSS ≤ 150 MB.
Run: ``python -m benchmarks.sim_execute [--n 10000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks._common import (
    free_port,
    login,
    peak_rss_mb,
    span,
    start_simulator,
    stop_process,
    transfer_items,
)
from bulkdash.contract.codec import compact_json
from simulator.store.schema import MIGRATIONS, SQL_FUNCTIONS

TARGET_RATIO = 2.0
TARGET_OPS = 25_000
BATCH = 200  # the simulator's batch_ops: it commits at least this often


def bare_schema(con: sqlite3.Connection) -> None:
    """The simulator's schema, every migration applied, as ``simulator.store`` creates it."""
    for name, (n_args, func) in SQL_FUNCTIONS.items():
        con.create_function(name, n_args, func)
    for script in MIGRATIONS:
        con.executescript(script)


def bare_sqlite_loop(path: Path, n: int) -> float:
    """The floor: the simulator's own schema and the same rows per operation (the operation's status and
    response, the two balance rows, the transaction (pointing at the response, as the simulator stores
    it), its webhook in the outbox, the bulk's counters and the id counter), committed every ``BATCH``
    operations, in a plain loop: no HTTP, no asyncio, no business rules, no JSON of the world."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    bare_schema(con)
    request = transfer_items(1)[0]["requestBody"]
    con.execute("BEGIN")
    con.execute(
        "INSERT INTO bulks (bulk_id, identity_id, programme, kind, status, n, created_ms) "
        "VALUES (1, '1001', 'P1', 'transfers', 'RUNNING', ?, 0)",
        (n,),
    )
    con.executemany(
        "INSERT INTO operations (bulk_id, sequence, operation_id, status, path, target, request_payload) "
        "VALUES (1, ?, ?, 'SUBMITTED', '/transfers', NULL, ?)",
        [(i, 1000 + i, compact_json(request)) for i in range(1, n + 1)],
    )
    con.executemany("INSERT INTO instruments VALUES (?, ?)", [("4001", "{}"), ("5002", "{}")])
    con.execute("INSERT INTO meta VALUES ('next_id', '1')")
    con.execute("COMMIT")
    response = compact_json(
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
    instrument = compact_json(
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
    event_body = (
        '{"eventType":"COMPLETED","publishedTimestamp":"1767225600120","transfer":' + response + "}"
    ).encode()
    start = time.perf_counter()
    ops: list[tuple[object, ...]] = []
    txs: list[tuple[object, ...]] = []
    events: list[tuple[object, ...]] = []
    for i in range(1, n + 1):
        ops.append(("COMPLETED", response, 1, i))
        txs.append((str(2_000_000 + i), "transfers", "1001", None, 1, i))
        events.append(
            (f"ev-{i:032d}", "P1", "1", "/transfers/watch", None, "{}", event_body, "SKIPPED", None, 0)
        )
        if len(ops) == BATCH or i == n:
            con.execute("BEGIN")
            con.executemany(
                "UPDATE operations SET status=?, response_payload=? WHERE bulk_id=? AND sequence=?", ops
            )
            con.executemany(
                "INSERT OR REPLACE INTO instruments (id, data) VALUES (?, ?)",
                [("4001", instrument), ("5002", instrument)],
            )
            con.executemany(
                "INSERT INTO transactions (id, kind, identity_id, body, bulk_id, sequence) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                txs,
            )
            con.execute("UPDATE bulks SET completed=? WHERE bulk_id=1", (i,))
            con.executemany(
                "INSERT INTO webhook_events (event_id, programme, bulk_id, path, url, headers, body, "
                "delivery_status, next_attempt_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                events,
            )
            con.execute("UPDATE meta SET value=? WHERE key='next_id'", (str(i),))
            con.execute("COMMIT")
            ops, txs, events = [], [], []
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def simulator_run(db: Path, n: int) -> dict[str, float | str]:
    """One fresh simulator: submit ``n`` transfers, execute, poll to the final state."""
    port = free_port()
    proc = start_simulator(db, port, "--op-delay-ms", "0")
    base = f"http://127.0.0.1:{port}"
    try:
        headers = login(base)
        with httpx.Client(base_url=base + "/multi", headers=headers, timeout=60) as client:
            start = time.perf_counter()
            created = client.post("/bulks/transfers", json=transfer_items(n))
            created.raise_for_status()
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
        rss = peak_rss_mb(proc.pid)
    finally:
        stop_process(proc)
    # The simulator's own figure: its timestamps, free of our polling granularity (at least 1 ms).
    sim_s = max(bulk["executionFinish"] - bulk["executionStart"], 1) / 1000
    return {"status": bulk["status"], "sim_s": sim_s, "wall_s": wall_s, "submit_s": submit_s, "rss": rss}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="transfers in the bulk (default 10000)")
    parser.add_argument("--runs", type=int, default=3, help="simulator/bare pairs (default 3)")
    args = parser.parse_args(argv)
    n = args.n
    ratios, rates, bares, rss = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bulkdash-bench-") as tmp:
        for run in range(1, args.runs + 1):
            sim = simulator_run(Path(tmp) / f"sim-{run}.db", n)
            bare_s = bare_sqlite_loop(Path(tmp) / f"bare-{run}.db", n)
            sim_s = float(sim["sim_s"])
            ratios.append(sim_s / bare_s)
            rates.append(n / sim_s)
            bares.append(n / bare_s)
            rss.append(float(sim["rss"]))
            print(
                f"run {run}: submit {float(sim['submit_s']) * 1000:.0f} ms; execute → {sim['status']} "
                f"{sim_s * 1000:.0f} ms = {n / sim_s:,.0f} ops/s "
                f"({float(sim['wall_s']) * 1000:.0f} ms polled); "
                f"bare sqlite3 {bare_s * 1000:.0f} ms = {n / bare_s:,.0f} ops/s; ratio {sim_s / bare_s:.2f}×"
            )
    print(f"{n:,} transfers, execute → final, {args.runs} run(s):")
    print(f"  simulator / bare sqlite3 loop: {span(ratios, '.2f')}× (target ≤ {TARGET_RATIO}×)")
    print(f"  simulator: {span(rates, ',.0f')} operations/s (target ≥ {TARGET_OPS:,}/s)")
    print(f"  bare sqlite3 loop, same schema and rows: {span(bares, ',.0f')} operations/s")
    print(f"  simulator peak RSS: {span(rss, '.0f')} MB (target ≤ 150 MB)")


if __name__ == "__main__":
    main()
