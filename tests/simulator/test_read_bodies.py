"""The read bodies the engine writes itself (encoded once per commit, no pydantic per request) are, byte for
byte, what the contract's models made of the same state: ``GET /bulks/{id}``, ``GET /bulks`` and a page of
operations, in every state a bulk passes through, and a new commit never serves the old body."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from bulkdash.contract.models import (
    BulkProcess,
    BulkProcessDetails,
    BulkProcessOperation,
    BulkProcessOperationsPaged,
    status_counts,
)
from simulator.engine.auth import Principal
from simulator.engine.engine import Engine, LiveBulk
from simulator.server import Simulator
from tests.conftest import wait_for
from tests.simulator.helpers import KEY1, Api, Gate, transfer


def encoded(body: dict[str, Any]) -> bytes:
    """What the HTTP layer's JSON response made of a dict (simulator/http/responses.py)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def model_of(lb: LiveBulk) -> BulkProcess:
    v = lb.view
    return BulkProcess(
        bulkId=str(v.bulk_id),
        status=v.status,
        submittedItemsCount=v.n,
        operation=lb.spec.operation,
        mode=v.mode,
        executionStart=v.execution_start,
        executionFinish=v.execution_finish,
    )


def details_by_the_models(lb: LiveBulk) -> bytes:
    v = lb.view
    running = 1 if lb.in_flight is not None and v.status == "RUNNING" else 0
    counts = {
        "SUBMITTED": v.n - v.completed - v.failed - v.cancelled - running,
        "RUNNING": running,
        "COMPLETED": v.completed,
        "FAILED": v.failed,
        "CANCELLED": v.cancelled,
    }
    base = model_of(lb)
    details = BulkProcessDetails(
        **base.model_dump(exclude_none=True), operationStatusCounts=status_counts(counts)
    )
    return encoded(details.dump())


def principal_of(engine: Engine, api: Api) -> Principal:
    principal = engine.tokens.resolve(KEY1, f"Bearer {api.token}", engine.clock())
    assert principal is not None
    return principal


async def test_get_bulk_is_the_models_body_in_every_state(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    engine = sim[0].engine
    principal = principal_of(engine, alice)
    bulk_id = await alice.submit(
        [transfer(), transfer(tag="SIM_FAIL_500"), transfer(), transfer(), transfer()]
    )
    lb = engine.bulks[int(bulk_id)]
    seen = [engine.get_bulk(principal, bulk_id).encoded]
    assert seen[-1] == details_by_the_models(lb)  # SUBMITTED: no mode, no execution times

    gate = Gate(hold_at=4)
    engine.before_operation = gate
    assert (
        await alice.post(f"/bulks/{bulk_id}/execute", json={"mode": "ON_FAILURE_CONTINUE"})
    ).status_code == 204
    async with asyncio.timeout(10):
        await gate.reached.wait()
    await engine.flush()  # operations 1-3 committed, 4 in flight
    seen.append(engine.get_bulk(principal, bulk_id).encoded)
    assert b'"RUNNING","count":1' in seen[-1]
    assert seen[-1] == details_by_the_models(lb)

    pausing = asyncio.create_task(alice.post(f"/bulks/{bulk_id}/pause"))
    await wait_for(lambda: asyncio.sleep(0, lb.stop_request), bool)
    gate.release.set()
    assert (await pausing).status_code == 204
    seen.append(engine.get_bulk(principal, bulk_id).encoded)
    assert seen[-1] == details_by_the_models(lb)  # PAUSED

    engine.before_operation = None
    assert (await alice.post(f"/bulks/{bulk_id}/resume")).status_code == 204
    await wait_for(lambda: alice.bulk(bulk_id), lambda b: b["status"] == "PARTIALLY_COMPLETED")
    seen.append(engine.get_bulk(principal, bulk_id).encoded)
    assert seen[-1] == details_by_the_models(lb)  # final, with executionFinish
    assert len(set(seen)) == len(seen)  # each commit served its own body, never an older one
    assert (await alice.get(f"/bulks/{bulk_id}")).content == seen[-1]  # and that is what HTTP sends


async def test_list_is_the_models_body(sim: tuple[Simulator, httpx.AsyncClient], alice: Api) -> None:
    engine = sim[0].engine
    principal = principal_of(engine, alice)
    ids = [await alice.submit([transfer()]) for _ in range(3)]
    assert (await alice.post(f"/bulks/{ids[1]}/execute", json={})).status_code == 204
    await wait_for(lambda: alice.bulk(ids[1]), lambda b: b["status"] == "COMPLETED")
    await alice.post(f"/bulks/{ids[2]}/cancel")

    def by_the_models(offset: int, limit: int, status: str | None) -> bytes:
        mine = [lb for lb in engine.bulks.values() if lb.view.identity_id == principal.identity.id]
        mine = [lb for lb in mine if status is None or lb.view.status == status]
        page = mine[offset : offset + limit]
        return encoded(
            {
                "count": len(mine),
                "responseCount": len(page),
                "bulkProcesses": [model_of(lb).dump() for lb in page],
            }
        )

    for offset, limit, status in [
        (0, 100, None),
        (1, 1, None),
        (0, 100, "COMPLETED"),
        (0, 100, "SUBMITTED"),
        (5, 10, None),
    ]:
        assert engine.list_bulks(principal, offset, limit, status).encoded == by_the_models(
            offset, limit, status
        )


async def test_operations_page_is_the_models_body(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    engine = sim[0].engine
    principal = principal_of(engine, alice)
    bulk_id = await alice.submit([transfer(), transfer(tag="SIM_FAIL_500"), transfer(), transfer()])
    lb = engine.bulks[int(bulk_id)]
    gate = Gate(hold_at=3)
    engine.before_operation = gate
    assert (await alice.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
    async with asyncio.timeout(10):
        await gate.reached.wait()
    await engine.flush()

    async def by_the_models(offset: int, limit: int, status: str | None, sequence: int | None) -> bytes:
        rows = await engine.store.page_operations(
            lb.row.bulk_id, offset=0, limit=10**6, status=None, sequence=None
        )
        ops = []
        for op_id, seq, st, path, req, resp in rows[1]:
            shown = "RUNNING" if seq == lb.in_flight and st == "SUBMITTED" else st
            if (status is None or shown == status) and (sequence is None or seq == sequence):
                ops.append(
                    BulkProcessOperation(
                        operationId=str(op_id),
                        sequence=seq,
                        method=lb.spec.method,
                        path=path,
                        status=shown,
                        requestPayload=req,
                        responsePayload=resp,
                    )
                )
        page = ops[offset : offset + limit]
        return encoded(
            BulkProcessOperationsPaged(count=len(ops), responseCount=len(page), operations=page).dump()
        )

    cases = [(0, 100, None, None), (1, 2, None, None), (0, 100, "COMPLETED", None), (0, 100, "FAILED", None)]
    cases += [(0, 100, "SUBMITTED", None), (0, 100, "RUNNING", None), (0, 100, None, 2), (9, 100, None, None)]
    for offset, limit, status, sequence in cases:
        page = await engine.list_operations(principal, bulk_id, offset, limit, status, sequence)
        assert page.encoded == await by_the_models(offset, limit, status, sequence), (
            offset,
            status,
            sequence,
        )
    assert (
        b'"responsePayload"'
        not in (await engine.list_operations(principal, bulk_id, 0, 100, "SUBMITTED", None)).encoded
    )
    gate.release.set()
    engine.before_operation = None
    await wait_for(lambda: alice.bulk(bulk_id), lambda b: b["status"] == "PARTIALLY_COMPLETED")
