"""The money invariant, read straight from a simulator's SQLite file (not through its API, which it checks).

For every bulk: the counters it stores equal the operations listed with each status, and a finished bulk
lists no SUBMITTED operation. For transfers: the transactions stored equal the operations COMPLETED, and
every instrument's balance equals its seeded balance moved by exactly the COMPLETED transfers' amounts:
nothing lost, nothing applied twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

from simulator.world.seed import build_seed_world

FINAL = {"COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED"}


def seed_balances() -> dict[str, int]:
    counter = iter(range(1, 10**9))
    world = build_seed_world(lambda: str(next(counter)))
    return {i.id: i.balance or 0 for i in world.instruments.values()}


def check_money_invariant(db: Path) -> dict[str, int]:
    """Assert the invariant over every bulk in ``db``; returns a few totals for the caller's own checks."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        listed: dict[int, Counter[str]] = {}
        for bulk_id, status, count in con.execute(
            "SELECT bulk_id, status, COUNT(*) FROM operations GROUP BY bulk_id, status"
        ):
            listed.setdefault(bulk_id, Counter())[status] = count
        moved: Counter[str] = Counter()
        completed_transfers = 0
        for bulk_id, kind, status, n, completed, failed, cancelled in con.execute(
            "SELECT bulk_id, kind, status, n, completed, failed, cancelled FROM bulks"
        ):
            ops = listed.get(bulk_id, Counter())
            assert sum(ops.values()) == n, (bulk_id, ops, n)
            assert (ops["COMPLETED"], ops["FAILED"], ops["CANCELLED"]) == (completed, failed, cancelled), (
                f"bulk {bulk_id} ({status}) counts completed={completed} failed={failed} "
                f"cancelled={cancelled} but lists {dict(ops)}"
            )
            if status in FINAL:
                assert ops["SUBMITTED"] == 0, f"bulk {bulk_id} is {status} with {ops['SUBMITTED']} SUBMITTED"
            if kind != "transfers":
                continue
            for (payload,) in con.execute(
                "SELECT request_payload FROM operations WHERE bulk_id=? AND status='COMPLETED'", (bulk_id,)
            ):
                body = json.loads(payload)
                amount = int(body["destinationAmount"]["amount"])
                moved[body["source"]["id"]] -= amount
                moved[body["destination"]["id"]] += amount
                completed_transfers += 1
        (stored_transfers,) = con.execute(
            "SELECT COUNT(*) FROM transactions WHERE kind='transfers'"
        ).fetchone()
        assert stored_transfers == completed_transfers, (stored_transfers, completed_transfers)
        seeded = seed_balances()
        for inst_id, data in con.execute("SELECT id, data FROM instruments"):
            balance = json.loads(data).get("balance") or 0
            expected = seeded.get(inst_id, 0) + moved[inst_id]
            assert balance == expected, f"instrument {inst_id}: balance {balance}, expected {expected}"
        return {"completed_transfers": completed_transfers, "bulks": len(listed)}
    finally:
        con.close()
