"""``POST /transfers``: between two instruments of the same identity (docs/behaviour.md §4.3.5, webhook
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
from simulator.world.model import Identity, Transaction, World

WEBHOOK_PATH = "/transfers/watch"


def create_transfer(
    world: World, identity: Identity, path_params: dict[str, str], body: dict[str, Any] | None, now_ms: int
) -> OpResult:
    assert body is not None  # validated at submission: transfers always carry a body
    fault = injected_fault(body)
    if fault is not None:
        return fault
    profile = world.profile(identity.programme, body["profileId"], "transfer")
    if profile is None or not profile.active:
        return conflict("PROFILE_INACTIVE")  # A27: the transfer enum has no PROFILE_NOT_FOUND
    source, destination, amount = body["source"], body["destination"], body["destinationAmount"]
    src = world.instrument_of(identity.id, source["type"], source["id"])
    if src is None:
        return conflict("SOURCE_NOT_FOUND")
    dst = world.instrument_of(identity.id, destination["type"], destination["id"])
    if dst is None:
        return conflict("DESTINATION_NOT_FOUND")
    if src is dst:
        return conflict("SOURCE_AND_DESTINATION_MUST_BE_DIFFERENT")
    moved = move_between(world, src, dst, body, now_ms)
    if isinstance(moved, str):
        return conflict(moved)
    state, out = moved
    scheduled: str | None = body.get("scheduledTimestamp")
    tx_id = out["id"]
    out["destination"] = instrument_ref(destination)
    out["destinationAmount"] = amount_of(amount)
    put_optional(out, body, "description")
    out["state"] = state
    stamp_times(out, now_ms, scheduled)
    world.add_transaction(Transaction(tx_id, "transfers", identity.id, out))
    return OpResult(200, out, [TxEvent(WEBHOOK_PATH, {"eventType": state, "transfer": _legacy(out)})])


def _legacy(transfer: dict[str, Any]) -> dict[str, Any]:
    """``LegacyTransfer`` of the webhook: typed id, string amounts and timestamps, no description."""
    out: dict[str, Any] = {
        "id": {"type": "transfers", "id": transfer["id"]},
        "profileId": transfer["profileId"],
    }
    put_optional(out, transfer, "tag")
    out["source"] = dict(transfer["source"])
    out["destination"] = dict(transfer["destination"])
    out["destinationAmount"] = legacy_amount(transfer["destinationAmount"])
    legacy_state_and_times(out, transfer)
    return out
