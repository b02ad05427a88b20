"""The demo world of docs/behaviour.md Appendix A, restored on first start and by ``POST /_sim/reset``.

The demo password is public (the README and the banner print it), but the world, like the store, only ever
holds its salted hashes (simulator/credentials.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from simulator.credentials import hash_password
from simulator.world.model import (
    Beneficiary,
    Identity,
    Instrument,
    LinkedAccount,
    Profile,
    Programme,
    User,
    World,
)

DEMO_PASSWORD = "Passw0rd!Sim"

PROGRAMMES = (
    Programme("P1", "sim-api-key-P1", "sim-webhooks-key-P1"),
    Programme("P2", "sim-api-key-P2", "sim-webhooks-key-P2"),
)

IDENTITIES = (
    Identity("1001", "CORPORATE", "Acme", "P1"),
    Identity("1002", "CORPORATE", "Globex", "P1"),
    Identity("1003", "CONSUMER", "Dave", "P1", bulk_enabled=False),
    Identity("1004", "CORPORATE", "Initech", "P2"),
)

#: (id, programme, identity, email, name, surname, credential type, roles, has password)
_USERS = (
    ("2001", "P1", "1001", "alice@acme.example", "Alice", "Archer", "ROOT", [], True),
    ("2002", "P1", "1001", "frank@acme.example", "Frank", "Fisher", "USER", ["ADMIN"], True),
    ("2003", "P1", "1001", "fiona@acme.example", "Fiona", "Fox", "USER", ["FUNDS_MANAGEMENT_ROLE"], True),
    ("2004", "P1", "1001", "bob@acme.example", "Bob", "Baker", "USER", ["CARD_ASSIGNEE"], True),
    ("2005", "P1", "1001", "gina@acme.example", "Gina", "Gray", "USER", ["CARD_ASSIGNEE"], False),
    ("2101", "P1", "1002", "carol@globex.example", "Carol", "Cole", "ROOT", [], True),
    ("2201", "P1", "1003", "dave@example.com", "Dave", "Dunn", "ROOT", [], True),
    ("2301", "P2", "1004", "erin@initech.example", "Erin", "East", "ROOT", [], True),
)


#: The demo users' password hashes (``DEMO_PASSWORD``, printed in the README), each with its own salt, made
#: once with ``simulator.credentials.hash_password`` and kept here: hashing seven of them on every start
#: took ~27 ms of the dashboard's way to its first poll (issue 16). A test checks each one verifies with
#: ``DEMO_PASSWORD`` at ``PASSWORD_ITERATIONS``; after changing either, make them again with that function.
DEMO_PASSWORD_HASHES = {
    "2001": "pbkdf2_sha256$20000$2728560ccb83fc88b7be45c02b5ec8ca$"
    "f9f2cb06026d4758e4ec17e1d18614d2fcba2c9eb65f8b9705bba1367f42a6e8",
    "2002": "pbkdf2_sha256$20000$1c268358f3deb4e9a438d719e3f0604c$"
    "dd070f5b8f952ed6deb151ffaf8cd7993d83c3423a7c9927cdebd2f7a012ea44",
    "2003": "pbkdf2_sha256$20000$c0185858cfe2b8bd05f6d4f0611ed76b$"
    "d381087df3a847e5125e940cfd63b349b78ae5a87f191a16bc0eec1e6dfe8612",
    "2004": "pbkdf2_sha256$20000$574b0a93ed22954b8158f29a21d34f3d$"
    "f47cac314b6d55970ae30e2e8d2a98be5f1ec8620a0d8f6cf0ac90dd20b4343a",
    "2101": "pbkdf2_sha256$20000$df4fe011c4a2ca585352b255cb5fe94e$"
    "7227c2bd7abcac39cdad23c4a5146473ef5efeb163a00a5df199ac0b4571ef6f",
    "2201": "pbkdf2_sha256$20000$793f3b4b7db56e4b3f4e15e7d709d628$"
    "55770f2deb62a6e9316f0ac2aec20a1dd25b1bc8607209e905f72b88ddee8796",
    "2301": "pbkdf2_sha256$20000$ca2647ec0b2f40e4c3bbe48290317e44$"
    "6afb26527b5a2e2e9526c8f1f5eddf8e5b9c03496f069880a1b242b9d45d3a72",
}


@functools.cache
def _demo_password_hash(user_id: str) -> str:
    """A demo user's salted hash: the stored one, or (a user without one) computed once per process."""
    return DEMO_PASSWORD_HASHES.get(user_id) or hash_password(DEMO_PASSWORD)


def _instruments() -> list[Instrument]:
    acc, card = "managed_accounts", "managed_cards"
    return [
        Instrument("4001", "1001", acc, "GBP", balance=1_000_000),
        Instrument("4002", "1001", acc, "EUR", balance=500_000),
        Instrument("4003", "1001", acc, "GBP", state="BLOCKED", blocked_reason="USER", balance=10_000),
        Instrument("4004", "1001", acc, "SEK", balance=100_000),
        Instrument("5001", "1001", card, "GBP", mode="PREPAID_MODE", balance=20_000),
        Instrument("5002", "1001", card, "GBP", mode="PREPAID_MODE", balance=0),
        Instrument("5003", "1001", card, "GBP", state="BLOCKED", blocked_reason="USER", mode="PREPAID_MODE"),
        Instrument(
            "5004", "1001", card, "GBP", state="BLOCKED", blocked_reason="SYSTEM", mode="PREPAID_MODE"
        ),
        Instrument(
            "5005", "1001", card, "GBP", state="DESTROYED", destroyed_reason="USER", mode="PREPAID_MODE"
        ),
        Instrument("5006", "1001", card, "GBP", state="BLOCKED", blocked_reason="LOST", mode="PREPAID_MODE"),
        Instrument(
            "5007",
            "1001",
            card,
            "EUR",
            mode="DEBIT_MODE",
            balance=None,
            parent_id="4002",
            spend_rules={
                "spendLimit": [{"value": {"currency": "EUR", "amount": 100_000}, "interval": "MONTHLY"}]
            },
        ),
        Instrument("4101", "1002", acc, "GBP", balance=0),
        Instrument("5101", "1002", card, "GBP", mode="PREPAID_MODE", balance=0),
        Instrument("4201", "1003", acc, "GBP", balance=0),
        Instrument("4301", "1004", acc, "GBP", balance=0),
    ]


def _profiles() -> list[Profile]:
    out = [
        Profile("3001", "P1", "transfer"),
        Profile("3002", "P1", "transfer", active=False),
        Profile("3101", "P1", "send"),
        Profile("3102", "P1", "send", active=False),
        Profile("3201", "P1", "owt", rails=("SEPA", "FASTER_PAYMENTS", "SWIFT")),
        Profile("3202", "P1", "owt", active=False, rails=("SEPA", "FASTER_PAYMENTS", "SWIFT")),
    ]
    all_rails = ("SEPA", "FASTER_PAYMENTS", "SWIFT", "RIX")
    out += [
        Profile(pid, "P2", kind, rails=all_rails if kind == "owt" else ())
        for pid, kind in (
            ("3001", "transfer"),
            ("3002", "transfer"),
            ("3101", "send"),
            ("3102", "send"),
            ("3201", "owt"),
            ("3202", "owt"),
        )
    ]
    return out


def build_seed_world(next_id: Callable[[], str]) -> World:
    """A fresh world holding exactly Appendix A (nothing marked dirty)."""
    world = World(next_id)
    for p in PROGRAMMES:
        world.programmes[p.id] = p
    for ident in IDENTITIES:
        world.identities[ident.id] = Identity(**{f: getattr(ident, f) for f in ident.__slots__})
    for uid, prog, ident, email, name, surname, cred, roles, has_pw in _USERS:
        world.add_user(
            User(
                uid,
                prog,
                ident,
                email,
                name,
                surname,
                cred,
                list(roles),
                password=_demo_password_hash(uid) if has_pw else None,
            ),
            dirty=False,
        )
    for inst in _instruments():
        world.instruments[inst.id] = inst
    for prof in _profiles():
        world.profiles[(prof.programme, prof.id)] = prof
    world.beneficiaries["7001"] = Beneficiary(
        "7001", "1001", "bank", "Hans Muster", rail="SEPA", iban="DE89370400440532013000", bic="COBADEFFXXX"
    )
    world.beneficiaries["7002"] = Beneficiary(
        "7002",
        "1001",
        "bank",
        "Jane Roe",
        rail="FASTER_PAYMENTS",
        account_number="31926819",
        sort_code="601613",
        type="PERSONAL",
    )
    world.beneficiaries["7003"] = Beneficiary(
        "7003", "1001", "instrument", instrument_type="managed_accounts", instrument_id="4101"
    )
    world.linked_accounts["8001"] = LinkedAccount(
        "8001", "1001", "FASTER_PAYMENTS", "GBP", account_number="12345678", sort_code="123456"
    )
    return world
