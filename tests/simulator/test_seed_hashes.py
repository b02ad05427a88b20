"""The demo users' stored password hashes (``simulator.world.seed.DEMO_PASSWORD_HASHES``) stay true: each
verifies with the demo password at today's iteration count, each has a salt of its own, and every demo user
that has a password has one (else each start would hash again, ~4 ms a user)."""

from __future__ import annotations

from simulator.credentials import PASSWORD_ITERATIONS, PASSWORD_SCHEME, verify_password
from simulator.world.seed import _USERS, DEMO_PASSWORD, DEMO_PASSWORD_HASHES


def test_every_stored_demo_hash_verifies_with_the_demo_password() -> None:
    for user_id, stored in DEMO_PASSWORD_HASHES.items():
        scheme, iterations, _salt, _digest = stored.split("$")
        assert (scheme, int(iterations)) == (PASSWORD_SCHEME, PASSWORD_ITERATIONS), user_id
        assert verify_password(stored, DEMO_PASSWORD), user_id
        assert not verify_password(stored, DEMO_PASSWORD + "x"), user_id


def test_each_demo_user_with_a_password_has_its_own_salted_hash() -> None:
    with_password = {user[0] for user in _USERS if user[-1]}
    assert set(DEMO_PASSWORD_HASHES) == with_password
    salts = {stored.split("$")[2] for stored in DEMO_PASSWORD_HASHES.values()}
    assert len(salts) == len(DEMO_PASSWORD_HASHES)
