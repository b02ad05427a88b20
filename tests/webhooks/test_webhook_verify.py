"""Unit tests of the credential checks and the path / body interpretation, without HTTP."""

from __future__ import annotations

import pytest

from bulkdash.webhooks import (
    Authenticity,
    EventKind,
    KeyVerdict,
    SignatureVerdict,
    TimestampVerdict,
    classify_path,
)
from bulkdash.webhooks.records import REDACTED, describe_event, headers_dict, key_only_allowed
from bulkdash.webhooks.verify import Verification, verify_request
from tests.webhooks.webhook_helpers import (
    BULK_PATH,
    SPEC_BODY,
    SPEC_CALL_REF,
    SPEC_KEY,
    SPEC_SIGNATURE,
    SPEC_SIGNATURE_V2,
    SPEC_TIMESTAMP,
    WEBHOOKS_KEY,
    signed_headers,
)

NOW = int(SPEC_TIMESTAMP)
TOLERANCE_MS = 300_000


def check(
    headers: dict[str, str],
    body: bytes = SPEC_BODY,
    *,
    now: int = NOW,
    webhooks_key: str | None = None,
    path: str = BULK_PATH,
) -> Verification:
    return verify_request(
        headers,
        body,
        path=path,
        signing_key=SPEC_KEY,
        webhooks_key=webhooks_key,
        now_ms=now,
        tolerance_ms=TOLERANCE_MS,
    )


def spec_headers() -> dict[str, str]:
    return {
        "call-ref": SPEC_CALL_REF,
        "published-timestamp": SPEC_TIMESTAMP,
        "signature": SPEC_SIGNATURE,
        "signature-v2": SPEC_SIGNATURE_V2,
    }


def test_spec_worked_example_verifies() -> None:
    result = check(spec_headers())
    assert result.signature_v2 is SignatureVerdict.VALID
    assert result.signature_v1 is SignatureVerdict.VALID
    assert result.timestamp is TimestampVerdict.OK
    assert result.webhooks_key is KeyVerdict.NOT_CONFIGURED
    assert result.call_ref == SPEC_CALL_REF
    assert result.published_timestamp_ms == NOW
    assert result.authentic


def test_request_ref_stands_in_for_call_ref() -> None:
    headers = spec_headers()
    headers["request-ref"] = headers.pop("call-ref")
    result = check(headers)
    assert result.call_ref == SPEC_CALL_REF
    assert result.signature_v2 is SignatureVerdict.VALID


def test_one_changed_body_byte_invalidates_v2_but_not_v1() -> None:
    result = check(spec_headers(), SPEC_BODY.replace(b"1000042", b"1000043"))
    assert result.signature_v2 is SignatureVerdict.INVALID
    assert result.signature_v1 is SignatureVerdict.VALID  # v1 covers only the timestamp
    assert not result.authentic
    assert result.problem == "signature-v2 does not match"


def test_wrong_key_invalidates_both() -> None:
    result = check(signed_headers(SPEC_BODY, key="some-other-key"))
    assert (result.signature_v2, result.signature_v1) == (SignatureVerdict.INVALID, SignatureVerdict.INVALID)


def test_v2_without_call_ref_is_invalid() -> None:
    headers = spec_headers()
    del headers["call-ref"]
    assert check(headers).signature_v2 is SignatureVerdict.INVALID


def test_v1_alone_is_not_enough() -> None:
    headers = spec_headers()
    del headers["signature-v2"]
    result = check(headers)
    assert result.signature_v2 is SignatureVerdict.MISSING
    assert result.signature_v1 is SignatureVerdict.VALID
    assert result.problem == "signature-v2 missing"


def test_no_credentials_at_all() -> None:
    result = check({"call-ref": SPEC_CALL_REF, "published-timestamp": SPEC_TIMESTAMP})
    assert (result.signature_v2, result.signature_v1) == (SignatureVerdict.MISSING, SignatureVerdict.MISSING)
    assert not result.authentic


@pytest.mark.parametrize(
    ("presented", "verdict", "authentic"),
    [
        (WEBHOOKS_KEY, KeyVerdict.VALID, True),
        ("nope", KeyVerdict.INVALID, False),
        (None, KeyVerdict.MISSING, True),
    ],
)
def test_webhooks_key_verdicts(presented: str | None, verdict: KeyVerdict, authentic: bool) -> None:
    headers = spec_headers()
    if presented is not None:
        headers["webhooks-key"] = presented
    result = check(headers, webhooks_key=WEBHOOKS_KEY)
    assert result.webhooks_key is verdict
    assert result.authentic is authentic


KEY_ONLY_HEADERS = {
    "request-ref": SPEC_CALL_REF,
    "published-timestamp": SPEC_TIMESTAMP,
    "webhooks-key": WEBHOOKS_KEY,
}


def test_webhooks_key_alone_authenticates_an_unsigned_bulk_webhook() -> None:
    # The bulk_process_end contract declares only request-ref, published-timestamp and webhooks_key (A15).
    result = check(KEY_ONLY_HEADERS, webhooks_key=WEBHOOKS_KEY)
    assert result.authentic
    assert result.authenticity is Authenticity.KEY_ONLY  # never worded as a valid signature
    assert not check(KEY_ONLY_HEADERS, webhooks_key=None).authentic


@pytest.mark.parametrize(
    "path",
    [
        "/transfers/watch",
        "/send/watch",
        "/outgoing_wire_transfers/watch",
        # Not in the contract (only a planned rename, A14): no exception for it.
        "/bulk_process_progress/watch",
        "/something/else",
        "/",
        "/bulk_process_end/watch/extra",
    ],
)
def test_webhooks_key_alone_is_refused_where_the_contract_wants_a_signature(path: str) -> None:
    result = check(KEY_ONLY_HEADERS, webhooks_key=WEBHOOKS_KEY, path=path)
    assert result.webhooks_key is KeyVerdict.VALID
    assert result.authenticity is Authenticity.MISSING
    assert not result.authentic
    assert result.problem is not None and result.problem.startswith("signature-v2 missing")


def test_webhooks_key_plus_a_valid_signature_is_signed_everywhere() -> None:
    headers = spec_headers() | {"webhooks-key": WEBHOOKS_KEY}
    for path in (BULK_PATH, "/transfers/watch"):
        result = check(headers, webhooks_key=WEBHOOKS_KEY, path=path)
        assert result.authentic and result.authenticity is Authenticity.SIGNED


def test_a_wrong_deprecated_signature_still_fails_a_key_only_bulk_webhook() -> None:
    headers = KEY_ONLY_HEADERS | {"signature": "AAAA"}
    result = check(headers, webhooks_key=WEBHOOKS_KEY)
    assert not result.authentic and result.problem == "signature does not match"
    assert result.authenticity is Authenticity.MISSING


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/bulk_process_end/watch", True),
        ("/bulk_process_end/watch/", True),
        ("/hooks/p1/bulk_process_end/watch", True),  # the base URL may carry a prefix
        ("/bulk_process_progress/watch", False),
        ("/transfers/watch", False),
        ("/xbulk_process_end/watch", False),
    ],
)
def test_key_only_allowed(path: str, allowed: bool) -> None:
    assert key_only_allowed(path) is allowed


@pytest.mark.parametrize(
    ("now", "verdict"),
    [
        (NOW, TimestampVerdict.OK),
        (NOW + TOLERANCE_MS, TimestampVerdict.OK),
        (NOW + TOLERANCE_MS + 1, TimestampVerdict.STALE),
        (NOW - TOLERANCE_MS, TimestampVerdict.OK),
        (NOW - TOLERANCE_MS - 1, TimestampVerdict.FUTURE),
    ],
)
def test_timestamp_tolerance_edges(now: int, verdict: TimestampVerdict) -> None:
    result = check(spec_headers(), now=now)
    assert result.timestamp is verdict
    assert result.authentic  # flagged, never rejected: retries keep the original timestamp


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        (None, TimestampVerdict.MISSING),
        ("12a", TimestampVerdict.MALFORMED),
        ("9" * 26, TimestampVerdict.MALFORMED),  # no epoch-ms time, and no SQLite INTEGER either
    ],
)
def test_missing_or_malformed_timestamp(value: str | None, verdict: TimestampVerdict) -> None:
    headers = spec_headers()
    del headers["published-timestamp"]
    if value is not None:
        headers["published-timestamp"] = value
    result = check(headers)
    assert result.timestamp is verdict
    assert result.published_timestamp_ms is None


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/bulk_process_end/watch", EventKind.BULK),
        ("/bulk_process_progress/watch", EventKind.BULK),
        ("/transfers/watch", EventKind.TRANSFER),
        ("/send/watch", EventKind.SEND),
        ("/outgoing_wire_transfers/watch", EventKind.OWT),
        ("/hooks/p1/transfers/watch/", EventKind.TRANSFER),
        ("/", EventKind.UNKNOWN),
        ("/transfers", EventKind.UNKNOWN),
    ],
)
def test_classify_path(path: str, kind: EventKind) -> None:
    assert classify_path(path) is kind


def test_describe_transfer_event() -> None:
    parsed = {
        "eventType": "COMPLETED",
        "publishedTimestamp": "1767225600130",
        "transfer": {"id": {"type": "transfers", "id": "1000005"}, "state": "COMPLETED"},
    }
    facts = describe_event(EventKind.TRANSFER, parsed)
    assert (facts.event_type, facts.object_id, facts.bulk_id) == ("COMPLETED", "1000005", None)


def test_describe_bulk_event_that_is_not_one() -> None:
    facts = describe_event(EventKind.BULK, {"bulkId": 7, "status": "RUNNING"})
    assert facts.bulk_id == "7"
    assert facts.bulk_status is None


def test_headers_dict_redacts_secrets_and_joins_repeats() -> None:
    raw = [(b"webhooks-key", b"secret"), (b"x-a", b"1"), (b"X-A", b"2")]
    assert headers_dict(raw) == {"webhooks-key": REDACTED, "x-a": "1, 2"}
    assert headers_dict(raw, redact=False)["webhooks-key"] == "secret"
