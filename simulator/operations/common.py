"""What every single-operation contract shares: result types, error bodies, and the money rules.

The money rules of docs/behaviour.md §4.3.5 (rules 5-11) are written here once and reused by transfers
(§4.3.5), sends (§4.3.6 rule 6) and outgoing wire transfers (§4.3.7 rules 2 and 8). Bodies reaching these
helpers were validated at submission, so they work on plain dicts and never re-validate (an operation must
cost µs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.world.model import Identity, Instrument, World

# --- results -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class TxEvent:
    """A transaction webhook to publish (§6.6): its path and its payload without ``publishedTimestamp``."""

    path: str
    payload: dict[str, Any]


@dataclass(slots=True)
class OpResult:
    """The single endpoint's answer: HTTP status, body (``None`` for 204) and transaction events."""

    status: int
    body: dict[str, Any] | None
    tx_events: list[TxEvent] = field(default_factory=list)


#: ``handler(world, identity, path_params, body, now_ms)``
Handler = Callable[[World, Identity, dict[str, str], dict[str, Any] | None, int], OpResult]

NOT_FOUND_BODY = {"code": "NOT_FOUND", "message": "Resource not found"}
INTERNAL_ERROR_BODY = {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}
UNAVAILABLE_BODY = {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable"}


def conflict(error_code: str) -> OpResult:
    return OpResult(409, {"errorCode": error_code}, [])


def not_found() -> OpResult:
    return OpResult(404, dict(NOT_FOUND_BODY), [])


def forbidden() -> OpResult:
    return OpResult(403, {"errorCode": "INSUFFICIENT_PERMISSIONS"}, [])


def no_content() -> OpResult:
    return OpResult(204, None, [])


def injected_fault(body: dict[str, Any] | None) -> OpResult | None:
    """§4.3.8: the ``SIM_FAIL_500`` / ``SIM_FAIL_503`` tags fail the operation before any rule or change."""
    tag = body.get("tag") if body else None
    if tag == "SIM_FAIL_500":
        return OpResult(500, dict(INTERNAL_ERROR_BODY), [])
    if tag == "SIM_FAIL_503":
        return OpResult(503, dict(UNAVAILABLE_BODY), [])
    return None


# --- small shapers -----------------------------------------------------------------------------------


def instrument_ref(ref: dict[str, Any]) -> dict[str, Any]:
    """An ``InstrumentId`` in canonical ``{type, id}`` form (unknown properties dropped)."""
    return {"type": ref["type"], "id": ref["id"]}


def amount_of(amount: dict[str, Any]) -> dict[str, Any]:
    """A ``CurrencyAmount`` in canonical ``{currency, amount}`` form."""
    return {"currency": amount["currency"], "amount": amount["amount"]}


def legacy_amount(amount: dict[str, Any]) -> dict[str, Any]:
    """The webhook (legacy) form of a ``CurrencyAmount``: the amount is a decimal string."""
    return {"currency": amount["currency"], "amount": str(amount["amount"])}


def put_optional(target: dict[str, Any], source: dict[str, Any], *keys: str) -> None:
    """Copy the keys that were sent with a value (Weavr leaves absent properties out, never ``null``)."""
    for key in keys:
        value = source.get(key)
        if value is not None:
            target[key] = value


def stamp_times(out: dict[str, Any], now_ms: int, scheduled: str | None) -> None:
    """``creationTimestamp`` (int), then ``scheduledTimestamp`` or else ``executionTimestamp`` (a string)."""
    out["creationTimestamp"] = now_ms
    if scheduled is not None:
        out["scheduledTimestamp"] = scheduled
    else:
        out["executionTimestamp"] = str(now_ms)


def legacy_state_and_times(target: dict[str, Any], tx: dict[str, Any]) -> None:
    """The tail of a legacy webhook transaction: state, then timestamps as decimal strings."""
    target["state"] = tx["state"]
    target["creationTimestamp"] = str(tx["creationTimestamp"])
    put_optional(target, tx, "scheduledTimestamp", "executionTimestamp")


# --- the shared money rules --------------------------------------------------------------------------


def instrument_pair_error(src: Instrument, dst: Instrument, currency: str) -> str | None:
    """Rules 5-8 of §4.3.5: state, debit mode and currency of both sides, in the published order."""
    if src.state == "DESTROYED":
        return "SOURCE_INSTRUMENT_DESTROYED"
    if dst.state == "DESTROYED":
        return "DESTINATION_INSTRUMENT_DESTROYED"
    if src.state == "BLOCKED":
        return "SOURCE_INSTRUMENT_BLOCKED"
    if dst.state == "BLOCKED":
        return "DESTINATION_INSTRUMENT_BLOCKED"
    if src.mode == "DEBIT_MODE":
        return "SOURCE_CANNOT_BE_DEBIT_MODE_CARD"
    if dst.mode == "DEBIT_MODE":
        return "DESTINATION_CANNOT_BE_DEBIT_MODE_CARD"
    if currency != src.currency or currency != dst.currency:
        return "CURRENCY_MISMATCH"
    return None


def source_state_error(src: Instrument) -> str | None:
    """The source half of rules 5-6 (OWT rule 2 has no destination instrument)."""
    if src.state == "DESTROYED":
        return "SOURCE_INSTRUMENT_DESTROYED"
    if src.state == "BLOCKED":
        return "SOURCE_INSTRUMENT_BLOCKED"
    return None


def amount_schedule_funds_error(
    src: Instrument, amount: int, scheduled: str | None, now_ms: int
) -> str | None:
    """Rules 9-11 of §4.3.5 (and OWT rule 8): amount, scheduling, then funds.

    A future ``scheduledTimestamp`` skips the funds check: the transaction is only recorded as SCHEDULED.
    """
    if amount <= 0:
        return "AMOUNT_INVALID"
    if scheduled is not None:
        return "SCHEDULED_TIMESTAMP_INVALID" if int(scheduled) <= now_ms else None
    if (src.balance or 0) < amount:
        return "FUNDS_INSUFFICIENT"
    return None


def debit(world: World, src: Instrument, amount: int) -> None:
    src.balance = (src.balance or 0) - amount
    world.touch_instrument(src)


def credit(world: World, dst: Instrument, amount: int) -> None:
    dst.balance = (dst.balance or 0) + amount
    world.touch_instrument(dst)


def move_between(
    world: World, src: Instrument, dst: Instrument, body: dict[str, Any], now_ms: int
) -> str | tuple[str, dict[str, Any]]:
    """Rules 5–11 of transfers (also applied to sends), then the movement itself.

    Returns the errorCode of the first rule that fails, or the new transaction's state and the start of
    its response body (id, profileId, tag, source) — the caller adds its own destination fields.
    """
    amount = body["destinationAmount"]
    value: int = amount["amount"]
    scheduled: str | None = body.get("scheduledTimestamp")
    error = instrument_pair_error(src, dst, amount["currency"]) or amount_schedule_funds_error(
        src, value, scheduled, now_ms
    )
    if error is not None:
        return error
    if scheduled is None:
        debit(world, src, value)
        credit(world, dst, value)
    out: dict[str, Any] = {"id": world.next_id(), "profileId": body["profileId"]}
    put_optional(out, body, "tag")
    out["source"] = instrument_ref(body["source"])
    return ("COMPLETED" if scheduled is None else "SCHEDULED"), out
