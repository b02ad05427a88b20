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


@functools.cache
def _demo_password_hash(user_id: str) -> str:
    """One salted hash per demo user, computed once per process: the seed world is built on every start
    and reset, and each hash costs a few milliseconds."""
    return hash_password(DEMO_PASSWORD)


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
