"""Per-operation faults: each outcome, each selector, request matching, kinds and identity scoping."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import wait_for
from tests.simulator.faults_helpers import final_bulk, operations, run_bulk, set_plan
from tests.simulator.helpers import Api, login, transfer

INTERNAL = {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}
UNAVAILABLE = {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable"}


def letters(ops: list[dict[str, Any]]) -> str:
    return "".join({"COMPLETED": "C", "FAILED": "F", "CANCELLED": "X"}[o["status"]] for o in ops)


def failed_sequences(ops: list[dict[str, Any]]) -> list[int]:
    return [o["sequence"] for o in ops if o["status"] == "FAILED"]


async def card_balance(client: httpx.AsyncClient, card: str = "5002") -> int:
    world = (await client.get("/_sim/world/1001")).json()
    return next(i["balance"] for i in world["instruments"] if i["id"] == card)


@pytest.mark.parametrize(
    ("rule", "status", "body"),
    [
        (
            {"outcome": "conflict", "error_code": "DESTINATION_INSTRUMENT_BLOCKED"},
            409,
            {"errorCode": "DESTINATION_INSTRUMENT_BLOCKED"},
        ),
        (
            {
                "outcome": "bad_request",
                "invalid_fields": [{"field_name": "description", "error": "SIZE", "params": ["0", "35"]}],
            },
            400,
            {
                "message": "Validation failed",
                "syntaxErrors": {
                    "invalidFields": [{"params": ["0", "35"], "fieldName": "description", "error": "SIZE"}]
                },
            },
        ),
        (
            {"outcome": "bad_request"},  # the kind's default entry
            400,
            {
                "message": "Validation failed",
                "syntaxErrors": {
                    "invalidFields": [{"params": ["0", "255"], "fieldName": "description", "error": "SIZE"}]
                },
            },
        ),
        ({"outcome": "internal_error"}, 500, INTERNAL),
        ({"outcome": "unavailable"}, 503, UNAVAILABLE),
    ],
)
async def test_each_outcome_replaces_the_operation(
    client: httpx.AsyncClient, alice: Api, rule: dict[str, Any], status: int, body: dict[str, Any]
) -> None:
    await set_plan(client, {"operations": [{"sequence": 2, **rule}]})
    before = await card_balance(client)
    bulk_id = await run_bulk(alice, [transfer(100), transfer(200), transfer(400)])
    ops = await operations(alice, bulk_id)
    assert letters(ops) == "CFC"
    assert json.loads(ops[1]["responsePayload"]) == body
    # The failed operation changed nothing in the world and sent no transaction webhook.
    assert await card_balance(client) == before + 500
    assert (await alice.bulk(bulk_id))["status"] == "PARTIALLY_COMPLETED"
    hooks = (await client.get("/_sim/webhooks", params={"bulkId": bulk_id})).json()
    assert sum(1 for e in hooks if e["path"] == "/transfers/watch") == 2


async def test_sequence_set_and_range_are_unioned(client: httpx.AsyncClient, alice: Api) -> None:
    await set_plan(
        client,
        {
            "operations": [
                {"sequences": [1, 3], "range": [6, 7], "outcome": "conflict", "error_code": "AMOUNT_INVALID"}
            ]
        },
    )
    bulk_id = await run_bulk(alice, 8)
    assert letters(await operations(alice, bulk_id)) == "FCFCCFFC"


async def test_fraction_is_an_exact_seeded_sample_independent_of_the_bulk(
    client: httpx.AsyncClient, alice: Api
) -> None:
    plan = {"seed": 5, "operations": [{"fraction": 0.25, "outcome": "internal_error"}]}
    await set_plan(client, plan)
    first = failed_sequences(await operations(alice, await run_bulk(alice, 20)))
    second = failed_sequences(await operations(alice, await run_bulk(alice, 20)))
    assert len(first) == 5  # round(0.25 × 20)
    assert first == second  # same seed and size: same sequences, whatever the bulk id
    await set_plan(client, {**plan, "seed": 6})
    other = failed_sequences(await operations(alice, await run_bulk(alice, 20)))
    assert len(other) == 5 and other != first


async def test_fraction_within_a_range_and_first_rule_wins(client: httpx.AsyncClient, alice: Api) -> None:
    await set_plan(
        client,
        {
            "operations": [
                {"sequence": 1, "outcome": "unavailable"},
                {
                    "range": [1, 10],
                    "fraction": 0.5,
                    "outcome": "conflict",
                    "error_code": "FUNDS_INSUFFICIENT",
                },
            ]
        },
    )
    ops = await operations(alice, await run_bulk(alice, 12))
    assert json.loads(ops[0]["responsePayload"]) == UNAVAILABLE
    funds = [o["sequence"] for o in ops if "FUNDS_INSUFFICIENT" in o.get("responsePayload", "")]
    assert len(funds) in (4, 5) and all(2 <= s <= 10 for s in funds)  # 5 drawn from 1..10; #1 went to rule 1
    assert ops[10]["status"] == ops[11]["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({"amount_above": 250}, "CCFF"),
        ({"amount_below": 150}, "FCCC"),
        ({"destination_id": "5001"}, "CFCC"),
        ({"tag": "vip"}, "CCCF"),
        ({"currency": "GBP", "amount_above": 350}, "CCCF"),
        ({"fields": {"destinationAmount.amount": 200}}, "CFCC"),
        ({"source_id": "4002"}, "CCCC"),
    ],
)
async def test_match_on_request_fields(
    client: httpx.AsyncClient, alice: Api, match: dict[str, Any], expected: str
) -> None:
    await set_plan(
        client, {"operations": [{"match": match, "outcome": "conflict", "error_code": "FUNDS_INSUFFICIENT"}]}
    )
    items = [transfer(100), transfer(200, dest="5001"), transfer(300), transfer(400, tag="vip")]
    assert letters(await operations(alice, await run_bulk(alice, items))) == expected


async def test_kinds_and_target_match_on_a_card_bulk(client: httpx.AsyncClient, alice: Api) -> None:
    await set_plan(
        client,
        {
            "operations": [
                {"kinds": ["transfers"], "outcome": "internal_error"},
                {
                    "kinds": ["card_block"],
                    "match": {"target_id": "5002"},
                    "outcome": "conflict",
                    "error_code": "INSTRUMENT_DESTROYED",
                },
            ]
        },
    )
    items = [{"pathParams": {"_id_": "5001"}}, {"pathParams": {"_id_": "5002"}}]
    bulk_id = await alice.submit(items, path="/bulks/managed_cards/_id_/block")
    assert (await alice.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
    await final_bulk(alice, bulk_id)
    ops = await operations(alice, bulk_id)
    assert letters(ops) == "CF" and json.loads(ops[1]["responsePayload"]) == {
        "errorCode": "INSTRUMENT_DESTROYED"
    }
    world = (await client.get("/_sim/world/1001")).json()
    states = {i["id"]: i["state"] for i in world["instruments"]}
    assert states["5001"] == "BLOCKED" and states["5002"] == "ACTIVE"  # the injected failure changed nothing


async def test_stop_mode_cancels_after_an_injected_failure(client: httpx.AsyncClient, alice: Api) -> None:
    await set_plan(client, {"operations": [{"sequence": 3, "outcome": "unavailable"}]})
    bulk_id = await run_bulk(alice, 6, {"mode": "ON_FAILURE_STOP"})
    assert letters(await operations(alice, bulk_id)) == "CCFXXX"


async def test_slow_operations_stay_running_longer_and_still_succeed(
    client: httpx.AsyncClient, alice: Api
) -> None:
    await set_plan(client, {"operations": [{"sequence": 2, "outcome": "slow", "latency_ms": 300}]})
    bulk_id = await alice.submit([transfer(), transfer(), transfer()])
    assert (await alice.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204

    async def second() -> dict[str, Any]:
        return (await alice.get(f"/bulks/{bulk_id}/operations", params={"sequence": 2})).json()["operations"][
            0
        ]

    running = await wait_for(second, lambda op: op["status"] != "SUBMITTED")
    assert running["status"] == "RUNNING"  # seen while its latency runs
    bulk = await final_bulk(alice, bulk_id)
    assert bulk["status"] == "COMPLETED"
    assert bulk["executionFinish"] - bulk["executionStart"] >= 300
    # Latency on a failure outcome: slow, then failed.
    await set_plan(client, {"operations": [{"sequence": 1, "outcome": "internal_error", "latency_ms": 150}]})
    bulk_id = await run_bulk(alice, 1)
    bulk = await alice.bulk(bulk_id)
    assert bulk["status"] == "FAILED" and bulk["executionFinish"] - bulk["executionStart"] >= 150


async def test_identity_plans_replace_the_global_plan_for_that_identity(
    client: httpx.AsyncClient, alice: Api
) -> None:
    carol = await login(client, "carol@globex.example")
    await set_plan(client, {"operations": [{"outcome": "internal_error"}]})  # global: everything fails
    await set_plan(client, {"identity": "1001", "operations": [{"sequence": 2, "outcome": "unavailable"}]})
    assert letters(await operations(alice, await run_bulk(alice, 3))) == "CFC"  # 1001's own plan only
    carol_items = [transfer(1, source="4101", dest="5101")]
    assert letters(await operations(carol, await run_bulk(carol, carol_items))) == "F"  # the global plan
    await client.delete("/_sim/faults", params={"identity": "1001"})
    assert letters(await operations(alice, await run_bulk(alice, 2))) == "FF"  # back under the global plan
    await client.delete("/_sim/faults")
    assert letters(await operations(alice, await run_bulk(alice, 2))) == "CC"


async def test_a_plan_for_another_identity_leaves_this_one_alone(
    client: httpx.AsyncClient, alice: Api
) -> None:
    await set_plan(client, {"identity": "1002", "operations": [{"outcome": "internal_error"}]})
    assert letters(await operations(alice, await run_bulk(alice, 3))) == "CCC"
