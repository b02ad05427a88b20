"""POST /sends run in-process (docs/behaviour.md §4.3.6, §6.6): every rule in order, money, body, webhook."""

from __future__ import annotations

import pytest

from bulkdash.contract.kinds import OperationKind
from simulator.operations import run_operation
from simulator.world.model import Beneficiary, Identity, World
from tests.operations.helpers import NOW, send


def run(world: World, identity: Identity, body: dict) -> tuple[int, dict | None]:
    result = run_operation(world, identity, OperationKind.SENDS, {}, body, NOW)
    return result.status, result.body


def test_send_to_another_identitys_account(world: World, acme: Identity) -> None:
    result = run_operation(world, acme, OperationKind.SENDS, {}, send("4001", "4101", 700, tag="t1"), NOW)
    assert result.status == 200
    assert result.body == {
        "id": "1000001",
        "profileId": "3101",
        "tag": "t1",
        "source": {"type": "managed_accounts", "id": "4001"},
        "destination": {"type": "managed_accounts", "id": "4101"},
        "destinationAmount": {"currency": "GBP", "amount": 700},
        "transactionAmount": {"currency": "GBP", "amount": 700},
        "state": "COMPLETED",
        "creationTimestamp": NOW,
        "executionTimestamp": str(NOW),
    }
    assert world.instruments["4001"].balance == 1_000_000 - 700
    assert world.instruments["4101"].balance == 700
    assert {i.id for i in world.take_dirty()[1]} == {"4001", "4101"}
    assert [e.path for e in result.tx_events] == ["/send/watch"]
    assert result.tx_events[0].payload == {
        "eventType": "COMPLETED",
        "send": {
            "id": {"type": "sends", "id": "1000001"},
            "profileId": "3101",
            "tag": "t1",
            "source": {"type": "managed_accounts", "id": "4001"},
            "destination": {"type": "managed_accounts", "id": "4101"},
            "destinationAmount": {"currency": "GBP", "amount": "700"},
            "transactionAmount": {"currency": "GBP", "amount": "700"},
            "state": "COMPLETED",
            "creationTimestamp": str(NOW),
            "executionTimestamp": str(NOW),
        },
    }


def test_send_through_an_instrument_beneficiary(world: World, acme: Identity) -> None:
    result = run_operation(
        world,
        acme,
        OperationKind.SENDS,
        {},
        send("5001", {"beneficiaryId": "7003"}, 300, description="x"),
        NOW,
    )
    assert result.status == 200 and result.body is not None
    assert result.body["destination"] == {"beneficiaryId": "7003"}  # as sent
    assert result.body["description"] == "x"
    legacy = result.tx_events[0].payload["send"]
    assert legacy["destination"] == {"type": "managed_accounts", "id": "4101"}  # resolved
    assert legacy["beneficiaryId"] == "7003"
    assert legacy["description"] == "x"
    assert world.instruments["5001"].balance == 20_000 - 300
    assert world.instruments["4101"].balance == 300


def test_send_to_a_card_and_to_an_identity_without_bulks(world: World, acme: Identity) -> None:
    assert run(world, acme, send("4001", "5101", 10))[0] == 200
    assert run(world, acme, send("4001", "4201", 10))[0] == 200  # 1003 is in the same programme
    assert world.instruments["5101"].balance == 10 and world.instruments["4201"].balance == 10


def _foreign_beneficiary(world: World) -> None:
    world.beneficiaries["7101"] = Beneficiary(
        "7101", "1002", "instrument", instrument_type="managed_accounts", instrument_id="4001"
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (send(profileId="9999"), "PROFILE_NOT_FOUND"),
        (send(profileId="3001"), "PROFILE_NOT_FOUND"),  # a transfer profile is not a send profile
        (send(profileId="3102"), "PROFILE_INACTIVE"),
        (send("4101", "4201"), "SOURCE_NOT_FOUND"),
        (send("9999", "4101"), "SOURCE_NOT_FOUND"),
        (send(dst={"beneficiaryId": "9999"}), "BENEFICIARY_NOT_FOUND"),
        (send(dst={"beneficiaryId": "7101"}), "BENEFICIARY_NOT_FOUND"),  # Globex's beneficiary
        (send(dst={"beneficiaryId": "7001"}), "BENEFICIARY_TYPE_INVALID"),  # a bank beneficiary
        (send(dst="9999"), "DESTINATION_NOT_FOUND"),
        (send(dst="4301"), "DESTINATION_NOT_FOUND"),  # programme P2
        (send(dst={"type": "managed_cards", "id": "4101"}), "DESTINATION_NOT_FOUND"),
        (send(dst="5001"), "DESTINATION_BELONGS_TO_SAME_IDENTITY"),
        (send(dst="4001", src="5001"), "DESTINATION_BELONGS_TO_SAME_IDENTITY"),
        (send("5005", "4101"), "SOURCE_INSTRUMENT_DESTROYED"),
        (send("4003", "4101"), "SOURCE_INSTRUMENT_BLOCKED"),
        (send("5007", "4101", currency="EUR"), "SOURCE_CANNOT_BE_DEBIT_MODE_CARD"),
        (send("4002", "4101", currency="EUR"), "CURRENCY_MISMATCH"),
        (send(amount=0), "AMOUNT_INVALID"),
        (send(scheduledTimestamp=str(NOW - 1)), "SCHEDULED_TIMESTAMP_INVALID"),
        (send("5002", "4101", 1), "FUNDS_INSUFFICIENT"),
    ],
)
def test_each_rule_gives_its_409_and_changes_nothing(
    world: World, acme: Identity, body: dict, code: str
) -> None:
    _foreign_beneficiary(world)
    result = run_operation(world, acme, OperationKind.SENDS, {}, body, NOW)
    assert (result.status, result.body, result.tx_events) == (409, {"errorCode": code}, [])
    assert not world.has_changes()


@pytest.mark.parametrize(
    ("state", "code"),
    [("DESTROYED", "DESTINATION_INSTRUMENT_DESTROYED"), ("BLOCKED", "DESTINATION_INSTRUMENT_BLOCKED")],
)
def test_destination_state_rules(world: World, acme: Identity, state: str, code: str) -> None:
    world.instruments["4101"].state = state
    assert run(world, acme, send()) == (409, {"errorCode": code})


def test_destination_debit_card_rule(world: World, acme: Identity) -> None:
    world.instruments["5101"].mode, world.instruments["5101"].balance = "DEBIT_MODE", None
    assert run(world, acme, send(dst="5101")) == (409, {"errorCode": "DESTINATION_CANNOT_BE_DEBIT_MODE_CARD"})


def test_rule_order_beneficiary_before_destination_identity(world: World, globex: Identity) -> None:
    # Globex sending through Acme's beneficiary 7003 (which points at Globex's own account 4101).
    assert run(world, globex, send("4101", {"beneficiaryId": "7003"}, profileId="3101")) == (
        409,
        {"errorCode": "BENEFICIARY_NOT_FOUND"},
    )
    # Rule 5 fires before the shared rules: own account, even with a zero amount.
    assert run(world, globex, send("4101", "5101", 0)) == (
        409,
        {"errorCode": "DESTINATION_BELONGS_TO_SAME_IDENTITY"},
    )


def test_scheduled_send(world: World, acme: Identity) -> None:
    result = run_operation(
        world, acme, OperationKind.SENDS, {}, send("5002", "4101", 5, scheduledTimestamp=str(NOW + 1)), NOW
    )
    assert result.status == 200 and result.body is not None
    assert result.body["state"] == "SCHEDULED" and "executionTimestamp" not in result.body
    assert [e.payload["eventType"] for e in result.tx_events] == ["SCHEDULED"]
    assert world.instruments["4101"].balance == 0


def test_fault_tag(world: World, acme: Identity) -> None:
    result = run_operation(world, acme, OperationKind.SENDS, {}, send(tag="SIM_FAIL_503"), NOW)
    assert result.status == 503
    assert result.body == {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable"}
    assert not world.has_changes()
