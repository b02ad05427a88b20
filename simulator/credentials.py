"""How the simulator keeps credentials at rest: tokens as SHA-256 digests, passwords as salted PBKDF2 hashes.

Tokens are 256-bit random strings, so a plain SHA-256 digest is enough: nobody can recover a token from its
digest, and a presented token is found by hashing it. Passwords are chosen by people, so each gets its own
random salt and a PBKDF2-HMAC-SHA256 hash, stored as ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``.

The iteration count is deliberately modest (``PASSWORD_ITERATIONS``, a few milliseconds per login on a busy
2-core machine): this is a simulator whose demo passwords are printed in the README; the point is that its
database file never holds a password a user may have reused elsewhere, not to resist a long offline attack.
The count is stored with each hash, so raising it later keeps old hashes verifiable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PASSWORD_SCHEME = "pbkdf2_sha256"
PASSWORD_ITERATIONS = 20_000
_SALT_BYTES = 16


def token_digest(token: str) -> str:
    """The form in which a token is stored and looked up: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str, *, iterations: int = PASSWORD_ITERATIONS) -> str:
    """A salted hash of ``password`` (a fresh random salt each call), in the stored format."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{PASSWORD_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash; False for anything not in the stored format."""
    try:
        scheme, iterations, salt_hex, digest_hex = stored.split("$")
        rounds = int(iterations)
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if scheme != PASSWORD_SCHEME or rounds < 1:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, rounds)
    return hmac.compare_digest(actual, expected)


__all__ = ["PASSWORD_ITERATIONS", "hash_password", "token_digest", "verify_password"]
