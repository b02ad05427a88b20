"""Who is calling: API keys, tokens, login with lock-out, and the role → permission table (docs/behaviour.md
§2).

Tokens live in memory for speed and in the store for restarts; their idle renewal is written lazily with
the next group commit (a token's expiry after a restart can be early by at most that batch interval).
Neither place keeps a token itself: both are keyed by its SHA-256 digest, and a presented token is found by
hashing it, so the book loads from the store exactly as it writes to it. Passwords are checked against
their salted hashes (simulator/credentials.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bulkdash.contract.kinds import BULK_PERMISSIONS
from simulator.credentials import token_digest, verify_password
from simulator.world.model import Identity, Programme, User, World

_BULK = frozenset(BULK_PERMISSIONS.values())
ALL_PERMISSIONS = _BULK | {
    "i:users:create",
    "i:users:send_invite",
    "i:managed_cards:block",
    "i:managed_cards:unblock",
    "i:managed_cards:remove",
    "i:managed_cards:update_spendrules",
    "i:transfers:create",
    "i:sends:create",
    "i:owt:create",
}

#: §2.4, a simulator decision: which permissions each role carries.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "ADMIN": ALL_PERMISSIONS,
    "ACCESS_MANAGEMENT_ROLE": _BULK | {"i:users:create", "i:users:send_invite"},
    "CARDS_MANAGEMENT_ROLE": _BULK
    | {
        "i:managed_cards:block",
        "i:managed_cards:unblock",
        "i:managed_cards:remove",
        "i:managed_cards:update_spendrules",
    },
    "FUNDS_MANAGEMENT_ROLE": _BULK | {"i:transfers:create", "i:sends:create", "i:owt:create"},
    "CARD_ASSIGNEE": frozenset(),
}

MAX_FAILED_LOGINS = 5
LOCK_MS = 30 * 60 * 1000


def permissions_of(user: User) -> frozenset[str]:
    if user.credential_type == "ROOT":
        return ALL_PERMISSIONS
    perms: frozenset[str] = frozenset()
    for role in user.roles:
        perms |= ROLE_PERMISSIONS.get(role, frozenset())
    return perms


@dataclass(slots=True)
class Principal:
    token: str
    programme: Programme
    user: User
    identity: Identity
    permissions: frozenset[str]

    def may(self, *any_of: str) -> bool:
        return any(p in self.permissions for p in any_of)


@dataclass(slots=True)
class TokenRecord:
    api_key: str
    user_id: str
    last_used_ms: int
    persisted_ms: int


class LoginRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status  # 403 wrong email/password, 423 locked


def _bearer(authorization: str | None) -> str | None:
    """The token of a ``Bearer`` credential; the scheme's name in any case (RFC 9110 §11.1)."""
    if not authorization or authorization[:7].lower() != "bearer ":
        return None
    return authorization[7:].strip()


class TokenBook:
    """Issued tokens with their idle expiry, keyed by token digest (as the store keeps them)."""

    def __init__(self, world: World, ttl_ms: int) -> None:
        self.world = world
        self.ttl_ms = ttl_ms
        self.tokens: dict[str, TokenRecord] = {}  # token digest -> record

    def load(self, rows: list[tuple[str, str, str, int]]) -> None:
        """``rows`` from the store: (token digest, api_key, user_id, last_used_ms)."""
        self.tokens = {d: TokenRecord(k, u, ms, ms) for d, k, u, ms in rows}

    def issue(self, api_key: str, user_id: str, now_ms: int) -> str:
        token = "sim_" + secrets.token_urlsafe(32)
        self.tokens[token_digest(token)] = TokenRecord(api_key, user_id, now_ms, now_ms)
        return token

    def peek(self, authorization: str | None) -> TokenRecord | None:
        """The record of a ``Bearer`` token, without checking expiry or renewing it."""
        token = _bearer(authorization)
        return None if token is None else self.tokens.get(token_digest(token))

    def resolve(self, api_key: str, authorization: str | None, now_ms: int) -> Principal | None:
        """The caller of a valid, live token issued under this api-key, renewing it; else None (401)."""
        token = _bearer(authorization)
        rec = None if token is None else self.tokens.get(token_digest(token))
        if token is None or rec is None or rec.api_key != api_key:
            return None
        if now_ms - rec.last_used_ms > self.ttl_ms:
            return None
        user = self.world.users.get(rec.user_id)
        if user is None:
            return None
        rec.last_used_ms = now_ms
        identity = self.world.identities[user.identity_id]
        programme = self.world.programmes[user.programme]
        return Principal(token, programme, user, identity, permissions_of(user))

    def due_touches(self) -> dict[str, int]:
        """Renewals worth persisting, by token digest: tokens used more than a few seconds after their
        stored time."""
        out = {}
        for digest, rec in self.tokens.items():
            if rec.last_used_ms - rec.persisted_ms >= 5_000:
                out[digest] = rec.last_used_ms
                rec.persisted_ms = rec.last_used_ms
        return out

    def revoke(self, token: str) -> None:
        self.tokens.pop(token_digest(token), None)


def check_password(world: World, programme: Programme, email: str, password: str, now_ms: int) -> User:
    """§2.2: 403 for an unknown email or wrong password, 423 while locked after 5 wrong passwords.
    ``user.password`` holds a salted hash (None while an invite is open)."""
    user = world.user_by_email(programme.id, email)
    if user is None or user.password is None:
        raise LoginRefused(403)
    if user.locked_until_ms > now_ms:
        raise LoginRefused(423)
    if not verify_password(user.password, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until_ms = now_ms + LOCK_MS
            user.failed_logins = 0
        world.touch_user(user)
        raise LoginRefused(403)
    if user.failed_logins:
        user.failed_logins = 0
        world.touch_user(user)
    return user
