"""Benchmark 5 of the simulator issue: what 100 finished bulks of 10,000 operations (1,000,000 operation rows)
cost the simulator, against the same figures on a fresh database in the same run.

The grown database is built fast: the simulator creates and seeds it (and is stopped), then this process
appends the bulks with ``sqlite3`` in the rows the simulator itself writes for finished transfer bulks (the
operations with their request and response, each transaction pointing at its operation's response, the
bulk's final counters), and the simulator is started on it again. The fresh database gets one such bulk.
On each: the time to start (process start → serving), and with ``wrk`` (needs it: Debian ``apt-get install
wrk``; without it those figures are skipped) req/s and p99 of ``GET /bulks?limit=100``, ``GET /bulks/{id}``
and the page of operations at offset 9,900 of a bulk. Bytes per operation: the database file (checkpointed,
after the simulator stopped) over the operations it holds.

Targets: grown / fresh req/s ≥ 0.67 and p99 ≤ 1.5× for each GET; start ≤ 2 s; ≤ 600 bytes per operation.
Run: ``python -m benchmarks.sim_growth [--bulks 100] [--ops 10000] [--runs 3]`` (building takes ~1 minute).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks._common import free_port, login, span, start_simulator, stop_process, transfer_items
from benchmarks.sim_read_latency import WrkResult, run_wrk
from bulkdash.contract.codec import compact_json

TARGET_SHARE = 0.67
TARGET_P99 = 1.5
TARGET_START_S = 2.0
TARGET_BYTES = 600
WRK_SECONDS = 2
WRK_CONNECTIONS = 20
BATCH = 1_000  # operations per commit while a bulk runs (a few hundred to a few thousand, by load)
_T0 = 1_767_225_600_000  # 2026-01-01, the simulator's own clock starts near there in its docs


def build(db: Path, bulks: int, ops: int) -> None:
    """A simulator database holding ``bulks`` COMPLETED transfer bulks of ``ops`` operations each."""
    port = free_port()
    stop_process(start_simulator(db, port))  # the schema, the seed, the id counter
    request = compact_json(transfer_items(1)[0]["requestBody"])
    con = sqlite3.connect(db, isolation_level=None)
    try:
        (next_id,) = con.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key='next_id'").fetchone()
        for _ in range(bulks):
            bulk_id, first_op, first_tx = next_id, next_id + 1, next_id + 1 + ops
            next_id = first_tx + ops
            con.execute("BEGIN")
            con.execute(
                "INSERT INTO bulks (bulk_id, identity_id, programme, kind, status, n, mode, "
                "execution_start, execution_finish, created_ms, completed) VALUES "
                "(?, '1001', 'P1', 'transfers', 'COMPLETED', ?, 'ON_FAILURE_CONTINUE', ?, ?, ?, ?)",
                (bulk_id, ops, _T0, _T0 + ops, _T0, ops),
            )
            # As the simulator writes them: all SUBMITTED at submission, then each batch's results.
            con.executemany(
                "INSERT INTO operations (bulk_id, sequence, operation_id, status, path, target, "
                "request_payload) VALUES (?, ?, ?, 'SUBMITTED', '/transfers', NULL, ?)",
                [(bulk_id, seq, first_op + seq - 1, request) for seq in range(1, ops + 1)],
            )
            for start in range(1, ops + 1, BATCH):
                con.executemany(
                    "UPDATE operations SET status='COMPLETED', response_payload=? "
                    "WHERE bulk_id=? AND sequence=?",
                    [
                        (_response(first_tx + seq - 1, _T0 + seq), bulk_id, seq)
                        for seq in range(start, min(ops, start + BATCH - 1) + 1)
                    ],
                )
            con.executemany(
                "INSERT INTO transactions (id, kind, identity_id, body, bulk_id, sequence) "
                "VALUES (?, 'transfers', '1001', NULL, ?, ?)",
                [(str(first_tx + seq - 1), bulk_id, seq) for seq in range(1, ops + 1)],
            )
            con.execute("UPDATE meta SET value=? WHERE key='next_id'", (str(next_id),))
            con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def _response(tx_id: int, now_ms: int) -> str:
    """A transfer's response as the simulator stores it (simulator/operations/transfers.py)."""
    return (
        f'{{"id":"{tx_id}","profileId":"3001","source":{{"type":"managed_accounts","id":"4001"}},'
        f'"destination":{{"type":"managed_cards","id":"5002"}},"destinationAmount":{{"currency":"GBP",'
        f'"amount":1}},"state":"COMPLETED","creationTimestamp":{now_ms},"executionTimestamp":"{now_ms}"}}'
    )


@dataclass
class Figures:
    start_s: float
    gets: dict[str, WrkResult]


def measure(db: Path, with_wrk: bool) -> Figures:
    """Start the simulator on ``db`` (timed), then the three GETs under wrk."""
    port = free_port()
    started = time.perf_counter()
    proc = start_simulator(db, port)
    start_s = time.perf_counter() - started
    base = f"http://127.0.0.1:{port}"
    gets: dict[str, WrkResult] = {}
    try:
        headers = login(base)
        with httpx.Client(base_url=base + "/multi", headers=headers, timeout=60) as client:
            listed = client.get("/bulks", params={"limit": 100}).json()["bulkProcesses"]
            bulk_id = listed[-1]["bulkId"]
            n = client.get(f"/bulks/{bulk_id}").json()["submittedItemsCount"]
        offset = max(0, n - 100)
        urls = {
            "list": f"{base}/multi/bulks?limit=100",
            "get": f"{base}/multi/bulks/{bulk_id}",
            f"page@{offset}": f"{base}/multi/bulks/{bulk_id}/operations?offset={offset}&limit=100",
        }
        if with_wrk:
            for name, url in urls.items():
                gets[name] = run_wrk(url, WRK_SECONDS, WRK_CONNECTIONS, headers)
    finally:
        stop_process(proc)
    return Figures(start_s, gets)


def bytes_per_operation(db: Path) -> float:
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (operations,) = con.execute("SELECT count(*) FROM operations").fetchone()
        (pages,) = con.execute("PRAGMA page_count").fetchone()
        (page_size,) = con.execute("PRAGMA page_size").fetchone()
    finally:
        con.close()
    return pages * page_size / max(1, operations)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bulks", type=int, default=100, help="bulks in the grown database (default 100)")
    parser.add_argument("--ops", type=int, default=10_000, help="operations per bulk (default 10000)")
    parser.add_argument("--runs", type=int, default=3, help="fresh/grown measurement pairs (default 3)")
    args = parser.parse_args(argv)
    with_wrk = shutil.which("wrk") is not None
    if not with_wrk:
        print("wrk not installed (Debian: apt-get install wrk): the GET figures are skipped")
    with tempfile.TemporaryDirectory(prefix="bulkdash-bench-") as tmp:
        fresh_db, grown_db = Path(tmp) / "fresh.db", Path(tmp) / "grown.db"
        started = time.perf_counter()
        build(fresh_db, 1, args.ops)
        build(grown_db, args.bulks, args.ops)
        print(
            f"built: fresh (1 bulk) and grown ({args.bulks} bulks × {args.ops:,} operations) "
            f"in {time.perf_counter() - started:.0f} s"
        )
        runs: list[tuple[Figures, Figures]] = []
        for number in range(1, args.runs + 1):
            fresh, grown = measure(fresh_db, with_wrk), measure(grown_db, with_wrk)
            runs.append((fresh, grown))
            text = "; ".join(
                f"{name} {grown.gets[name].rps:,.0f} vs {fresh.gets[name].rps:,.0f} req/s, p99 "
                f"{grown.gets[name].p99_ms:.2f} vs {fresh.gets[name].p99_ms:.2f} ms"
                for name in grown.gets
            )
            print(
                f"run {number}: start {grown.start_s:.2f} vs {fresh.start_s:.2f} s"
                + (f"; {text}" if text else "")
            )
        per_op = bytes_per_operation(grown_db)
    print(f"{args.bulks} bulks × {args.ops:,} operations vs a fresh database (1 bulk), {args.runs} run(s):")
    for name in runs[0][1].gets:
        shares = [g.gets[name].rps / f.gets[name].rps for f, g in runs]
        p99s = [g.gets[name].p99_ms / f.gets[name].p99_ms for f, g in runs]
        rates = [g.gets[name].rps for _f, g in runs]
        print(
            f"  GET {name}: grown/fresh req/s {span(shares, '.2f')} (target ≥ {TARGET_SHARE}), "
            f"p99 {span(p99s, '.2f')}× (target ≤ {TARGET_P99}×); grown {span(rates, ',.0f')} req/s"
        )
    print(f"  start (process start → serving): {span([g.start_s for _f, g in runs], '.2f')} s (target ≤ 2 s)")
    print(f"  bytes per operation: {per_op:,.0f} (target ≤ {TARGET_BYTES})")


if __name__ == "__main__":
    main()
