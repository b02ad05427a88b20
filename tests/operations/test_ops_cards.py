"""Card block/unblock/remove (docs/behaviour.md §4.3.3) and spend rules (§4.3.4) run in-process."""

from __future__ import annotations

import pytest

from bulkdash.contract.kinds import OperationKind
from simulator.operations import OpResult, run_operation
from simulator.world.model import Identity, World
from tests.operations.helpers import NOW

NOT_FOUND = {"code": "NOT_FOUND", "message": "Resource not found"}


def card_op(
    world: World, identity: Identity, kind: OperationKind, card: str, body: dict | None = None
) -> OpResult:
    return run_operation(world, identity, kind, {"_id_": card}, body, NOW)


def limit(amount: int, interval: str = "MONTHLY", currency: str = "EUR") -> dict:
    return {"value": {"currency": currency, "amount": amount}, "interval": interval}


# --- block / unblock / remove ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        OperationKind.CARD_BLOCK,
        OperationKind.CARD_UNBLOCK,
        OperationKind.CARD_REMOVE,
        OperationKind.SPEND_RULES,
    ],
)
@pytest.mark.parametrize("card", ["9999", "5101", "4001"])  # unknown, Globex's card, an account
def test_card_not_in_identity_is_404(world: World, acme: Identity, kind: OperationKind, card: str) -> None:
    result = card_op(world, acme, kind, card, {})
    assert (result.status, result.body, result.tx_events) == (404, NOT_FOUND, [])
    assert not world.has_changes()


def test_block_success(world: World, acme: Identity) -> None:
    result = card_op(world, acme, OperationKind.CARD_BLOCK, "5001")
    assert (result.status, result.body, result.tx_events) == (204, None, [])
    card = world.instruments["5001"]
    assert (card.state, card.blocked_reason) == ("BLOCKED", "USER")
    assert [i.id for i in world.take_dirty()[1]] == ["5001"]


@pytest.mark.parametrize(
    ("kind", "card", "status", "code"),
    [
        (OperationKind.CARD_BLOCK, "5006", 409, "INSTRUMENT_MARKED_LOST_STOLEN"),
        (OperationKind.CARD_BLOCK, "5005", 409, "INSTRUMENT_DESTROYED"),
        (OperationKind.CARD_BLOCK, "5003", 409, "INSTRUMENT_ALREADY_BLOCKED"),
        (OperationKind.CARD_BLOCK, "5004", 409, "INSTRUMENT_ALREADY_BLOCKED"),
        (OperationKind.CARD_UNBLOCK, "5006", 409, "INSTRUMENT_MARKED_LOST_STOLEN"),
        (OperationKind.CARD_UNBLOCK, "5005", 409, "INSTRUMENT_DESTROYED"),
        (OperationKind.CARD_UNBLOCK, "5001", 409, "INSTRUMENT_NOT_BLOCKED"),
        (OperationKind.CARD_UNBLOCK, "5004", 403, "INSUFFICIENT_PERMISSIONS"),  # A25: blocked by SYSTEM
        (OperationKind.CARD_REMOVE, "5005", 409, "INSTRUMENT_ALREADY_REMOVED"),
        (OperationKind.CARD_REMOVE, "5001", 409, "BALANCE_NOT_ZERO"),
    ],
)
def test_card_rules(
    world: World, acme: Identity, kind: OperationKind, card: str, status: int, code: str
) -> None:
    result = card_op(world, acme, kind, card)
    assert (result.status, result.body) == (status, {"errorCode": code})
    assert not world.has_changes()


@pytest.mark.parametrize("reason", ["LOST", "STOLEN"])
def test_destroyed_as_lost_or_stolen_wins_over_destroyed(world: World, acme: Identity, reason: str) -> None:
    world.instruments["5005"].destroyed_reason = reason
    for kind in (OperationKind.CARD_BLOCK, OperationKind.CARD_UNBLOCK):
        assert card_op(world, acme, kind, "5005").body == {"errorCode": "INSTRUMENT_MARKED_LOST_STOLEN"}


def test_unblock_success_clears_the_reason(world: World, acme: Identity) -> None:
    assert card_op(world, acme, OperationKind.CARD_UNBLOCK, "5003").status == 204
    card = world.instruments["5003"]
    assert (card.state, card.blocked_reason) == ("ACTIVE", None)
    assert card_op(world, acme, OperationKind.CARD_BLOCK, "5003").status == 204  # and can be blocked again


@pytest.mark.parametrize("card", ["5002", "5003", "5007"])  # zero balance, blocked, debit (no balance)
def test_remove_success(world: World, acme: Identity, card: str) -> None:
    assert card_op(world, acme, OperationKind.CARD_REMOVE, card).status == 204
    inst = world.instruments[card]
    assert (inst.state, inst.destroyed_reason) == ("DESTROYED", "USER")
    assert card_op(world, acme, OperationKind.CARD_REMOVE, card).body == {
        "errorCode": "INSTRUMENT_ALREADY_REMOVED"
    }
    assert card_op(world, acme, OperationKind.CARD_BLOCK, card).body == {"errorCode": "INSTRUMENT_DESTROYED"}


# --- spend rules -------------------------------------------------------------------------------------


def spend(world: World, acme: Identity, card: str, body: dict) -> OpResult:
    return card_op(world, acme, OperationKind.SPEND_RULES, card, body)


@pytest.mark.parametrize(
    ("card", "limits", "code"),
    [
        ("5001", [limit(100, currency="GBP")], "SPEND_LIMIT_NOT_SUPPORTED_FOR_PREPAID_MODE_CARD"),
        ("5007", [limit(100, currency="GBP")], "SPEND_LIMIT_CURRENCY_DIFFERENT_FROM_CARD_CURRENCY"),
        ("5007", [limit(100), limit(5, "DAILY"), limit(200)], "SPEND_LIMIT_DUPLICATE_INTERVAL"),
        ("5007", [limit(0)], "SPEND_LIMIT_AMOUNT_INVALID"),
        ("5007", [limit(10, "DAILY"), limit(-1)], "SPEND_LIMIT_AMOUNT_INVALID"),
        # order: every entry's currency before duplicates, duplicates before amounts
        (
            "5007",
            [limit(0), limit(0), limit(1, "DAILY", "GBP")],
            "SPEND_LIMIT_CURRENCY_DIFFERENT_FROM_CARD_CURRENCY",
        ),
        ("5007", [limit(0), limit(0)], "SPEND_LIMIT_DUPLICATE_INTERVAL"),
        ("5001", [limit(0), limit(0)], "SPEND_LIMIT_NOT_SUPPORTED_FOR_PREPAID_MODE_CARD"),
    ],
)
def test_spend_limit_rules(world: World, acme: Identity, card: str, limits: list, code: str) -> None:
    before = dict(world.instruments[card].spend_rules)
    result = spend(world, acme, card, {"spendLimit": limits, "allowAtm": False})
    assert (result.status, result.body) == (409, {"errorCode": code})
    assert world.instruments[card].spend_rules == before  # nothing applied, not even allowAtm
    assert not world.has_changes()


def test_prepaid_card_accepts_rules_without_a_spend_limit(world: World, acme: Identity) -> None:
    body = {
        "allowAtm": False,
        "blockedMerchantCountries": ["RU"],
        "rolloverPolicy": {"rolloverNegative": True},
    }
    assert spend(world, acme, "5001", body).status == 204  # A30: upsert, no POST needed first
    assert world.instruments["5001"].spend_rules == body
    assert [i.id for i in world.take_dirty()[1]] == ["5001"]


def test_sent_fields_replace_stored_ones_and_others_stay(world: World, acme: Identity) -> None:
    spend(
        world,
        acme,
        "5001",
        {"allowAtm": False, "allowedMerchantIds": ["m1", "m2"], "minTransactionAmount": 5},
    )
    spend(world, acme, "5001", {"allowAtm": True, "allowedMerchantIds": ["m3"], "maxTransactionAmount": None})
    assert world.instruments["5001"].spend_rules == {
        "allowAtm": True,
        "allowedMerchantIds": ["m3"],
        "minTransactionAmount": 5,
    }


def test_overwrite_replaces_the_whole_limit_list(world: World, acme: Identity) -> None:
    for method in (None, "OVERWRITE"):
        body: dict = {"spendLimit": [limit(5000, "DAILY")]}
        if method:
            body["updateSpendLimitMethod"] = method
        assert spend(world, acme, "5007", body).status == 204
        assert world.instruments["5007"].spend_rules["spendLimit"] == [limit(5000, "DAILY")]
        assert "updateSpendLimitMethod" not in world.instruments["5007"].spend_rules


def test_increment_adds_to_matching_intervals_and_appends_new_ones(world: World, acme: Identity) -> None:
    body = {"spendLimit": [limit(2500), limit(700, "ALWAYS")], "updateSpendLimitMethod": "INCREMENT"}
    assert spend(world, acme, "5007", body).status == 204
    assert world.instruments["5007"].spend_rules["spendLimit"] == [limit(102_500), limit(700, "ALWAYS")]
    assert spend(world, acme, "5007", {**body, "spendLimit": [limit(300, "ALWAYS")]}).status == 204
    assert world.instruments["5007"].spend_rules["spendLimit"] == [limit(102_500), limit(1000, "ALWAYS")]


def test_increment_on_a_card_without_limits(world: World, acme: Identity) -> None:
    world.instruments["5007"].spend_rules = {}
    body = {
        "spendLimit": [{**limit(10, "WEEKLY"), "startTimestamp": NOW}],
        "updateSpendLimitMethod": "INCREMENT",
    }
    assert spend(world, acme, "5007", body).status == 204
    assert world.instruments["5007"].spend_rules == {
        "spendLimit": [{**limit(10, "WEEKLY"), "startTimestamp": NOW}]
    }


def test_stored_rules_never_alias_the_request_body(world: World, acme: Identity) -> None:
    body = {"spendLimit": [limit(1)], "allowedMerchantIds": ["a"]}
    spend(world, acme, "5007", body)
    body["spendLimit"][0]["value"]["amount"] = 999
    body["allowedMerchantIds"].append("b")
    rules = world.instruments["5007"].spend_rules
    assert rules["spendLimit"] == [limit(1)] and rules["allowedMerchantIds"] == ["a"]


def test_spend_rules_on_an_inactive_card_are_still_stored(world: World, acme: Identity) -> None:
    # §4.3.4 lists no state rule: only existence and the spend-limit checks.
    assert spend(world, acme, "5005", {"allowAtm": False}).status == 204
