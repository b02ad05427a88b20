"""run_operation's dispatch, the §5.6 worked scenario at the operation level, and result invariants."""

from __future__ import annotations

import json

from bulkdash.contract.kinds import KINDS, OperationKind
from bulkdash.contract.validation import cross_item_conflict, validate_submission
from simulator.operations import HANDLERS, run_operation
from simulator.world.model import Identity, World
from tests.operations.helpers import NOW, owt, send, transfer, user


def test_every_kind_has_a_handler() -> None:
    assert set(HANDLERS) == set(OperationKind)


def _scenario_items() -> list:
    """§5.6: four transfers, ops 1, 2 and 4 valid, op 3 to the blocked card 5003."""
    payload = [
        {"pathParams": {}, "requestBody": transfer("4001", "5001", 1500, tag="payroll_jan")},
        {"requestBody": transfer("4001", "5002", 1500)},
        {"requestBody": transfer("4001", "5003", 1500)},
        {"requestBody": transfer("4001", "5001", 1500)},
    ]
    spec = KINDS[OperationKind.TRANSFERS]
    items = validate_submission(spec, json.loads(json.dumps(payload)))
    assert cross_item_conflict(spec, items) is None  # transfers may repeat targets
    return items


def test_worked_scenario_on_failure_continue(world: World, acme: Identity) -> None:
    results = [
        run_operation(world, acme, OperationKind.TRANSFERS, i.path_params, i.body, NOW)
        for i in _scenario_items()
    ]
    assert [r.status for r in results] == [200, 200, 409, 200]  # C, C, F, C
    assert results[2].body == {"errorCode": "DESTINATION_INSTRUMENT_BLOCKED"}
    assert [len(r.tx_events) for r in results] == [1, 1, 0, 1]
    assert [r.body["id"] for r in results if r.status == 200] == ["1000001", "1000002", "1000003"]  # type: ignore[index]
    balances = {i: world.instruments[i].balance for i in ("4001", "5001", "5002", "5003")}
    assert balances == {"4001": 1_000_000 - 4500, "5001": 23_000, "5002": 1500, "5003": 0}


def test_worked_scenario_on_failure_stop(world: World, acme: Identity) -> None:
    # The engine stops at the first failure: op 4 never runs, so only two transfers moved money.
    statuses = []
    for item in _scenario_items():
        result = run_operation(world, acme, OperationKind.TRANSFERS, item.path_params, item.body, NOW)
        statuses.append(result.status)
        if result.status >= 400:
            break
    assert statuses == [200, 200, 409]
    assert world.instruments["4001"].balance == 1_000_000 - 3000
    assert len(world.new_transactions) == 2


def test_results_are_json_ready(world: World, acme: Identity) -> None:
    calls = [
        (OperationKind.USERS, {}, user()),
        (OperationKind.USER_INVITE, {"_user_id_": "2005"}, None),
        (OperationKind.CARD_BLOCK, {"_id_": "5002"}, None),
        (OperationKind.CARD_UNBLOCK, {"_id_": "5002"}, None),
        (OperationKind.SPEND_RULES, {"_id_": "5007"}, {"allowAtm": True}),
        (OperationKind.CARD_REMOVE, {"_id_": "5002"}, None),
        (OperationKind.TRANSFERS, {}, transfer()),
        (OperationKind.SENDS, {}, send()),
        (OperationKind.OWT, {}, owt()),
    ]
    for kind, params, body in calls:
        result = run_operation(world, acme, kind, params, body, NOW)
        assert 200 <= result.status < 300, (kind, result.body)
        assert (result.body is None) == (result.status == 204)
        json.dumps(result.body, separators=(",", ":"), ensure_ascii=False)
        for event in result.tx_events:
            assert "publishedTimestamp" not in event.payload  # the publisher adds it
            json.dumps(event.payload)


def test_card_and_user_operations_publish_no_transaction_webhooks(world: World, acme: Identity) -> None:
    for kind, params, body in [
        (OperationKind.USERS, {}, user()),
        (OperationKind.USER_INVITE, {"_user_id_": "2005"}, None),
        (OperationKind.CARD_BLOCK, {"_id_": "5001"}, None),
    ]:
        assert run_operation(world, acme, kind, params, body, NOW).tx_events == []


def test_operations_run_against_the_bulk_identity_only(world: World, globex: Identity) -> None:
    # Globex cannot move Acme's money nor touch Acme's cards, whatever ids it names.
    assert run_operation(
        world, globex, OperationKind.TRANSFERS, {}, transfer(profileId="3001"), NOW
    ).body == {"errorCode": "SOURCE_NOT_FOUND"}
    assert run_operation(world, globex, OperationKind.CARD_BLOCK, {"_id_": "5001"}, None, NOW).status == 404
    assert not world.has_changes()
