"""``POST /outgoing_wire_transfers`` (docs/behaviour.md §4.3.7) and its SUBMITTED/COMPLETED webhooks (§6.6).

The ``destinationBeneficiary`` shape is recognised with the same function the submission validated it with
(:func:`bulkdash.contract.requests.owt_beneficiary_shape`), so both always agree on which shape a body is.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from bulkdash.contract.models import SyntaxErrorKind
from bulkdash.contract.requests import bank_details_shape, owt_beneficiary_shape
from bulkdash.contract.validation import invalid_field, validation_failed
from simulator.operations.common import (
    OpResult,
    TxEvent,
    amount_of,
    amount_schedule_funds_error,
    conflict,
    debit,
    injected_fault,
    legacy_amount,
    put_optional,
    source_state_error,
)
from simulator.world.model import Identity, Transaction, World

WEBHOOK_PATH = "/outgoing_wire_transfers/watch"
FASTER_PAYMENTS, SEPA, SWIFT, RIX = "FASTER_PAYMENTS", "SEPA", "SWIFT", "RIX"
#: The only currency each rail carries (SWIFT carries any).
RAIL_CURRENCY = {FASTER_PAYMENTS: "GBP", SEPA: "EUR", RIX: "SEK"}
#: IBAN beneficiaries: the currency picks the rail; any other currency is a CURRENCY_MISMATCH.
IBAN_RAIL = {"EUR": SEPA, "SEK": RIX}
#: Rule 6: the longest ``description`` (the payment reference) each rail accepts.
DESCRIPTION_LIMIT = {SEPA: 35, SWIFT: 35, RIX: 35, FASTER_PAYMENTS: 18}
DESCRIPTION_REQUIRED = frozenset({SEPA, SWIFT})
#: Optional beneficiary properties and their names in the webhook's ``Destination``.
DESTINATION_EXTRAS = (
    ("address", "beneficiaryAddress"),
    ("bankName", "beneficiaryBankName"),
    ("bankAddress", "beneficiaryBankAddress"),
    ("bankCountry", "beneficiaryBankCountry"),
)
BENEFICIARY_NAME_MAX = 100  # the webhook's Destination.beneficiaryName is shorter than the request's name


@dataclass(slots=True)
class _Route:
    """Where the money goes: the rail, the webhook ``destination`` and the reference the client used."""

    rail: str | None
    destination: dict[str, Any]
    reference: dict[str, Any] = field(default_factory=dict)  # beneficiaryId / externalAccountId


def _destination_block(
    rail: str | None,
    name: str,
    *,
    iban: str | None = None,
    bic: str | None = None,
    account_number: str | None = None,
    sort_code: str | None = None,
    account_type: str | None = None,
    sent: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The legacy webhook ``Destination``: name, optional details, then the rail's bank-details block."""
    out: dict[str, Any] = {"beneficiaryName": name[:BENEFICIARY_NAME_MAX]}
    sent = sent or {}
    for key, wire_key in DESTINATION_EXTRAS:
        if sent.get(key) is not None:
            out[wire_key] = sent[key]
    if account_type is not None:
        out["beneficiaryAccountType"] = account_type
    if sent.get("nationality") is not None:
        out["beneficiaryNationality"] = sent["nationality"]
    if sent.get("dateOfBirth") is not None:
        out["beneficiaryDateOfBirth"] = sent["dateOfBirth"]
    if rail == FASTER_PAYMENTS:
        out["fasterPayments"] = {"accountNumber": account_number, "sortCode": sort_code}
    elif rail == SWIFT:
        out["swift"] = {"iban": iban or account_number or "", "swift": bic or ""}
    else:  # SEPA and RIX both use the sepa block
        sepa: dict[str, Any] = {"iban": iban or ""}
        if bic:
            sepa["bankIdentifierCode"] = bic
        out["sepa"] = sepa
    return out


def _route(world: World, identity: Identity, ben: dict[str, Any], currency: str) -> _Route | str:
    """Rule 3 plus the rail of each shape (§4.3.7 table): a route, or a 409 error code."""
    shape = owt_beneficiary_shape(ben)
    if shape == "beneficiaryId":
        stored = world.beneficiaries.get(ben["beneficiaryId"])
        if stored is None or stored.identity_id != identity.id:
            return "BENEFICIARY_NOT_FOUND"
        if stored.kind != "bank":
            return "BENEFICIARY_TYPE_INVALID"  # an instrument beneficiary is for sends
        block = _destination_block(
            stored.rail,
            stored.name,
            iban=stored.iban,
            bic=stored.bic,
            account_number=stored.account_number,
            sort_code=stored.sort_code,
            account_type=stored.type,
        )
        return _Route(stored.rail, block, {"beneficiaryId": stored.id})
    if shape == "externalAccount":
        linked = world.linked_accounts.get(ben["id"])
        if linked is None or linked.identity_id != identity.id:
            return "EXTERNAL_DESTINATION_ACCOUNT_NOT_FOUND"
        # A linked account is the identity's own account elsewhere: the identity is the beneficiary.
        block = _destination_block(
            linked.rail, identity.name, account_number=linked.account_number, sort_code=linked.sort_code
        )
        return _Route(linked.rail, block, {"externalAccountId": {"type": "linked_accounts", "id": linked.id}})
    if shape == "legacy":
        details = ben["bankAccountDetails"]
        if bank_details_shape(details) == "fasterPayments":
            rail: str | None = FASTER_PAYMENTS
        else:
            rail = IBAN_RAIL.get(currency)
        block = _destination_block(
            rail,
            ben["name"],
            iban=details.get("iban"),
            bic=details.get("bankIdentifierCode"),
            account_number=details.get("accountNumber"),
            sort_code=details.get("sortCode"),
            account_type=ben.get("type"),
            sent=ben,
        )
        return _Route(rail, block)
    if shape == "fasterPayments":
        block = _destination_block(
            FASTER_PAYMENTS,
            ben["name"],
            account_number=ben["accountNumber"],
            sort_code=ben["sortCode"],
            account_type=ben["type"],
            sent=ben,
        )
        return _Route(FASTER_PAYMENTS, block)
    if shape == "swift":
        block = _destination_block(
            SWIFT, ben["name"], iban=ben["account"], bic=ben.get("bankIdentifierCode"), sent=ben
        )
        return _Route(SWIFT, block)
    # "iban": SEPA or RIX by currency (validation guarantees one of the shapes matched)
    rail = IBAN_RAIL.get(currency)
    block = _destination_block(
        rail, ben["name"], iban=ben["iban"], bic=ben.get("bankIdentifierCode"), sent=ben
    )
    return _Route(rail, block)


def _description_error(rail: str, description: str | None) -> OpResult | None:
    """Rule 6: a 400 with ``syntaxErrors``, although it is checked at run time (it depends on the rail)."""
    if description is None:
        if rail in DESCRIPTION_REQUIRED:
            body = validation_failed([invalid_field(SyntaxErrorKind.REQUIRED, "description")])
            return OpResult(400, body.dump(), [])
        return None
    limit = DESCRIPTION_LIMIT[rail]
    if len(description) > limit:
        body = validation_failed([invalid_field(SyntaxErrorKind.SIZE, "description", ["0", str(limit)])])
        return OpResult(400, body.dump(), [])
    return None


def create_owt(
    world: World, identity: Identity, path_params: dict[str, str], body: dict[str, Any] | None, now_ms: int
) -> OpResult:
    assert body is not None  # validated at submission: wire transfers always carry a body
    fault = injected_fault(body)
    if fault is not None:
        return fault
    profile = world.profile(identity.programme, body["profileId"], "owt")
    if profile is None:
        return conflict("PROFILE_NOT_FOUND")
    if not profile.active:
        return conflict("PROFILE_INACTIVE")
    source, amount = body["sourceInstrument"], body["transferAmount"]
    src = world.instrument_of(identity.id, "managed_accounts", source["id"])
    if src is None:
        return conflict("SOURCE_NOT_FOUND")
    error = source_state_error(src)
    if error is not None:
        return conflict(error)
    currency: str = amount["currency"]
    route = _route(world, identity, body["destinationBeneficiary"], currency)
    if isinstance(route, str):
        return conflict(route)
    rail = route.rail
    if rail is None or currency != src.currency or RAIL_CURRENCY.get(rail, currency) != currency:
        return conflict("CURRENCY_MISMATCH")
    if rail not in profile.rails:
        return conflict("TYPE_NOT_SUPPORTED_BY_PROFILE")
    bad_description = _description_error(rail, body.get("description"))
    if bad_description is not None:
        return bad_description
    if rail == SWIFT and body.get("purpose") is None:
        return conflict("PURPOSE_OF_PAYMENT_REQUIRED")
    value: int = amount["amount"]
    scheduled: str | None = body.get("scheduledTimestamp")
    error = amount_schedule_funds_error(src, value, scheduled, now_ms)
    if error is not None:
        return conflict(error)

    if scheduled is None:
        debit(world, src, value)  # the money leaves the platform: nothing is credited
    tx_id = world.next_id()
    out: dict[str, Any] = {"id": tx_id, "profileId": body["profileId"]}
    put_optional(out, body, "tag")
    out["sourceInstrument"] = {"type": "managed_accounts", "id": source["id"]}
    out["transferAmount"] = amount_of(amount)
    put_optional(out, body, "purpose", "description")
    out["type"] = rail
    out["destination"] = deepcopy(body["destinationBeneficiary"])  # the beneficiary object as sent
    out["state"] = "SUBMITTED" if scheduled is None else "SCHEDULED"
    out["creationTimestamp"] = now_ms
    put_optional(out, body, "scheduledTimestamp")

    owner = {"type": "corporates" if identity.type == "CORPORATE" else "consumers", "id": identity.id}
    if scheduled is not None:
        events = [_event(owner, out, route, "SCHEDULED", None)]
        stored = out
    else:
        # The simulator completes the wire at once; only the webhooks and the stored row show it.
        events = [
            _event(owner, out, route, "SUBMITTED", None),
            _event(owner, out, route, "COMPLETED", now_ms),
        ]
        stored = {**out, "state": "COMPLETED", "executionTimestamp": str(now_ms)}
    world.add_transaction(Transaction(tx_id, "outgoing_wire_transfers", identity.id, stored))
    return OpResult(200, out, events)


def _event(
    owner: dict[str, str], owt: dict[str, Any], route: _Route, state: str, executed_ms: int | None
) -> TxEvent:
    """An ``OutgoingWireTransferEvent`` carrying a ``LegacyOutgoingWireTransfer`` in ``state``."""
    transfer: dict[str, Any] = {
        "id": {"type": "outgoing_wire_transfers", "id": owt["id"]},
        "profileId": owt["profileId"],
    }
    put_optional(transfer, owt, "tag")
    transfer["source"] = dict(owt["sourceInstrument"])
    transfer["transferAmount"] = legacy_amount(owt["transferAmount"])
    transfer["transactionAmount"] = legacy_amount(owt["transferAmount"])
    put_optional(transfer, owt, "description")
    transfer["type"] = owt["type"]
    transfer["destination"] = deepcopy(route.destination)
    transfer.update(deepcopy(route.reference))
    transfer["state"] = state
    transfer["creationTimestamp"] = str(owt["creationTimestamp"])
    put_optional(transfer, owt, "scheduledTimestamp")
    if executed_ms is not None:
        transfer["executionTimestamp"] = str(executed_ms)
    return TxEvent(WEBHOOK_PATH, {"owner": dict(owner), "eventType": state, "transfer": transfer})
