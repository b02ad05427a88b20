"""Where the receiver's batches spend their time, and what it would reach without parts of its write:
``benchmarks.webhook_receiver`` run as it is, with the store's steps timed or left out. Diagnostics, not
targets: the figures the README gives for the receiver's batch cycle and its ceilings.

``--mode timing`` (the store as shipped): per batch, its size, the inserts on the loop, and the COMMIT (its
fsync) on the connection's thread and as the writer awaits it. ``--mode no-fsync``: ``synchronous=OFF``.
``--mode no-writes``: the inserts left out, so nothing is recorded (and the COMMIT writes nothing).

    .venv/bin/python -m benchmarks.receiver_commit [--mode timing|no-fsync|no-writes] [--runs 2] [--count N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

import bulkdash.webhooks.store as store_module
from benchmarks import webhook_receiver

MODES = ("timing", "no-fsync", "no-writes")


class Timings:
    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.inserts_s: list[float] = []
        self.commit_thread_s: list[float] = []
        self.commit_awaited_s: list[float] = []

    def report(self) -> None:
        if not self.sizes:
            return
        ms = 1000.0
        print(
            f"batches: {len(self.sizes):,}, mean size {statistics.mean(self.sizes):.1f} records; "
            "inserts on the "
            f"loop {statistics.mean(self.inserts_s) * ms:.3f} ms a batch "
            f"({sum(self.inserts_s) / sum(self.sizes) * 1e6:.1f} µs a record)"
        )
        print(
            f"COMMIT on the connection's thread: p50 {statistics.median(self.commit_thread_s) * ms:.3f} ms; "
            f"awaited by the writer: p50 {statistics.median(self.commit_awaited_s) * ms:.3f} ms"
        )


def _timed(timings: Timings) -> None:
    insert_batch = store_module._insert_batch
    write_batch = store_module.WebhookStore._write_batch

    def timed_insert(conn: Any, params: list[tuple[Any, ...]]) -> Any:
        started = time.perf_counter()
        rows = insert_batch(conn, params)
        timings.inserts_s.append(time.perf_counter() - started)
        timings.sizes.append(len(params))
        return rows

    async def timed_write(self: store_module.WebhookStore, batch: Any) -> None:
        db = self._db
        assert db is not None
        execute = db.execute

        async def execute_timing_commit(sql: str, *args: Any) -> Any:
            if sql != "COMMIT":
                return await execute(sql, *args)
            conn = db._conn

            def commit() -> float:
                started = time.perf_counter()
                conn.execute("COMMIT")
                return time.perf_counter() - started

            started = time.perf_counter()
            timings.commit_thread_s.append(await db._execute(commit))
            timings.commit_awaited_s.append(time.perf_counter() - started)
            return None

        db.execute = execute_timing_commit  # type: ignore[method-assign]
        try:
            await write_batch(self, batch)
        finally:
            del db.execute

    store_module._insert_batch = timed_insert
    store_module.WebhookStore._write_batch = timed_write  # type: ignore[method-assign]


def _no_fsync() -> None:
    open_store = store_module.WebhookStore.open

    async def open_without_fsync(self: store_module.WebhookStore) -> None:
        await open_store(self)
        assert self._db is not None
        await self._db.execute("PRAGMA synchronous=OFF")

    store_module.WebhookStore.open = open_without_fsync  # type: ignore[method-assign]


def _no_writes() -> None:
    store_module._insert_batch = lambda conn, params: [(i + 1, None) for i in range(len(params))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, default="timing")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args(argv)
    timings = Timings()
    if args.mode == "timing":
        _timed(timings)
    elif args.mode == "no-fsync":
        _no_fsync()
    else:
        _no_writes()
    print(f"receiver with the store {'as shipped, timed' if args.mode == 'timing' else args.mode}:")
    ok = webhook_receiver.main(["--runs", str(args.runs), "--count", str(args.count)])
    timings.report()
    # With no writes nothing is recorded, which the receiver benchmark reports as a failure: expected here.
    return 0 if args.mode == "no-writes" else ok


if __name__ == "__main__":
    sys.exit(main())
