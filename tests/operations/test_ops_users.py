"""POST /users and POST /users/{user_id}/invite run in-process (docs/behaviour.md §4.3.1, §4.3.2)."""

from __future__ import annotations

import pytest

from bulkdash.contract.kinds import OperationKind
from simulator.operations import OpResult, run_operation
from simulator.world.model import Identity, World
from tests.operations.helpers import NOW, user


def create(world: World, identity: Identity, body: dict) -> OpResult:
    return run_operation(world, identity, OperationKind.USERS, {}, body, NOW)


def invite(world: World, identity: Identity, user_id: str) -> OpResult:
    return run_operation(world, identity, OperationKind.USER_INVITE, {"_user_id_": user_id}, None, NOW)


def test_create_returns_the_spec_example_body(world: World, acme: Identity) -> None:
    result = create(world, acme, user(roles=["CARD_ASSIGNEE"]))
    assert result.status == 200
    assert result.body == {
        "id": "1000001",
        "identity": {"type": "CORPORATE", "id": "1001"},
        "name": "Ian",
        "surname": "Ng",
        "email": "ian@acme.example",
        "active": True,
        "roles": ["CARD_ASSIGNEE"],
    }
    assert result.tx_events == []  # user operations trigger no webhooks


def test_created_user_is_stored_without_password_and_marked_dirty(world: World, acme: Identity) -> None:
    create(world, acme, user())
    stored = world.user_by_email("P1", "IAN@acme.example")
    assert stored is not None
    assert (stored.id, stored.identity_id, stored.credential_type, stored.password) == (
        "1000001",
        "1001",
        "USER",
        None,
    )
    users, instruments, txs = world.take_dirty()
    assert [u.id for u in users] == ["1000001"] and instruments == [] and txs == []


def test_optional_fields_are_echoed_and_kept(world: World, acme: Identity) -> None:
    extras = {
        "mobile": {"countryCode": "+44", "number": "7700900123"},
        "dateOfBirth": {"year": 1990, "month": 2, "day": 31},
        "tag": "ops",
        "countryOfResidence": "GB",
        "locale": "en-GB",
        "brand": "Acme1",
        "roles": ["ADMIN", "FUNDS_MANAGEMENT_ROLE"],
    }
    result = create(world, acme, user(**extras))
    assert result.body is not None
    for key, value in extras.items():
        assert result.body[key] == value
    stored = world.users["1000001"]
    assert stored.roles == ["ADMIN", "FUNDS_MANAGEMENT_ROLE"]
    assert stored.extra["mobile"] == extras["mobile"] and stored.extra["locale"] == "en-GB"


def test_null_optional_fields_are_left_out(world: World, acme: Identity) -> None:
    result = create(world, acme, user(mobile=None, tag=None, roles=None))
    assert result.body is not None
    assert not {"mobile", "tag", "roles"} & set(result.body)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (user("x@blocked.example"), "EMAIL_DOMAIN_NOT_ALLOWED"),
        (user("x@BLOCKED.example"), "EMAIL_DOMAIN_NOT_ALLOWED"),
        (user("alice@acme.example"), "EMAIL_NOT_UNIQUE"),
        (user("ALICE@Acme.Example"), "EMAIL_NOT_UNIQUE"),
        (user("carol@globex.example"), "EMAIL_NOT_UNIQUE"),  # another identity of the same programme
        (user(mobile={"countryCode": "+07", "number": "1"}), "MOBILE_OR_COUNTRY_CODE_INVALID"),
        (user(countryOfResidence="AA"), "COUNTRY_OF_RESIDENCE_INVALID"),
        (user(countryOfResidence="QM"), "COUNTRY_OF_RESIDENCE_INVALID"),
        (user(countryOfResidence="QZ"), "COUNTRY_OF_RESIDENCE_INVALID"),
        (user(countryOfResidence="XA"), "COUNTRY_OF_RESIDENCE_INVALID"),
        (user(countryOfResidence="XK"), "COUNTRY_OF_RESIDENCE_INVALID"),
        (user(countryOfResidence="ZZ"), "COUNTRY_OF_RESIDENCE_INVALID"),
        # order: domain before uniqueness, uniqueness before mobile, mobile before country
        (user("alice@blocked.example"), "EMAIL_DOMAIN_NOT_ALLOWED"),
        (user("alice@acme.example", mobile={"countryCode": "+0", "number": "1"}), "EMAIL_NOT_UNIQUE"),
        (
            user(mobile={"countryCode": "+0", "number": "1"}, countryOfResidence="ZZ"),
            "MOBILE_OR_COUNTRY_CODE_INVALID",
        ),
    ],
)
def test_each_rule_gives_its_409(world: World, acme: Identity, body: dict, code: str) -> None:
    result = create(world, acme, body)
    assert (result.status, result.body) == (409, {"errorCode": code})
    assert not world.has_changes()


@pytest.mark.parametrize("country", ["QL", "GB", "ZW", "AB"])
def test_real_countries_are_accepted(world: World, acme: Identity, country: str) -> None:
    assert create(world, acme, user(countryOfResidence=country)).status == 200


def test_email_uniqueness_includes_users_created_earlier_in_the_bulk(world: World, acme: Identity) -> None:
    assert create(world, acme, user("new@acme.example")).status == 200
    assert create(world, acme, user("NEW@acme.example")).body == {"errorCode": "EMAIL_NOT_UNIQUE"}


def test_email_uniqueness_is_per_programme(world: World, initech: Identity) -> None:
    assert create(world, initech, user("alice@acme.example")).status == 200  # alice is in P1, Initech in P2


@pytest.mark.parametrize(("tag", "status"), [("SIM_FAIL_500", 500), ("SIM_FAIL_503", 503)])
def test_fault_tags(world: World, acme: Identity, tag: str, status: int) -> None:
    result = create(world, acme, user(tag=tag))
    assert result.status == status
    assert world.user_by_email("P1", "ian@acme.example") is None and not world.has_changes()


def test_invite_an_open_invitation(world: World, acme: Identity) -> None:
    result = invite(world, acme, "2005")
    assert (result.status, result.body, result.tx_events) == (204, None, [])
    assert world.users["2005"].invites_sent == 1
    assert [u.id for u in world.take_dirty()[0]] == ["2005"]
    assert invite(world, acme, "2005").status == 204  # re-sending an open invite is fine
    assert world.users["2005"].invites_sent == 2


def test_invite_a_user_created_by_a_bulk(world: World, acme: Identity) -> None:
    created = create(world, acme, user())
    assert created.body is not None
    assert invite(world, acme, created.body["id"]).status == 204


@pytest.mark.parametrize("user_id", ["9999", "2101", "2301"])
def test_invite_unknown_or_foreign_user_is_404(world: World, acme: Identity, user_id: str) -> None:
    result = invite(world, acme, user_id)
    assert (result.status, result.body) == (404, {"code": "NOT_FOUND", "message": "Resource not found"})
    assert not world.has_changes()


@pytest.mark.parametrize("user_id", ["2001", "2002", "2003", "2004"])
def test_invite_consumed(world: World, acme: Identity, user_id: str) -> None:
    assert invite(world, acme, user_id).body == {"errorCode": "INVITE_ALREADY_CONSUMED"}
    assert world.users[user_id].invites_sent == 0
