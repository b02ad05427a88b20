"""Presenter controls (``/_sim/presenter``): pause the world, step, speed, fault now, hold at an operation,
reset; and a scenario set up for a trainee (the world waits, holds at the pack's move, plays at its pace)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

import simulator.engine.engine as engine_module
from simulator.server import Simulator
from tests.conftest import wait_for
from tests.simulator.faults_helpers import final_bulk, operations, recorder, set_plan
from tests.simulator.helpers import Api, transfer

DEFAULTS = {
    "paused": False,
    "speed": 1.0,
    "opDelayMs": 0,
    "effectiveOpDelayMs": 0.0,
    "faultPending": False,
    "waiting": 0,
    "stepsPending": 0,
    "holds": [],
    "heldAt": None,
}


def letters(ops: list[dict[str, Any]]) -> str:
    return "".join(
        {"COMPLETED": "C", "FAILED": "F", "CANCELLED": "X", "RUNNING": "R", "SUBMITTED": "S"}[o["status"]]
        for o in ops
    )


def counts(bulk: dict[str, Any]) -> dict[str, int]:
    """``operationStatusCounts`` as ``{status: count}``, zeros left out."""
    return {c["status"]: c["count"] for c in bulk["operationStatusCounts"] if c["count"]}


async def presenter(client: httpx.AsyncClient) -> dict[str, Any]:
    resp = await client.get("/_sim/presenter")
    assert resp.status_code == 200, resp.text
    return resp.json()


async def put(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    resp = await client.put("/_sim/presenter", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def post(client: httpx.AsyncClient, action: str) -> dict[str, Any]:
    resp = await client.post(f"/_sim/presenter/{action}")
    assert resp.status_code == 200, resp.text
    return resp.json()


async def held(client: httpx.AsyncClient, n: int = 1) -> dict[str, Any]:
    """Wait until ``n`` operations are held by the paused world."""
    return await wait_for(lambda: presenter(client), lambda p: p["waiting"] == n)


async def start_held(client: httpx.AsyncClient, api: Api, n: int, body: dict[str, Any] | None = None) -> str:
    """Pause the world, submit ``n`` transfers, execute: returns once operation 1 is held."""
    await put(client, paused=True)
    bulk_id = await api.submit([transfer(100 + i) for i in range(n)])
    resp = await api.post(f"/bulks/{bulk_id}/execute", json=body or {})
    assert resp.status_code == 204, resp.text
    await held(client)
    return bulk_id


async def test_pause_holds_the_operation_while_reads_answer_and_unpause_finishes(
    client: httpx.AsyncClient, alice: Api
) -> None:
    bulk_id = await start_held(client, alice, 4)
    bulk = await alice.bulk(bulk_id)
    assert bulk["status"] == "RUNNING"
    assert counts(bulk) == {"SUBMITTED": 3, "RUNNING": 1}
    assert letters(await operations(alice, bulk_id)) == "RSSS"
    assert (await alice.get("/bulks")).status_code == 200
    assert (await presenter(client))["paused"] is True
    await put(client, paused=False)
    done = await final_bulk(alice, bulk_id)
    assert done["status"] == "COMPLETED" and counts(done) == {"COMPLETED": 4}
    assert await presenter(client) == DEFAULTS


async def test_step_runs_exactly_one_operation_each_time(client: httpx.AsyncClient, alice: Api) -> None:
    bulk_id = await start_held(client, alice, 3)
    for done in range(3):
        bulk = await alice.bulk(bulk_id)
        assert counts(bulk).get("COMPLETED", 0) == done
        await post(client, "step")
        if done < 2:
            await held(client)  # the next operation is held again
            want = done + 1
            await wait_for(
                lambda: alice.bulk(bulk_id), lambda b, want=want: counts(b).get("COMPLETED") == want
            )
    final = await final_bulk(alice, bulk_id)
    assert final["status"] == "COMPLETED" and counts(final) == {"COMPLETED": 3}
    assert (await presenter(client))["stepsPending"] == 0


async def test_steps_are_counted(client: httpx.AsyncClient, alice: Api) -> None:
    bulk_id = await start_held(client, alice, 4)
    await post(client, "step")
    await post(client, "step")
    await wait_for(lambda: alice.bulk(bulk_id), lambda b: counts(b).get("COMPLETED") == 2)
    await held(client)
    assert letters(await operations(alice, bulk_id)) == "CCRS"
    assert (await presenter(client))["stepsPending"] == 0


async def test_step_when_running_is_a_conflict(client: httpx.AsyncClient) -> None:
    resp = await client.post("/_sim/presenter/step")
    assert resp.status_code == 409 and resp.json() == {"errorCode": "WORLD_NOT_PAUSED"}
    assert await presenter(client) == DEFAULTS


async def test_webhooks_wait_while_paused_and_go_out_after(
    sim: tuple[Simulator, httpx.AsyncClient], client: httpx.AsyncClient, alice: Api
) -> None:
    async with recorder() as rx:
        assert (await client.put("/_sim/config", json={"webhookBaseUrl": {"P1": rx.url}})).status_code == 204
        bulk_id = await start_held(client, alice, 2)
        await post(client, "step")
        await held(client)
        await post(client, "step")
        assert (await final_bulk(alice, bulk_id))["status"] == "COMPLETED"

        async def outbox() -> list[dict[str, Any]]:
            return (await client.get("/_sim/webhooks", params={"bulkId": bulk_id})).json()

        # Two transfer webhooks and the bulk end, committed with the operations: all waiting in the outbox.
        events = await wait_for(outbox, lambda evs: len(evs) == 3)
        assert {e["deliveryStatus"] for e in events} == {"PENDING"}
        dispatcher = sim[0].dispatcher
        await wait_for(lambda: asyncio.sleep(0, dispatcher.holding), bool)
        assert rx.hits == [] and not dispatcher._in_flight
        await put(client, paused=False)
        await wait_for(outbox, lambda evs: all(e["deliveryStatus"] == "DELIVERED" for e in evs))
        assert len(rx.hits) == 3


class SleepLog:
    """Stands in for the engine module's ``asyncio``: records every sleep and sleeps 0 instead. The loop's
    clock, as the engine reads it to pace operations (``engine.paced_due``), moves only by the sleeps
    skipped: a real clock also moved by the operations' own work, which on a loaded CI machine took
    more than the millisecond the assertion allows (one paced wait measured 7.7 ms instead of 10)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.epoch: float | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    def get_running_loop(self) -> Any:
        return _SkippingLoop(asyncio.get_running_loop(), self)

    async def sleep(self, seconds: float, result: Any = None) -> Any:
        self.sleeps.append(seconds)
        return await asyncio.sleep(0, result)


class _SkippingLoop:
    def __init__(self, loop: asyncio.AbstractEventLoop, log: SleepLog) -> None:
        self._loop, self._log = loop, log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)

    def time(self) -> float:
        if self._log.epoch is None:
            self._log.epoch = self._loop.time()
        return self._log.epoch + sum(self._log.sleeps)


async def test_speed_divides_the_op_delay_and_the_fault_latency(
    client: httpx.AsyncClient, alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await client.put("/_sim/config", json={"opDelayMs": 40})).status_code == 204
    assert (await put(client, speed=4))["effectiveOpDelayMs"] == 10.0
    described = await put(client, speed=0.5)
    assert described["opDelayMs"] == 40 and described["effectiveOpDelayMs"] == 80.0
    described = await put(client, speed=4)
    assert described["speed"] == 4.0 and described["paused"] is False
    log = SleepLog()
    monkeypatch.setattr(engine_module, "asyncio", log)
    await set_plan(client, {"operations": [{"sequence": 2, "outcome": "slow", "latency_ms": 200}]})
    bulk_id = await alice.submit([transfer(100 + i) for i in range(3)])
    assert (await alice.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
    assert (await final_bulk(alice, bulk_id))["status"] == "COMPLETED"
    # Per operation: the op delay 40 / 4; operation 2 also its latency 200 / 4.
    assert log.sleeps == pytest.approx([0.01, 0.01, 0.05, 0.01], abs=1e-9)


async def test_fault_now_fails_the_next_operation_with_a_realistic_conflict(
    client: httpx.AsyncClient, alice: Api
) -> None:
    world_before = (await client.get("/_sim/world/1001")).json()
    bulk_id = await start_held(client, alice, 3)
    assert (await post(client, "fault-now"))["faultPending"] is True
    assert (await post(client, "fault-now"))["faultPending"] is True  # still one
    await put(client, paused=False)
    bulk = await final_bulk(alice, bulk_id)
    ops = await operations(alice, bulk_id)
    assert letters(ops) == "FCC"  # only the very next operation
    assert json.loads(ops[0]["responsePayload"]) == {"errorCode": "FUNDS_INSUFFICIENT"}
    assert bulk["status"] == "PARTIALLY_COMPLETED"
    assert (await presenter(client))["faultPending"] is False
    card = lambda w: next(i["balance"] for i in w["instruments"] if i["id"] == "5002")  # noqa: E731
    world_after = (await client.get("/_sim/world/1001")).json()
    assert card(world_after) == card(world_before) + 101 + 102  # the failed operation changed nothing


async def test_fault_now_stops_an_on_failure_stop_run(client: httpx.AsyncClient, alice: Api) -> None:
    bulk_id = await start_held(client, alice, 4, {"mode": "ON_FAILURE_STOP"})
    await post(client, "step")
    await held(client)
    await post(client, "fault-now")
    await put(client, paused=False)
    bulk = await final_bulk(alice, bulk_id)
    assert letters(await operations(alice, bulk_id)) == "CFXX"
    assert bulk["status"] == "PARTIALLY_COMPLETED"


async def test_fault_now_borrows_the_plans_next_rule(client: httpx.AsyncClient, alice: Api) -> None:
    await set_plan(
        client,
        {
            "operations": [
                {"sequence": 4, "outcome": "internal_error"},
                {"sequence": 3, "outcome": "conflict", "error_code": "DESTINATION_INSTRUMENT_BLOCKED"},
                {"sequence": 2, "outcome": "slow", "latency_ms": 1},  # not a failure: skipped
            ]
        },
    )
    bulk_id = await start_held(client, alice, 4)
    await post(client, "fault-now")
    await put(client, paused=False)
    await final_bulk(alice, bulk_id)
    ops = await operations(alice, bulk_id)
    assert letters(ops) == "FCFF"  # the borrowed outcome now; the plan itself still fires at 3 and 4
    assert json.loads(ops[0]["responsePayload"]) == {"errorCode": "DESTINATION_INSTRUMENT_BLOCKED"}
    assert json.loads(ops[2]["responsePayload"]) == {"errorCode": "DESTINATION_INSTRUMENT_BLOCKED"}
    assert json.loads(ops[3]["responsePayload"])["code"] == "INTERNAL_SERVER_ERROR"


async def test_a_bulk_can_be_cancelled_while_the_world_is_paused(
    client: httpx.AsyncClient, alice: Api
) -> None:
    bulk_id = await start_held(client, alice, 3)
    assert (await alice.post(f"/bulks/{bulk_id}/cancel")).status_code == 204
    bulk = await alice.bulk(bulk_id)
    assert bulk["status"] == "CANCELLED" and counts(bulk) == {"CANCELLED": 3}
    assert (await presenter(client))["waiting"] == 0


@pytest.mark.parametrize(
    "content",
    [
        b'{"speed": 0}',
        b'{"speed": 10.5}',
        b'{"speed": "fast"}',
        b'{"paused": "yes"}',
        b'{"paused": true, "rewind": 1}',
        b"[]",
        b"{not json",
        b"",
    ],
)
async def test_bad_bodies_are_refused_and_change_nothing(client: httpx.AsyncClient, content: bytes) -> None:
    resp = await client.put("/_sim/presenter", content=content, headers={"content-type": "application/json"})
    assert resp.status_code == 400 and "message" in resp.json()
    assert await presenter(client) == DEFAULTS


async def test_speed_out_of_range_names_the_field(client: httpx.AsyncClient) -> None:
    resp = await client.put("/_sim/presenter", json={"speed": 0.05})
    assert resp.status_code == 400
    assert resp.json()["syntaxErrors"]["invalidFields"][0]["fieldName"] == "speed"


async def test_reset_restores_the_defaults(client: httpx.AsyncClient, alice: Api) -> None:
    await start_held(client, alice, 2)
    await put(client, speed=3)
    await post(client, "step")
    await held(client)
    await post(client, "fault-now")
    assert (await client.post("/_sim/reset")).status_code == 204
    assert await presenter(client) == DEFAULTS


# --- hold at an operation: a trainee's "your move" ------------------------------------------------------


async def hold(client: httpx.AsyncClient, bulk_id: str, operation: int) -> dict[str, Any]:
    resp = await client.post("/_sim/presenter/hold", json={"bulkId": bulk_id, "operation": operation})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def held_at(client: httpx.AsyncClient, bulk_id: str, operation: int) -> dict[str, Any]:
    return await wait_for(
        lambda: presenter(client), lambda p: p["heldAt"] == {"bulkId": bulk_id, "operation": operation}
    )


async def submit_and_hold(client: httpx.AsyncClient, api: Api, n: int, at: int) -> str:
    bulk_id = await api.submit([transfer(100 + i) for i in range(n)])
    assert (await hold(client, bulk_id, at))["holds"] == [{"bulkId": bulk_id, "operation": at}]
    assert (await api.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
    state = await held_at(client, bulk_id, at)
    assert state["paused"] is True and state["waiting"] == 1 and state["holds"] == []
    return bulk_id


async def test_a_hold_pauses_the_world_at_the_operation_and_a_pause_lets_it_finish_first(
    client: httpx.AsyncClient, alice: Api
) -> None:
    bulk_id = await submit_and_hold(client, alice, 6, at=3)
    # Operation 3 RUNNING, held (the first two are committed by the flusher, soon).
    await wait_for(lambda: operations(alice, bulk_id), lambda ops: letters(ops) == "CCRSSS")
    assert (await alice.post(f"/bulks/{bulk_id}/pause")).status_code == 204
    bulk = await alice.bulk(bulk_id)
    # The trainee's move: operation 3 finished first (§5.3), as without the hold, and the world plays on.
    assert bulk["status"] == "PAUSED" and counts(bulk) == {"COMPLETED": 3, "SUBMITTED": 3}
    assert await presenter(client) == DEFAULTS
    assert (await alice.post(f"/bulks/{bulk_id}/resume")).status_code == 204
    done = await final_bulk(alice, bulk_id)
    assert done["status"] == "COMPLETED" and counts(done) == {"COMPLETED": 6}


async def test_a_cancel_at_the_hold_finishes_the_operation_and_cancels_the_rest(
    client: httpx.AsyncClient, alice: Api
) -> None:
    bulk_id = await submit_and_hold(client, alice, 5, at=2)
    assert (await alice.post(f"/bulks/{bulk_id}/cancel")).status_code == 204
    bulk = await final_bulk(alice, bulk_id)
    assert letters(await operations(alice, bulk_id)) == "CCXXX"
    assert bulk["status"] == "CANCELLED" and (await presenter(client))["paused"] is False


async def test_un_pausing_the_world_lets_a_held_operation_run_on(
    client: httpx.AsyncClient, alice: Api
) -> None:
    bulk_id = await submit_and_hold(client, alice, 3, at=2)
    await put(client, paused=False)  # the trainee let it go on (space)
    done = await final_bulk(alice, bulk_id)
    assert done["status"] == "COMPLETED" and counts(done) == {"COMPLETED": 3}
    assert await presenter(client) == DEFAULTS  # a hold is taken once


async def test_holds_not_reached_are_dropped_and_bad_holds_refused(client: httpx.AsyncClient) -> None:
    assert (await hold(client, "1000009", 4))["holds"] == [{"bulkId": "1000009", "operation": 4}]
    assert (await client.delete("/_sim/presenter/hold")).json()["holds"] == []
    assert await presenter(client) == DEFAULTS
    bad = ({"bulkId": "1000009"}, {"bulkId": "1000009", "operation": 0}, {"bulkId": "x", "operation": 1})
    for body in bad:
        resp = await client.post("/_sim/presenter/hold", json=body)
        assert resp.status_code == 400, body
    assert await presenter(client) == DEFAULTS


async def test_a_trainees_scenario_waits_paused_holds_at_its_move_and_plays_at_its_pace(
    client: httpx.AsyncClient, alice: Api
) -> None:
    resp = await client.post("/_sim/scenarios/cancel-mid-run", json={"trainee": True})
    assert resp.status_code == 201, resp.text
    setup = resp.json()
    bulk_id = setup["bulkId"]
    assert setup["waiting"] is True and setup["move"] == {"action": "cancel", "operation": 5}
    state = await presenter(client)
    assert state["paused"] is True and state["holds"] == [{"bulkId": bulk_id, "operation": 5}]
    # The pack's 15 ms operations play at its trainee speed (0.05 unless it names one): 300 ms each.
    assert setup["speed"] == 0.05 and state["opDelayMs"] == 300
    # The set-up executed nothing for this pack; one it executes waits at its first operation.
    resp = await client.post("/_sim/scenarios/all-succeed", json={"trainee": True, "speed": 10})
    started = resp.json()
    assert resp.status_code == 201 and started["executed"] is True and started["move"] is None
    await held(client)
    assert counts(await alice.bulk(started["bulkId"])) == {"RUNNING": 1, "SUBMITTED": 19}


async def test_a_headless_set_up_leaves_the_presenter_alone(client: httpx.AsyncClient, alice: Api) -> None:
    resp = await client.post("/_sim/scenarios/cancel-mid-run", json={})
    assert resp.status_code == 201 and "waiting" not in resp.json()
    state = await presenter(client)
    assert state == {**DEFAULTS, "opDelayMs": 15, "effectiveOpDelayMs": 15.0}
