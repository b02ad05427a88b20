"""Checks one webhook request's credentials (docs/behaviour.md §6.3) and decides whether it is authentic.

A request is authentic when every credential it presents checks out and at least one of them binds it to
the programme: a valid ``signature-v2`` (which covers the body), or, failing any signature, the configured
``webhooks-key`` — but only on the paths whose contract declares that scheme (the bulk-process webhook,
decision A15; see :func:`~bulkdash.webhooks.records.key_only_allowed`). Everywhere else the key alone is
refused, since it proves nothing about the body. The deprecated ``signature`` covers only the timestamp,
so it never suffices on its own, but a wrong one still fails the request.

The timestamp is reported, not enforced: a retry (§6.5) resends the original ``published-timestamp`` hours
later, and rejecting it would turn a late delivery into a lost one. Dedupe on the call-ref handles replays.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from bulkdash.contract.signatures import verify_v1, verify_v2
from bulkdash.webhooks.records import (
    Authenticity,
    KeyVerdict,
    SignatureVerdict,
    TimestampVerdict,
    authenticity,
)


@dataclass(frozen=True, slots=True)
class Verification:
    call_ref: str | None
    published_timestamp_ms: int | None
    signature_v2: SignatureVerdict
    signature_v1: SignatureVerdict
    timestamp: TimestampVerdict
    webhooks_key: KeyVerdict
    authenticity: Authenticity

    @property
    def problem(self) -> str | None:
        """Why the request is not authentic, or ``None`` when it is."""
        if self.signature_v2 is SignatureVerdict.INVALID:
            return "signature-v2 does not match"
        if self.signature_v1 is SignatureVerdict.INVALID:
            return "signature does not match"
        if self.webhooks_key is KeyVerdict.INVALID:
            return "webhooks-key does not match"
        if self.authenticity in (Authenticity.SIGNED, Authenticity.KEY_ONLY):
            return None
        if self.webhooks_key is KeyVerdict.VALID:
            return (
                "signature-v2 missing (the webhooks-key alone is accepted only on paths ending "
                "/bulk_process_end/watch)"
            )
        return "signature-v2 missing"

    @property
    def authentic(self) -> bool:
        return self.problem is None


#: The most digits a ``published-timestamp`` may have (18: every such value fits in a signed 64-bit integer).
_MAX_TIMESTAMP_DIGITS = 18


def _timestamp_verdict(
    text: str | None, now_ms: int, tolerance_ms: int
) -> tuple[TimestampVerdict, int | None]:
    if text is None:
        return TimestampVerdict.MISSING, None
    stripped = text.strip()
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > _MAX_TIMESTAMP_DIGITS:
        # Past 18 digits it is no epoch-ms time (today's have 13) and no SQLite INTEGER either: stored as
        # one, it failed the whole batch's insert, and every webhook in that batch was answered 500.
        return TimestampVerdict.MALFORMED, None
    value = int(stripped)
    if value < now_ms - tolerance_ms:
        return TimestampVerdict.STALE, value
    if value > now_ms + tolerance_ms:
        return TimestampVerdict.FUTURE, value
    return TimestampVerdict.OK, value


def verify_request(
    headers: Mapping[str, str],
    body: bytes,
    *,
    path: str,
    signing_key: str,
    webhooks_key: str | None,
    now_ms: int,
    tolerance_ms: int,
    body_complete: bool = True,
) -> Verification:
    """Every verdict for one request to ``path``. ``headers`` are lower-cased and *not* redacted."""
    # The transaction contract names ``call-ref``; the bulk contract names ``request-ref`` (A15).
    call_ref = headers.get("call-ref") or headers.get("request-ref")
    published = headers.get("published-timestamp")
    timestamp, published_ms = _timestamp_verdict(published, now_ms, tolerance_ms)

    sig_v2 = headers.get("signature-v2")
    if sig_v2 is None:
        v2 = SignatureVerdict.MISSING
    elif not body_complete:
        v2 = SignatureVerdict.UNCHECKED
    elif call_ref is None or published is None:
        # The signed message cannot be rebuilt without both; no valid signature can exist.
        v2 = SignatureVerdict.INVALID
    else:
        ok = verify_v2(signing_key, call_ref, body, published, sig_v2)
        v2 = SignatureVerdict.VALID if ok else SignatureVerdict.INVALID

    sig_v1 = headers.get("signature")
    if sig_v1 is None:
        v1 = SignatureVerdict.MISSING
    elif published is None:
        v1 = SignatureVerdict.INVALID
    else:
        v1 = SignatureVerdict.VALID if verify_v1(signing_key, published, sig_v1) else SignatureVerdict.INVALID

    presented_key = headers.get("webhooks-key")
    if webhooks_key is None:
        key = KeyVerdict.NOT_CONFIGURED
    elif presented_key is None:
        key = KeyVerdict.MISSING
    else:
        # Header values were decoded as latin-1, so encoding back gives the exact bytes received.
        same = hmac.compare_digest(webhooks_key.encode("utf-8"), presented_key.encode("latin-1"))
        key = KeyVerdict.VALID if same else KeyVerdict.INVALID

    return Verification(
        call_ref=call_ref,
        published_timestamp_ms=published_ms,
        signature_v2=v2,
        signature_v1=v1,
        timestamp=timestamp,
        webhooks_key=key,
        authenticity=authenticity(path, v2, v1, key),
    )
