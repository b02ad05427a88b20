"""One writer of truth and one worker per bulk: commits that fail are retried until they land (reads keep
serving the last commit, writes answer 503, workers wait), and no storm of lifecycle actions from several
clients can run an operation twice. Each test ends on the money invariant read from the file itself."""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.server import Simulator, start_embedded
from simulator.settings import SimSettings
from tests.conftest import wait_for
from tests.simulator.helpers import Api, login, sim_settings, transfer
from tests.simulator.invariants import check_money_invariant, seed_balances

FINAL = {"COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED"}


def counts(bulk: dict[str, Any]) -> dict[str, int]:
    return {x["status"]: x["count"] for x in bulk["operationStatusCounts"]}


class CommitFault:
    """Makes the store's writer fail at COMMIT (after the batch's statements ran) while ``on``: the
    transaction is rolled back, exactly as SQLite does on a full disk."""

    def __init__(self, sim: Simulator, message: str) -> None:
        self.on = False
        self.attempts = 0
        conn = sim.store.w
        real = conn.commit

        async def commit() -> None:
            if self.on:
                self.attempts += 1
                raise sqlite3.OperationalError(message)
            await real()

        conn.commit = commit  # type: ignore[method-assign]


@pytest.fixture
def settings(tmp_path: Path) -> SimSettings:  # this module's simulator: small batches, no op delay
    return sim_settings(tmp_path, op_delay_ms=0, batch_ops=50)


@pytest.mark.parametrize("message", ["database or disk is full", "disk I/O error"])
async def test_a_failed_commit_is_retried_until_it_lands_and_nothing_runs_ahead(
    sim: tuple[Simulator, httpx.AsyncClient],
    alice: Api,
    settings: SimSettings,
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    simulator, client = sim
    engine = simulator.engine
    engine.store_retry_s = 0.005
    fault = CommitFault(simulator, message)
    n, amount = 3000, 3
    bulk_id = await alice.submit([transfer(amount)] * n)
    assert (await alice.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
    await wait_for(lambda: alice.bulk(bulk_id), lambda b: counts(b)["COMPLETED"] >= 200, timeout=20)

    caplog.set_level(logging.WARNING, logger="bulkdash.simulator")
    fault.on = True
    await wait_for(lambda: asyncio.sleep(0, fault.attempts), lambda a: a >= 5, timeout=20)
    assert engine.store_down is not None

    # Reads answer from the last commit: the counters and the balances agree with each other.
    shown = await alice.bulk(bulk_id)
    assert shown["status"] == "RUNNING"
    world = (await client.get("/_sim/world/1001")).json()
    balance = {i["id"]: i["balance"] for i in world["instruments"]}
    assert balance["4001"] == seed_balances()["4001"] - amount * counts(shown)["COMPLETED"]
    # Workers wait: memory holds at most the failed batch and the one being filled when it failed (each at
    # most 4 × batch_ops by the worker's back-pressure), and does not move while the store cannot write.
    live = engine.bulks[int(bulk_id)].row
    ahead = live.completed
    assert ahead - counts(shown)["COMPLETED"] <= 8 * settings.batch_ops + 1
    tried = fault.attempts
    await wait_for(lambda: asyncio.sleep(0, fault.attempts), lambda a: a >= tried + 3, timeout=20)
    assert live.completed == ahead
    # Writes are refused with Weavr's body and a Retry-After, and change nothing.
    refused = await alice.post("/bulks/transfers", json=[transfer()])
    assert refused.status_code == 503, refused.text
    assert refused.headers.get("retry-after") and refused.headers.get("request-ref")
    assert refused.json()["code"] == "SERVICE_UNAVAILABLE"
    assert (await alice.post(f"/bulks/{bulk_id}/pause")).status_code == 503
    relogin = await client.post(
        "/multi/login_with_password",
        headers={"api-key": alice.key},
        json={"email": "alice@acme.example", "password": {"value": "Passw0rd!Sim"}},
    )
    assert relogin.status_code == 503  # a login writes its token: it waits for the store too
    assert (await alice.bulk(bulk_id))["status"] == "RUNNING"

    fault.on = False  # the disk has room again: everything carries on by itself
    done = await wait_for(lambda: alice.bulk(bulk_id), lambda b: b["status"] in FINAL, timeout=30)
    assert done["status"] == "COMPLETED" and counts(done)["COMPLETED"] == n
    listed = await alice.get(f"/bulks/{bulk_id}/operations", params={"status": "COMPLETED", "limit": 1})
    assert listed.json()["count"] == n
    await engine.flush()
    assert check_money_invariant(settings.db)["completed_transfers"] == n
    said = [r for r in caplog.records if "cannot write" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]  # once per outage, not once per batch
    assert any("writes again" in r.getMessage() for r in caplog.records)


async def test_a_submission_the_store_cannot_hold_is_refused_and_leaves_nothing(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api, settings: SimSettings
) -> None:
    simulator, _client = sim
    simulator.engine.store_retry_s = 0.005
    fault = CommitFault(simulator, "database or disk is full")
    fault.on = True
    refused = await alice.post("/bulks/transfers", json=[transfer()] * 3)
    assert refused.status_code == 503
    fault.on = False
    await wait_for(lambda: asyncio.sleep(0, simulator.engine.store_down), lambda d: d is None, timeout=10)
    listed = (await alice.get("/bulks")).json()
    assert listed["count"] == 0
    accepted = await alice.post("/bulks/transfers", json=[transfer()] * 3)
    assert accepted.status_code == 201


# --- storms of lifecycle actions -------------------------------------------------------------------


async def _storm(
    client: httpx.AsyncClient, api: Api, bulk_ids: list[str], rng: random.Random, n: int
) -> None:
    """One client: ``n`` random lifecycle actions on random bulks, answers ignored (409s are expected)."""
    actions = ["execute", "pause", "resume", "resume", "pause", "cancel"]
    for _ in range(n):
        bulk_id = rng.choice(bulk_ids)
        action = rng.choices(actions, weights=[3, 4, 4, 4, 4, 1])[0]
        body = {} if action == "execute" else None
        resp = await api.post(f"/bulks/{bulk_id}/{action}", json=body)
        assert resp.status_code in (204, 409), (action, resp.status_code, resp.text)
        if rng.random() < 0.3:
            await asyncio.sleep(0)


async def _settle(api: Api, bulk_ids: list[str]) -> None:
    """Bring every bulk to a final state: resume what is paused, execute what never ran, one at a time."""
    for bulk_id in bulk_ids:
        bulk = await api.bulk(bulk_id)
        if bulk["status"] == "PAUSED":
            assert (await api.post(f"/bulks/{bulk_id}/resume")).status_code == 204
        elif bulk["status"] == "SUBMITTED":
            assert (await api.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
        await wait_for(lambda b=bulk_id: api.bulk(b), lambda b: b["status"] in FINAL, timeout=30)


@pytest.mark.parametrize("seed", range(8))
async def test_storms_of_execute_pause_resume_cancel_never_run_an_operation_twice(
    tmp_path: Path, seed: int
) -> None:
    settings = sim_settings(tmp_path, op_delay_ms=1, max_active_bulks=3)
    simulator, server = await start_embedded(settings)
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
            apis = [await login(client) for _ in range(4)]
            bulk_ids = [await apis[0].submit([transfer(5, dest="5002")] * 50) for _ in range(5)]
            rng = random.Random(seed)
            await asyncio.gather(
                *(_storm(client, api, bulk_ids, random.Random(rng.random()), 80) for api in apis)
            )
            await _settle(apis[0], bulk_ids)
            for bulk_id in bulk_ids:
                bulk = await apis[0].bulk(bulk_id)
                listed = await apis[0].get(
                    f"/bulks/{bulk_id}/operations", params={"status": "COMPLETED", "limit": 1}
                )
                assert listed.json()["count"] == counts(bulk)["COMPLETED"], bulk
                assert sum(counts(bulk).values()) == 50
            await simulator.engine.flush()
            totals = check_money_invariant(settings.db)
            assert totals["bulks"] == 5
    finally:
        await server.stop()
