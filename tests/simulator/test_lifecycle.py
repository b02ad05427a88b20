"""Bulk lifecycle over HTTP: the worked scenarios of docs/behaviour.md §5.6, reads while running, execute
conflicts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from simulator.server import Simulator
from tests.conftest import wait_for
from tests.simulator.helpers import Api, Gate, transfer

# N = 4 transfers: ops 1, 2, 4 valid, op 3 to the blocked card 5003 (§5.6).
SCENARIO = [transfer(), transfer(), transfer(dest="5003"), transfer()]


async def final(api: Api, bulk_id: str) -> dict[str, Any]:
    return await wait_for(
        lambda: api.bulk(bulk_id), lambda b: b["status"] not in ("SUBMITTED", "RUNNING", "PAUSED")
    )


async def op_statuses(api: Api, bulk_id: str) -> str:
    page = (await api.get(f"/bulks/{bulk_id}/operations")).json()
    letter = {"COMPLETED": "C", "FAILED": "F", "CANCELLED": "X", "SUBMITTED": "S", "RUNNING": "R"}
    return "".join(letter[o["status"]] for o in page["operations"])


def counts(bulk: dict[str, Any]) -> dict[str, int]:
    return {c["status"]: c["count"] for c in bulk["operationStatusCounts"]}


@pytest.mark.parametrize(
    ("mode", "items", "expected_ops", "expected_status"),
    [
        ("ON_FAILURE_CONTINUE", SCENARIO, "CCFC", "PARTIALLY_COMPLETED"),
        ("ON_FAILURE_STOP", SCENARIO, "CCFX", "PARTIALLY_COMPLETED"),
        ("ON_FAILURE_STOP", [transfer(dest="5003"), *SCENARIO[:2], SCENARIO[3]], "FXXX", "FAILED"),
        ("ON_FAILURE_CONTINUE", [transfer(), transfer()], "CC", "COMPLETED"),
    ],
)
async def test_worked_scenarios(
    alice: Api, mode: str, items: list, expected_ops: str, expected_status: str
) -> None:
    bulk_id = await alice.submit(items)
    submitted = await alice.bulk(bulk_id)
    assert submitted == {
        "bulkId": bulk_id,
        "status": "SUBMITTED",
        "submittedItemsCount": len(items),
        "operation": "POST /transfers",
        "operationStatusCounts": [
            {"status": s, "count": len(items) if s == "SUBMITTED" else 0}
            for s in ("SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")
        ],
    }
    resp = await alice.post(f"/bulks/{bulk_id}/execute", json={"mode": mode})
    assert resp.status_code == 204 and resp.content == b""
    bulk = await final(alice, bulk_id)
    assert bulk["status"] == expected_status
    assert bulk["mode"] == mode
    assert bulk["executionFinish"] >= bulk["executionStart"]
    assert await op_statuses(alice, bulk_id) == expected_ops
    assert sum(counts(bulk).values()) == len(items)


async def test_default_mode_is_continue_and_second_execute_conflicts(alice: Api) -> None:
    bulk_id = await alice.submit(SCENARIO)
    assert (await alice.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
    bulk = await final(alice, bulk_id)
    assert bulk["mode"] == "ON_FAILURE_CONTINUE"
    again = await alice.post(f"/bulks/{bulk_id}/execute", json={})
    assert again.status_code == 409 and again.json() == {"errorCode": "INVALID_STATE"}
    for action in ("pause", "resume", "cancel"):
        resp = await alice.post(f"/bulks/{bulk_id}/{action}")
        assert resp.json() == {"errorCode": "INVALID_STATE"}, action


async def test_pause_after_op_two_then_resume(sim: tuple[Simulator, httpx.AsyncClient], alice: Api) -> None:
    simulator, _ = sim
    gate = Gate(hold_at=2)  # op 2 in flight: the pause lands after it
    simulator.engine.before_operation = gate
    bulk_id = await alice.submit(SCENARIO)
    await alice.post(f"/bulks/{bulk_id}/execute", json={"mode": "ON_FAILURE_CONTINUE"})
    await gate.reached.wait()
    pausing = asyncio.create_task(alice.post(f"/bulks/{bulk_id}/pause"))
    await wait_for(lambda: asyncio.sleep(0, simulator.engine.bulks[int(bulk_id)].stop_request), bool)
    gate.release.set()
    assert (await pausing).status_code == 204
    paused = await alice.bulk(bulk_id)
    assert paused["status"] == "PAUSED"
    assert counts(paused) == {"SUBMITTED": 2, "RUNNING": 0, "COMPLETED": 2, "FAILED": 0, "CANCELLED": 0}
    assert await op_statuses(alice, bulk_id) == "CCSS"
    assert (await alice.post(f"/bulks/{bulk_id}/pause")).json() == {"errorCode": "INVALID_STATE"}
    simulator.engine.before_operation = None
    assert (await alice.post(f"/bulks/{bulk_id}/resume")).status_code == 204
    bulk = await final(alice, bulk_id)
    assert bulk["status"] == "PARTIALLY_COMPLETED"
    assert bulk["executionStart"] == paused["executionStart"]
    assert await op_statuses(alice, bulk_id) == "CCFC"


async def test_cancel_after_op_two(sim: tuple[Simulator, httpx.AsyncClient], alice: Api) -> None:
    simulator, _ = sim
    gate = Gate(hold_at=2)
    simulator.engine.before_operation = gate
    bulk_id = await alice.submit(SCENARIO)
    await alice.post(f"/bulks/{bulk_id}/execute", json={})
    await gate.reached.wait()
    cancelling = asyncio.create_task(alice.post(f"/bulks/{bulk_id}/cancel"))
    await wait_for(lambda: asyncio.sleep(0, simulator.engine.bulks[int(bulk_id)].stop_request), bool)
    gate.release.set()
    assert (await cancelling).status_code == 204
    bulk = await alice.bulk(bulk_id)
    assert bulk["status"] == "CANCELLED" and "executionFinish" in bulk
    assert await op_statuses(alice, bulk_id) == "CCXX"
    assert (await alice.post(f"/bulks/{bulk_id}/resume")).json() == {"errorCode": "INVALID_STATE"}


async def test_cancel_before_execute_has_no_timestamps(alice: Api) -> None:
    bulk_id = await alice.submit(SCENARIO)
    assert (await alice.post(f"/bulks/{bulk_id}/cancel")).status_code == 204
    bulk = await alice.bulk(bulk_id)
    assert bulk["status"] == "CANCELLED"
    assert "executionStart" not in bulk and "executionFinish" not in bulk and "mode" not in bulk
    assert await op_statuses(alice, bulk_id) == "XXXX"


async def test_operation_in_flight_reads_as_running(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, _ = sim
    gate = Gate(hold_at=2)
    simulator.engine.before_operation = gate
    bulk_id = await alice.submit(SCENARIO)
    await alice.post(f"/bulks/{bulk_id}/execute", json={})
    await gate.reached.wait()
    await wait_for(lambda: alice.bulk(bulk_id), lambda b: counts(b)["COMPLETED"] == 1)
    bulk = await alice.bulk(bulk_id)
    assert counts(bulk) == {"SUBMITTED": 2, "RUNNING": 1, "COMPLETED": 1, "FAILED": 0, "CANCELLED": 0}
    running = (await alice.get(f"/bulks/{bulk_id}/operations?status=RUNNING")).json()
    assert [o["sequence"] for o in running["operations"]] == [2] and running["count"] == 1
    submitted = (await alice.get(f"/bulks/{bulk_id}/operations?status=SUBMITTED")).json()
    assert [o["sequence"] for o in submitted["operations"]] == [3, 4]
    gate.release.set()
    await final(alice, bulk_id)


async def test_no_read_shows_an_operation_running_past_one_still_submitted(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    """Operation 1's result waits for its group commit while operation 2 is already in flight: the reads are
    of the committed rows, so they show operation 1 RUNNING (as the bulk stood just before it ended), never
    operation 1 SUBMITTED beside operation 2 RUNNING (a trainee saw an operation go back to SUBMITTED)."""
    simulator, _ = sim
    simulator.engine.settings.batch_ms = 60_000  # nothing commits by itself meanwhile
    simulator.engine.settings.batch_ops = 1_000
    gate = Gate(hold_at=2)
    simulator.engine.before_operation = gate
    bulk_id = await alice.submit(SCENARIO)
    await alice.post(f"/bulks/{bulk_id}/execute", json={})
    await gate.reached.wait()  # operation 1 has run; its result is not committed
    assert simulator.engine.bulks[int(bulk_id)].view.completed == 0
    ops = (await alice.get(f"/bulks/{bulk_id}/operations")).json()["operations"]
    assert [o["status"] for o in ops] == ["RUNNING", "SUBMITTED", "SUBMITTED", "SUBMITTED"]
    assert counts(await alice.bulk(bulk_id)) == {
        "SUBMITTED": 3, "RUNNING": 1, "COMPLETED": 0, "FAILED": 0, "CANCELLED": 0
    }
    running = (await alice.get(f"/bulks/{bulk_id}/operations?status=RUNNING")).json()
    assert [o["sequence"] for o in running["operations"]] == [1]
    await simulator.engine.flush()  # operation 1's result lands: now operation 2 is the one RUNNING
    ops = (await alice.get(f"/bulks/{bulk_id}/operations")).json()["operations"]
    assert [o["status"] for o in ops] == ["COMPLETED", "RUNNING", "SUBMITTED", "SUBMITTED"]
    gate.release.set()
    await final(alice, bulk_id)


async def test_execute_conflicts_duplicate_type_and_too_many(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, _ = sim
    gate = Gate(hold_at=1)
    simulator.engine.before_operation = gate
    first = await alice.submit([transfer()])
    await alice.post(f"/bulks/{first}/execute", json={})
    second = await alice.submit([transfer()])
    resp = await alice.post(f"/bulks/{second}/execute", json={})
    assert resp.status_code == 409 and resp.json() == {"errorCode": "DUPLICATE_OPERATION_TYPE"}
    # Two more active bulks of other kinds reach the cap of 3.
    for path, item in (
        ("/bulks/managed_cards/_id_/block", {"pathParams": {"_id_": "5001"}}),
        ("/bulks/users/_user_id_/invite", {"pathParams": {"_user_id_": "2005"}}),
    ):
        other = await alice.submit([item], path=path)
        assert (await alice.post(f"/bulks/{other}/execute", json={})).status_code == 204
    fourth = await alice.submit([{"pathParams": {"_id_": "5002"}}], path="/bulks/managed_cards/_id_/remove")
    resp = await alice.post(f"/bulks/{fourth}/execute", json={})
    assert resp.status_code == 409 and resp.json() == {"errorCode": "TOO_MANY_REQUESTS"}
    gate.hold_at = -1
    gate.release.set()


async def test_listing_paging_filters_and_caps(alice: Api) -> None:
    ids = [await alice.submit([transfer()] * 3) for _ in range(3)]
    await alice.post(f"/bulks/{ids[1]}/cancel")
    page = (await alice.get("/bulks?limit=1&offset=1")).json()
    assert page["count"] == 3 and page["responseCount"] == 1
    assert page["bulkProcesses"][0]["bulkId"] == ids[1]
    cancelled = (await alice.get("/bulks?status=CANCELLED")).json()
    assert [b["bulkId"] for b in cancelled["bulkProcesses"]] == [ids[1]]
    big = await alice.submit([transfer()] * 150)
    ops = (await alice.get(f"/bulks/{big}/operations?limit=500")).json()
    assert ops["count"] == 150 and ops["responseCount"] == 100
    tail = (await alice.get(f"/bulks/{big}/operations?offset=140")).json()
    assert [o["sequence"] for o in tail["operations"]] == list(range(141, 151))
    one = (await alice.get(f"/bulks/{big}/operations?sequence=42")).json()
    op = one["operations"][0]
    assert one["count"] == 1 and op["sequence"] == 42
    assert op["method"] == "POST" and op["path"] == "/transfers" and op["status"] == "SUBMITTED"
    assert "responsePayload" not in op
    assert op["requestPayload"].startswith('{"profileId":"3001"')
    none = (await alice.get(f"/bulks/{big}/operations?sequence=151")).json()
    assert none == {"count": 0, "responseCount": 0, "operations": []}
    # Ids: the bulk first, then one per operation in sequence order.
    first_op = (await alice.get(f"/bulks/{big}/operations?limit=1")).json()["operations"][0]
    assert int(first_op["operationId"]) == int(big) + 1
