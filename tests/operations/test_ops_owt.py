"""POST /outgoing_wire_transfers run in-process (docs/behaviour.md §4.3.7, §6.6): shapes, rails, rules,
webhooks."""

from __future__ import annotations

import pytest

from bulkdash.contract.kinds import OperationKind
from simulator.operations import OpResult, run_operation
from simulator.world.model import Identity, World
from tests.operations.helpers import FP_INLINE, NOW, SEPA_INLINE, SWIFT_INLINE, owt


def run(world: World, identity: Identity, body: dict) -> OpResult:
    return run_operation(world, identity, OperationKind.OWT, {}, body, NOW)


def test_sepa_wire_to_a_stored_beneficiary(world: World, acme: Identity) -> None:
    result = run(world, acme, owt(tag="wire1", purpose="Invoice"))
    assert result.status == 200
    assert result.body == {
        "id": "1000001",
        "profileId": "3201",
        "tag": "wire1",
        "sourceInstrument": {"type": "managed_accounts", "id": "4002"},
        "transferAmount": {"currency": "EUR", "amount": 10_000},
        "purpose": "Invoice",
        "description": "INV-2026-001",
        "type": "SEPA",
        "destination": {"beneficiaryId": "7001"},
        "state": "SUBMITTED",
        "creationTimestamp": NOW,
    }
    assert world.instruments["4002"].balance == 500_000 - 10_000
    # Submitted, then completed at once: two webhooks on the OWT path.
    assert [(e.path, e.payload["eventType"]) for e in result.tx_events] == [
        ("/outgoing_wire_transfers/watch", "SUBMITTED"),
        ("/outgoing_wire_transfers/watch", "COMPLETED"),
    ]
    submitted, completed = (e.payload for e in result.tx_events)
    assert submitted == {
        "owner": {"type": "corporates", "id": "1001"},
        "eventType": "SUBMITTED",
        "transfer": {
            "id": {"type": "outgoing_wire_transfers", "id": "1000001"},
            "profileId": "3201",
            "tag": "wire1",
            "source": {"type": "managed_accounts", "id": "4002"},
            "transferAmount": {"currency": "EUR", "amount": "10000"},
            "transactionAmount": {"currency": "EUR", "amount": "10000"},
            "description": "INV-2026-001",
            "type": "SEPA",
            "destination": {
                "beneficiaryName": "Hans Muster",
                "sepa": {"iban": "DE89370400440532013000", "bankIdentifierCode": "COBADEFFXXX"},
            },
            "beneficiaryId": "7001",
            "state": "SUBMITTED",
            "creationTimestamp": str(NOW),
        },
    }
    assert completed["transfer"] == {
        **submitted["transfer"],
        "state": "COMPLETED",
        "executionTimestamp": str(NOW),
    }
    stored = {t.id: t for t in world.new_transactions}["1000001"]
    assert stored.kind == "outgoing_wire_transfers"
    assert stored.body["state"] == "COMPLETED" and stored.body["executionTimestamp"] == str(NOW)
    assert {i.id for i in world.take_dirty()[1]} == {"4002"}  # nothing is credited inside the platform


def test_faster_payments_to_a_stored_beneficiary(world: World, acme: Identity) -> None:
    result = run(world, acme, owt("4001", {"beneficiaryId": "7002"}, 2500, "GBP", description="Rent"))
    assert result.status == 200 and result.body is not None
    assert result.body["type"] == "FASTER_PAYMENTS"
    dest = result.tx_events[0].payload["transfer"]["destination"]
    assert dest == {
        "beneficiaryName": "Jane Roe",
        "beneficiaryAccountType": "PERSONAL",
        "fasterPayments": {"accountNumber": "31926819", "sortCode": "601613"},
    }
    assert world.instruments["4001"].balance == 1_000_000 - 2500


def test_linked_account(world: World, acme: Identity) -> None:
    body = owt("4001", {"type": "linked_accounts", "id": "8001"}, 100, "GBP", description=None)
    result = run(world, acme, body)
    assert result.status == 200 and result.body is not None
    assert result.body["type"] == "FASTER_PAYMENTS"
    assert "description" not in result.body  # FASTER_PAYMENTS does not need a reference
    transfer = result.tx_events[0].payload["transfer"]
    assert transfer["externalAccountId"] == {"type": "linked_accounts", "id": "8001"}
    assert transfer["destination"] == {
        "beneficiaryName": "Acme",
        "fasterPayments": {"accountNumber": "12345678", "sortCode": "123456"},
    }


@pytest.mark.parametrize(
    ("beneficiary", "src", "currency", "rail", "block"),
    [
        (
            SEPA_INLINE,
            "4002",
            "EUR",
            "SEPA",
            {"sepa": {"iban": SEPA_INLINE["iban"], "bankIdentifierCode": "COBADEFFXXX"}},
        ),
        (
            FP_INLINE,
            "4001",
            "GBP",
            "FASTER_PAYMENTS",
            {"fasterPayments": {"accountNumber": "31926819", "sortCode": "601613"}},
        ),
        (SWIFT_INLINE, "4001", "GBP", "SWIFT", {"swift": {"iban": "CN12345678", "swift": ""}}),
        (
            {"name": "Old", "bankAccountDetails": {"iban": "DE89370400440532013000"}},
            "4002",
            "EUR",
            "SEPA",
            {"sepa": {"iban": "DE89370400440532013000"}},
        ),
        (
            {
                "name": "Old",
                "type": "BUSINESS",
                "bankAccountDetails": {"accountNumber": "12345678", "sortCode": "123456"},
            },
            "4001",
            "GBP",
            "FASTER_PAYMENTS",
            {"fasterPayments": {"accountNumber": "12345678", "sortCode": "123456"}},
        ),
    ],
)
def test_inline_shapes_pick_their_rail(
    world: World, acme: Identity, beneficiary: dict, src: str, currency: str, rail: str, block: dict
) -> None:
    result = run(world, acme, owt(src, beneficiary, 100, currency, description="Ref", purpose="Goods"))
    assert result.status == 200, result.body
    assert result.body is not None
    assert result.body["type"] == rail
    assert result.body["destination"] == beneficiary  # as sent
    dest = result.tx_events[0].payload["transfer"]["destination"]
    assert dest["beneficiaryName"] == beneficiary["name"]
    assert {k: v for k, v in dest.items() if k in ("sepa", "fasterPayments", "swift")} == block


def test_optional_beneficiary_details_reach_the_webhook(world: World, acme: Identity) -> None:
    beneficiary = {
        **SEPA_INLINE,
        "address": "Hauptstr. 1",
        "bankName": "Commerzbank",
        "bankCountry": "DE",
        "nationality": "DE",
        "dateOfBirth": "1980-01-31",
    }
    result = run(world, acme, owt(beneficiary=beneficiary))
    dest = result.tx_events[0].payload["transfer"]["destination"]
    assert dest["beneficiaryAddress"] == "Hauptstr. 1"
    assert dest["beneficiaryBankName"] == "Commerzbank"
    assert dest["beneficiaryBankCountry"] == "DE"
    assert dest["beneficiaryNationality"] == "DE"
    assert dest["beneficiaryDateOfBirth"] == "1980-01-31"


def test_rix_by_iban_and_sek_when_the_profile_supports_it(world: World, acme: Identity) -> None:
    body = owt("4004", SEPA_INLINE, 100, "SEK", description="Faktura")
    assert run(world, acme, body).body == {"errorCode": "TYPE_NOT_SUPPORTED_BY_PROFILE"}  # 3201 lacks RIX
    world.profiles[("P1", "3201")].rails += ("RIX",)
    result = run(world, acme, body)
    assert result.status == 200 and result.body is not None
    assert result.body["type"] == "RIX"
    assert "sepa" in result.tx_events[0].payload["transfer"]["destination"]  # RIX uses the sepa block


def test_consumer_owner_type(world: World) -> None:
    dave = world.identities["1003"]
    world.instruments["4201"].balance = 1000
    result = run(world, dave, owt("4201", FP_INLINE, 10, "GBP", description=None))
    assert result.status == 200
    assert result.tx_events[0].payload["owner"] == {"type": "consumers", "id": "1003"}


def _mutate(world: World, what: str) -> None:
    """States the seed does not have: "destroy-<id>" destroys that account."""
    action, _, instrument = what.partition("-")
    assert action == "destroy"
    world.instruments[instrument].state = "DESTROYED"


@pytest.mark.parametrize(
    ("body", "setup", "code"),
    [
        (owt(profileId="9999"), None, "PROFILE_NOT_FOUND"),
        (owt(profileId="3101"), None, "PROFILE_NOT_FOUND"),  # a send profile
        (owt(profileId="3202"), None, "PROFILE_INACTIVE"),
        (owt("4101"), None, "SOURCE_NOT_FOUND"),  # Globex's account
        (owt("5001"), None, "SOURCE_NOT_FOUND"),  # a card is not a managed account
        (owt(), "destroy-4002", "SOURCE_INSTRUMENT_DESTROYED"),
        (owt("4003", currency="GBP"), None, "SOURCE_INSTRUMENT_BLOCKED"),
        (owt(beneficiary={"beneficiaryId": "9999"}), None, "BENEFICIARY_NOT_FOUND"),
        (owt(beneficiary={"beneficiaryId": "7003"}), None, "BENEFICIARY_TYPE_INVALID"),
        (
            owt(beneficiary={"type": "linked_accounts", "id": "9999"}),
            None,
            "EXTERNAL_DESTINATION_ACCOUNT_NOT_FOUND",
        ),
        (owt(currency="GBP"), None, "CURRENCY_MISMATCH"),  # amount currency differs from the source's
        (owt("4001", {"beneficiaryId": "7001"}, currency="GBP"), None, "CURRENCY_MISMATCH"),  # SEPA needs EUR
        (owt(beneficiary={"beneficiaryId": "7002"}), None, "CURRENCY_MISMATCH"),  # FP needs GBP
        (owt("4001", SEPA_INLINE, currency="GBP"), None, "CURRENCY_MISMATCH"),  # IBAN in GBP: no rail
        (owt(beneficiary=SWIFT_INLINE, description="r"), None, "PURPOSE_OF_PAYMENT_REQUIRED"),
        (owt(amount=0), None, "AMOUNT_INVALID"),
        (owt(scheduledTimestamp=str(NOW)), None, "SCHEDULED_TIMESTAMP_INVALID"),
        (owt(amount=500_001), None, "FUNDS_INSUFFICIENT"),
    ],
)
def test_each_rule_gives_its_409_and_changes_nothing(
    world: World, acme: Identity, body: dict, setup: str | None, code: str
) -> None:
    if setup:
        _mutate(world, setup)
    result = run(world, acme, body)
    assert (result.status, result.body, result.tx_events) == (409, {"errorCode": code}, [])
    assert not world.has_changes()


def test_type_not_supported_by_profile(world: World, acme: Identity) -> None:
    world.profiles[("P1", "3201")].rails = ("SEPA",)
    result = run(world, acme, owt("4001", FP_INLINE, 10, "GBP"))
    assert result.body == {"errorCode": "TYPE_NOT_SUPPORTED_BY_PROFILE"}


def _syntax(field: str, error: str, params: list[str]) -> dict:
    return {
        "message": "Validation failed",
        "syntaxErrors": {"invalidFields": [{"params": params, "fieldName": field, "error": error}]},
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (owt(description=None), _syntax("description", "REQUIRED", [])),
        (
            owt(beneficiary=SWIFT_INLINE, currency="EUR", description=None),
            _syntax("description", "REQUIRED", []),
        ),
        (owt(description="x" * 36), _syntax("description", "SIZE", ["0", "35"])),
        (
            owt(beneficiary=SWIFT_INLINE, description="x" * 36, purpose="p"),
            _syntax("description", "SIZE", ["0", "35"]),
        ),
        (
            owt("4001", FP_INLINE, currency="GBP", description="x" * 19),
            _syntax("description", "SIZE", ["0", "18"]),
        ),
    ],
)
def test_rail_specific_description_rule_is_a_400(
    world: World, acme: Identity, body: dict, expected: dict
) -> None:
    result = run(world, acme, body)
    assert (result.status, result.body, result.tx_events) == (400, expected, [])
    assert not world.has_changes()


def test_description_limits_are_inclusive(world: World, acme: Identity) -> None:
    assert run(world, acme, owt(description="x" * 35)).status == 200
    assert run(world, acme, owt("4001", FP_INLINE, currency="GBP", description="x" * 18)).status == 200
    assert run(world, acme, owt("4001", FP_INLINE, currency="GBP", description=None)).status == 200


def test_rule_order(world: World, acme: Identity) -> None:
    # description (rule 6) before purpose (rule 7)
    assert run(world, acme, owt(beneficiary=SWIFT_INLINE, description=None)).status == 400
    # profile rail (rule 5) before description (rule 6)
    world.profiles[("P1", "3201")].rails = ("FASTER_PAYMENTS",)
    assert run(world, acme, owt(description=None)).body == {"errorCode": "TYPE_NOT_SUPPORTED_BY_PROFILE"}
    # currency (rule 4) before profile rail (rule 5)
    assert run(world, acme, owt(currency="GBP")).body == {"errorCode": "CURRENCY_MISMATCH"}
    # source state (rule 2) before beneficiary (rule 3)
    assert run(world, acme, owt("4003", {"beneficiaryId": "9999"})).body == {
        "errorCode": "SOURCE_INSTRUMENT_BLOCKED"
    }


def test_scheduled_wire(world: World, acme: Identity) -> None:
    result = run(world, acme, owt(amount=10**9, scheduledTimestamp=str(NOW + 60_000)))
    assert result.status == 200 and result.body is not None
    assert result.body["state"] == "SCHEDULED"
    assert result.body["scheduledTimestamp"] == str(NOW + 60_000)
    assert world.instruments["4002"].balance == 500_000
    assert [e.payload["eventType"] for e in result.tx_events] == ["SCHEDULED"]
    assert "executionTimestamp" not in result.tx_events[0].payload["transfer"]
    assert {t.id: t for t in world.new_transactions}[result.body["id"]].body["state"] == "SCHEDULED"


@pytest.mark.parametrize("tag", ["SIM_FAIL_500", "SIM_FAIL_503"])
def test_fault_tags(world: World, acme: Identity, tag: str) -> None:
    result = run(world, acme, owt(tag=tag))
    assert result.status == int(tag[-3:])
    assert result.tx_events == [] and not world.has_changes()
