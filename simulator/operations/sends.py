"""``POST /sends``: to an instrument of another identity of the same programme (docs/behaviour.md §4.3.6,
§6.6)."""

from __future__ import annotations

from typing import Any

from simulator.operations.common import (
    OpResult,
    TxEvent,
    amount_of,
    conflict,
    injected_fault,
    instrument_ref,
    legacy_amount,
    legacy_state_and_times,
    move_between,
    put_optional,
    stamp_times,
)
from simulator.world.model import Identity, Instrument, Transaction, World

WEBHOOK_PATH = "/send/watch"  # singular "send", as in Weavr's spec


def _destination(
    world: World, identity: Identity, destination: dict[str, Any]
) -> tuple[Instrument | None, str | None, str | None]:
    """Rules 3-4: the destination instrument, the beneficiary id it came through, or an error code."""
    beneficiary_id = destination.get("beneficiaryId")
    if beneficiary_id is not None:
        beneficiary = world.beneficiaries.get(beneficiary_id)
        if beneficiary is None or beneficiary.identity_id != identity.id:
            return None, None, "BENEFICIARY_NOT_FOUND"
        if beneficiary.kind != "instrument":
            return None, None, "BENEFICIARY_TYPE_INVALID"  # a bank beneficiary is for wire transfers
        inst_type, inst_id = beneficiary.instrument_type, beneficiary.instrument_id
    else:
        inst_type, inst_id = destination["type"], destination["id"]
    inst = world.instruments.get(inst_id or "")
    owner = world.identities.get(inst.identity_id) if inst is not None else None
    if inst is None or inst.type != inst_type or owner is None or owner.programme != identity.programme:
        return None, None, "DESTINATION_NOT_FOUND"
    return inst, beneficiary_id, None


def create_send(
    world: World, identity: Identity, path_params: dict[str, str], body: dict[str, Any] | None, now_ms: int
) -> OpResult:
    assert body is not None  # validated at submission: sends always carry a body
    fault = injected_fault(body)
    if fault is not None:
        return fault
    profile = world.profile(identity.programme, body["profileId"], "send")
    if profile is None:
        return conflict("PROFILE_NOT_FOUND")
    if not profile.active:
        return conflict("PROFILE_INACTIVE")
    source, destination, amount = body["source"], body["destination"], body["destinationAmount"]
    src = world.instrument_of(identity.id, source["type"], source["id"])
    if src is None:
        return conflict("SOURCE_NOT_FOUND")
    dst, beneficiary_id, error = _destination(world, identity, destination)
    if error is not None:
        return conflict(error)
    assert dst is not None
    if dst.identity_id == identity.id:
        return conflict("DESTINATION_BELONGS_TO_SAME_IDENTITY")
    moved = move_between(world, src, dst, body, now_ms)
    if isinstance(moved, str):
        return conflict(moved)
    state, out = moved
    scheduled: str | None = body.get("scheduledTimestamp")
    tx_id = out["id"]
    # The destination as sent: a beneficiary reference stays one in the response.
    out["destination"] = {"beneficiaryId": beneficiary_id} if beneficiary_id else instrument_ref(destination)
    out["destinationAmount"] = amount_of(amount)
    out["transactionAmount"] = amount_of(amount)  # no fees: what was asked is what moved
    put_optional(out, body, "description")
    out["state"] = state
    stamp_times(out, now_ms, scheduled)
    world.add_transaction(Transaction(tx_id, "sends", identity.id, out))
    event = {"eventType": state, "send": _legacy(out, dst, beneficiary_id)}
    return OpResult(200, out, [TxEvent(WEBHOOK_PATH, event)])


def _legacy(send: dict[str, Any], dst: Instrument, beneficiary_id: str | None) -> dict[str, Any]:
    """``LegacySend``: the destination is always the resolved instrument, plus ``beneficiaryId`` if used."""
    out: dict[str, Any] = {"id": {"type": "sends", "id": send["id"]}, "profileId": send["profileId"]}
    put_optional(out, send, "tag")
    out["source"] = dict(send["source"])
    out["destination"] = {"type": dst.type, "id": dst.id}
    if beneficiary_id is not None:
        out["beneficiaryId"] = beneficiary_id
    out["destinationAmount"] = legacy_amount(send["destinationAmount"])
    out["transactionAmount"] = legacy_amount(send["transactionAmount"])
    put_optional(out, send, "description")
    legacy_state_and_times(out, send)
    return out
