"""Managed card operations: block, unblock, remove (docs/behaviour.md §4.3.3) and spend rules (§4.3.4)."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from simulator.operations.common import OpResult, amount_of, conflict, forbidden, no_content, not_found
from simulator.world.model import Identity, Instrument, World

LOST_STOLEN = frozenset({"LOST", "STOLEN"})
#: Spend-rule properties stored as sent (``spendLimit`` is merged per ``updateSpendLimitMethod``).
PLAIN_RULE_FIELDS = (
    "allowedMerchantCategories",
    "blockedMerchantCategories",
    "allowedMerchantIds",
    "blockedMerchantIds",
    "allowedMerchantCountries",
    "blockedMerchantCountries",
    "allowContactless",
    "allowAtm",
    "allowECommerce",
    "allowCashback",
    "allowCreditAuthorisations",
    "rolloverPolicy",
    "minTransactionAmount",
    "maxTransactionAmount",
)


def _card(world: World, identity: Identity, path_params: dict[str, str]) -> Instrument | None:
    return world.instrument_of(identity.id, "managed_cards", path_params["_id_"])


def _marked_lost_or_stolen(card: Instrument) -> bool:
    return card.blocked_reason == "LOST" or card.destroyed_reason in LOST_STOLEN


def _block_target(world: World, identity: Identity, path_params: dict[str, str]) -> Instrument | OpResult:
    """The card to block or unblock, or the answer that comes first: 404, then lost/stolen, then destroyed
    (the same order for both)."""
    card = _card(world, identity, path_params)
    if card is None:
        return not_found()
    if _marked_lost_or_stolen(card):
        return conflict("INSTRUMENT_MARKED_LOST_STOLEN")
    if card.state == "DESTROYED":
        return conflict("INSTRUMENT_DESTROYED")
    return card


def block_card(
    world: World, identity: Identity, path_params: dict[str, str], body: dict[str, Any] | None, now_ms: int
) -> OpResult:
    card = _block_target(world, identity, path_params)
    if isinstance(card, OpResult):
        return card
    if card.state == "BLOCKED":
        return conflict("INSTRUMENT_ALREADY_BLOCKED")
    card.state, card.blocked_reason = "BLOCKED", "USER"
    world.touch_instrument(card)
    return no_content()


def unblock_card(
    world: World, identity: Identity, path_params: dict[str, str], body: dict[str, Any] | None, now_ms: int
) -> OpResult:
    card = _block_target(world, identity, path_params)
    if isinstance(card, OpResult):
        return card
    if card.state != "BLOCKED":
        return conflict("INSTRUMENT_NOT_BLOCKED")
    if card.blocked_reason == "SYSTEM":
        return forbidden()  # A25: a system block cannot be lifted by the customer
    card.state, card.blocked_reason = "ACTIVE", None
    world.touch_instrument(card)
    return no_content()


def remove_card(
    world: World, identity: Identity, path_params: dict[str, str], body: dict[str, Any] | None, now_ms: int
) -> OpResult:
    card = _card(world, identity, path_params)
    if card is None:
        return not_found()
    if card.state == "DESTROYED":
        return conflict("INSTRUMENT_ALREADY_REMOVED")
    if card.mode == "PREPAID_MODE" and card.balance:
        return conflict("BALANCE_NOT_ZERO")
    card.state, card.destroyed_reason = "DESTROYED", "USER"
    world.touch_instrument(card)
    return no_content()


def _spend_limit_error(card: Instrument, limits: list[dict[str, Any]]) -> str | None:
    # Each rule is checked over every entry before the next rule (rules apply in the published order).
    if card.mode == "PREPAID_MODE":
        return "SPEND_LIMIT_NOT_SUPPORTED_FOR_PREPAID_MODE_CARD"
    if any(entry["value"]["currency"] != card.currency for entry in limits):
        return "SPEND_LIMIT_CURRENCY_DIFFERENT_FROM_CARD_CURRENCY"
    intervals = [entry["interval"] for entry in limits]
    if len(set(intervals)) != len(intervals):
        return "SPEND_LIMIT_DUPLICATE_INTERVAL"
    if any(entry["value"]["amount"] <= 0 for entry in limits):
        return "SPEND_LIMIT_AMOUNT_INVALID"
    return None


def _limit_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A stored spend-limit entry: a fresh dict, so the stored rules never alias the request body."""
    out: dict[str, Any] = {"value": amount_of(entry["value"]), "interval": entry["interval"]}
    if entry.get("startTimestamp") is not None:
        out["startTimestamp"] = entry["startTimestamp"]
    return out


def _incremented(stored: list[dict[str, Any]], increments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = [_limit_entry(entry) for entry in stored]
    by_interval = {entry["interval"]: entry for entry in merged}
    for inc in increments:
        current = by_interval.get(inc["interval"])
        if current is None:
            merged.append(_limit_entry(inc))
        else:
            current["value"]["amount"] += inc["value"]["amount"]
    return merged


def update_spend_rules(
    world: World, identity: Identity, path_params: dict[str, str], body: dict[str, Any] | None, now_ms: int
) -> OpResult:
    card = _card(world, identity, path_params)
    if card is None:
        return not_found()
    body = body or {}
    limits = body.get("spendLimit")
    if limits is not None:
        error = _spend_limit_error(card, limits)
        if error is not None:
            return conflict(error)
    # A30: PATCH upserts, even when no rules were ever set. A property sent as null counts as not sent.
    rules = dict(card.spend_rules)
    for key in PLAIN_RULE_FIELDS:
        value = body.get(key)
        if value is not None:
            rules[key] = deepcopy(value)  # the stored rules must never alias the request body
    if limits is not None:
        if body.get("updateSpendLimitMethod") == "INCREMENT":
            rules["spendLimit"] = _incremented(rules.get("spendLimit") or [], limits)
        else:  # OVERWRITE, the default
            rules["spendLimit"] = [_limit_entry(entry) for entry in limits]
    card.spend_rules = rules
    world.touch_instrument(card)
    return no_content()
