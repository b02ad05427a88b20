"""The simulator's world: programmes, identities, users, instruments, profiles, beneficiaries, transactions.

Operations read and change this in-memory model; the store persists it. Every mutation goes through
``World.touch_*`` or ``World.add_*`` so the world knows what is dirty and the engine can commit exactly those
rows together with the operation statuses that caused them (one transaction, so a crash can neither lose
an effect nor apply it twice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Programme:
    id: str  # "P1"
    api_key: str
    webhooks_key: str


@dataclass(slots=True)
class Identity:
    id: str
    type: str  # CORPORATE | CONSUMER
    name: str
    programme: str
    bulk_enabled: bool = True


@dataclass(slots=True)
class User:
    id: str
    programme: str
    identity_id: str
    email: str
    name: str
    surname: str
    credential_type: str = "USER"  # ROOT | USER
    roles: list[str] = field(default_factory=list)
    # A salted hash (simulator/credentials.py), never the password; None: invite still open, cannot log in.
    password: str | None = None
    active: bool = True
    invites_sent: int = 0
    failed_logins: int = 0
    locked_until_ms: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # optional create fields echoed back (mobile, tag…)


@dataclass(slots=True)
class Instrument:
    id: str
    identity_id: str
    type: str  # managed_accounts | managed_cards
    currency: str
    state: str = "ACTIVE"  # ACTIVE | BLOCKED | DESTROYED
    blocked_reason: str | None = None  # USER | SYSTEM | LOST
    destroyed_reason: str | None = None  # USER | LOST | STOLEN …
    mode: str | None = None  # cards: PREPAID_MODE | DEBIT_MODE
    balance: int | None = 0  # minor units; None for debit cards
    parent_id: str | None = None  # debit cards: the managed account they draw on
    spend_rules: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Profile:
    id: str
    programme: str
    kind: str  # transfer | send | owt
    active: bool = True
    rails: tuple[str, ...] = ()  # owt: SEPA, FASTER_PAYMENTS, SWIFT, RIX


@dataclass(slots=True)
class Beneficiary:
    id: str
    identity_id: str
    kind: str  # bank | instrument
    name: str = ""
    rail: str | None = None  # bank: SEPA | FASTER_PAYMENTS | SWIFT
    iban: str | None = None
    bic: str | None = None
    account_number: str | None = None
    sort_code: str | None = None
    type: str | None = None  # PERSONAL | BUSINESS
    instrument_type: str | None = None  # instrument beneficiaries
    instrument_id: str | None = None


@dataclass(slots=True)
class LinkedAccount:
    id: str
    identity_id: str
    rail: str
    currency: str
    account_number: str | None = None
    sort_code: str | None = None


@dataclass(slots=True)
class Transaction:
    """A transfer, send or OWT created by an operation, kept as its response body."""

    id: str
    kind: str  # transfers | sends | outgoing_wire_transfers
    identity_id: str
    body: dict[str, Any]


def to_row(obj: Any) -> dict[str, Any]:
    return asdict(obj)


class World:
    """All world state, indexed for the operations, with dirty tracking for the store."""

    def __init__(self, next_id: Callable[[], str]) -> None:
        self.next_id = next_id
        self.programmes: dict[str, Programme] = {}
        self.identities: dict[str, Identity] = {}
        self.users: dict[str, User] = {}
        self.instruments: dict[str, Instrument] = {}
        self.profiles: dict[tuple[str, str], Profile] = {}  # (programme, id)
        self.beneficiaries: dict[str, Beneficiary] = {}
        self.linked_accounts: dict[str, LinkedAccount] = {}
        self._emails: dict[tuple[str, str], str] = {}  # (programme, lower email) -> user id
        self.dirty_users: set[str] = set()
        self.dirty_instruments: set[str] = set()
        self.new_transactions: list[Transaction] = []

    # --- lookups ------------------------------------------------------------------------------------
    def programme_by_key(self, api_key: str) -> Programme | None:
        for p in self.programmes.values():
            if p.api_key == api_key:
                return p
        return None

    def user_by_email(self, programme: str, email: str) -> User | None:
        uid = self._emails.get((programme, email.lower()))
        return self.users.get(uid) if uid else None

    def instrument_of(self, identity_id: str, type_: str, id_: str) -> Instrument | None:
        inst = self.instruments.get(id_)
        if inst is None or inst.identity_id != identity_id or inst.type != type_:
            return None
        return inst

    def profile(self, programme: str, id_: str, kind: str) -> Profile | None:
        p = self.profiles.get((programme, id_))
        return p if p is not None and p.kind == kind else None

    # --- mutations ----------------------------------------------------------------------------------
    def add_user(self, user: User, *, dirty: bool = True) -> None:
        self.users[user.id] = user
        self._emails[(user.programme, user.email.lower())] = user.id
        if dirty:
            self.dirty_users.add(user.id)

    def touch_user(self, user: User) -> None:
        self.dirty_users.add(user.id)

    def touch_instrument(self, inst: Instrument) -> None:
        self.dirty_instruments.add(inst.id)

    def add_transaction(self, tx: Transaction) -> None:
        # Only the change set: the store keeps transactions, and nothing in the simulator reads them back,
        # so holding every one in memory would only grow with every bulk run.
        self.new_transactions.append(tx)

    def restore_identity(self, seed: World, identity_id: str) -> None:
        """Put the identity's instruments and seeded users back as ``seed`` has them (a world built for this
        call: its values are taken over as they are): balances, states, spend rules; roles, passwords,
        lock-outs. In place, so nothing holding a row sees a stale copy, and marked dirty. Users not in
        ``seed`` (created by bulks) and every other identity stay as they are."""
        for rows, seeded_rows, touch in (
            (self.instruments, seed.instruments, self.dirty_instruments),
            (self.users, seed.users, self.dirty_users),
        ):
            for row_id, seeded in seeded_rows.items():
                current = rows.get(row_id)
                if seeded.identity_id == identity_id and current is not None:
                    for name in type(seeded).__slots__:
                        setattr(current, name, getattr(seeded, name))
                    touch.add(row_id)

    def take_dirty(self) -> tuple[list[User], list[Instrument], list[Transaction]]:
        """Hand the changed rows to the store and start a new change set."""
        users = [self.users[i] for i in self.dirty_users]
        insts = [self.instruments[i] for i in self.dirty_instruments]
        txs = self.new_transactions
        self.dirty_users, self.dirty_instruments, self.new_transactions = set(), set(), []
        return users, insts, txs

    def has_changes(self) -> bool:
        return bool(self.dirty_users or self.dirty_instruments or self.new_transactions)
