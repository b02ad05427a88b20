"""Webhook headers and signatures (docs/behaviour.md §6.3): what a receiver gets on the wire, byte for byte.

A scripted receiver keeps every request exactly as it arrived, so the signatures are checked with
``bulkdash.contract.signatures`` against the very bytes received, ``webhooks-key`` is seen unredacted, and a
retried request can be compared with its first try. The §6.3 worked example is a fixed test vector.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bulkdash.contract.codec import compact_json_bytes
from bulkdash.contract.signatures import sign_v1, sign_v2, verify_v1, verify_v2
from simulator.settings import SimSettings
from tests.conftest import wait_for
from tests.simulator.helpers import KEY1, Api, sim_settings, transfer
from tests.simulator.webhook_helpers import (
    SIGNED_HEADERS,
    WEBHOOKS_KEY1,
    Hit,
    ScriptedReceiver,
    run_bulk,
    settled,
)

# §6.3 worked example: key, timestamp, call-ref, the §6.2 body, and the two signatures.
SPEC_TIMESTAMP = "1767225600000"
SPEC_CALL_REF = "6f1d2c9e-7a51-4b0e-9a57-3c2f0e8d1b44"
SPEC_EVENT = {
    "bulkId": "1000042",
    "status": "RUNNING",
    "submittedItemsCount": 100,
    "operationStatusCounts": [
        {"status": "SUBMITTED", "count": 75},
        {"status": "RUNNING", "count": 0},
        {"status": "COMPLETED", "count": 24},
        {"status": "FAILED", "count": 1},
        {"status": "CANCELLED", "count": 0},
    ],
}
SPEC_BODY = (
    b'{"bulkId":"1000042","status":"RUNNING","submittedItemsCount":100,'
    b'"operationStatusCounts":[{"status":"SUBMITTED","count":75},{"status":"RUNNING","count":0},'
    b'{"status":"COMPLETED","count":24},{"status":"FAILED","count":1},{"status":"CANCELLED","count":0}]}'
)
SPEC_SIGNATURE = "LSOv44SviaupcBnEenigIMiryNnHLe5ee/QiwXKTyFQ="
SPEC_SIGNATURE_V2 = "QfULiEP3fRRJRB9cNC621G2luYRpWXDzoaUSaMkgj64="


def test_spec_worked_example_is_a_test_vector() -> None:
    body = compact_json_bytes(SPEC_EVENT)
    assert body == SPEC_BODY  # "the compact JSON in 6.2"
    assert sign_v1(KEY1, SPEC_TIMESTAMP) == SPEC_SIGNATURE
    assert sign_v2(KEY1, SPEC_CALL_REF, body, SPEC_TIMESTAMP) == SPEC_SIGNATURE_V2
    assert verify_v1(KEY1, SPEC_TIMESTAMP, SPEC_SIGNATURE)
    assert verify_v2(KEY1, SPEC_CALL_REF, body, SPEC_TIMESTAMP, SPEC_SIGNATURE_V2)
    # One byte of difference anywhere in the message, or another key, and v2 no longer verifies.
    assert not verify_v2(KEY1, SPEC_CALL_REF, body.replace(b"24", b"25"), SPEC_TIMESTAMP, SPEC_SIGNATURE_V2)
    assert not verify_v2(KEY1, SPEC_CALL_REF, body, "1767225600001", SPEC_SIGNATURE_V2)
    assert not verify_v2("sim-api-key-P2", SPEC_CALL_REF, body, SPEC_TIMESTAMP, SPEC_SIGNATURE_V2)
    # Re-serialising with spaces (json.dumps' default) changes the bytes, hence the signature.
    spaced = json.dumps(SPEC_EVENT).encode()
    assert not verify_v2(KEY1, SPEC_CALL_REF, spaced, SPEC_TIMESTAMP, SPEC_SIGNATURE_V2)


def is_compact(body: bytes) -> bool:
    """The body is compact JSON: re-serialising it compactly (stdlib, not our codec) gives the same bytes."""
    return json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode() == body


def check_signed(hit: Hit) -> None:
    h = hit.headers
    missing = [name for name in SIGNED_HEADERS if name not in h]
    assert not missing, (hit.path, missing)
    assert h["content-type"] == "application/json"
    assert h["request-ref"] == h["call-ref"]
    assert uuid.UUID(h["call-ref"]).version == 4
    assert h["published-timestamp"].isdecimal()
    assert verify_v1(KEY1, h["published-timestamp"], h["signature"])
    assert verify_v2(KEY1, h["call-ref"], hit.body, h["published-timestamp"], h["signature-v2"])
    assert is_compact(hit.body), hit.body


@pytest.fixture
async def receiver(request: pytest.FixtureRequest) -> AsyncIterator[ScriptedReceiver]:
    # Parametrised "fail_first" (indirectly): the first try of every event is answered 503, so that
    # retries can be compared with it.
    fail_first = getattr(request, "param", None) == "fail_first"
    async with ScriptedReceiver(lambda n: 503 if fail_first and n == 1 else 204) as rx:
        yield rx


@pytest.fixture
def settings(tmp_path: Path, receiver: ScriptedReceiver) -> SimSettings:
    # A 0.001 scale turns the first retry's 10 s into 10 ms.
    return sim_settings(tmp_path, webhook_base_url_p1=receiver.url, webhook_retry_scale=0.001)


async def test_every_request_carries_the_signed_headers(
    alice: Api, client: httpx.AsyncClient, receiver: ScriptedReceiver
) -> None:
    started_ms = time.time_ns() // 1_000_000
    bulk_id, _ = await run_bulk(
        alice, [transfer(1), transfer(1, dest="5003"), transfer(1), transfer(1)], interval=1
    )
    events = await settled(client)
    assert all(e["deliveryStatus"] == "DELIVERED" for e in events)
    hits = await wait_for(lambda: _hits(receiver), lambda hs: len(hs) >= len(events))
    # 3 progress events (A = 1, 2, 3), the end event, and a transfer event per completed transfer (3).
    assert sorted(h.path for h in hits) == ["/bulk_process_end/watch"] * 4 + ["/transfers/watch"] * 3
    by_ref = {e["eventId"]: e for e in events}
    for hit in hits:
        check_signed(hit)
        h = hit.headers
        assert started_ms <= int(h["published-timestamp"]) <= hit.received_ms
        is_bulk = hit.path == "/bulk_process_end/watch"
        # webhooks-key goes with bulk webhooks only (A15).
        assert h.get("webhooks-key") == (WEBHOOKS_KEY1 if is_bulk else None), hit.path
        if is_bulk:
            assert hit.json["bulkId"] == bulk_id
        # What was sent is what the outbox recorded: same headers, same body.
        event = by_ref[hit.call_ref]
        # ... except the webhooks-key, which the control API shows redacted (simulator/http/control.py).
        shown = {k: v for k, v in event["headers"].items() if k != "webhooks-key"}
        assert {k: h[k] for k in shown} == shown
        assert event["headers"].get("webhooks-key") == ("••••" if is_bulk else None)
        assert set(event["headers"]) == {*SIGNED_HEADERS, *(["webhooks-key"] if is_bulk else [])}
        assert hit.json == event["body"]
    assert len({h.call_ref for h in hits}) == len(hits)  # a new call-ref per event


async def _hits(receiver: ScriptedReceiver) -> list[Hit]:
    return list(receiver.hits)


@pytest.mark.parametrize("receiver", ["fail_first"], indirect=True)
async def test_a_retry_is_byte_identical_to_the_first_try(
    alice: Api, client: httpx.AsyncClient, receiver: ScriptedReceiver
) -> None:
    await run_bulk(alice, [transfer(1)] * 4, interval=1)
    events = await settled(client)
    assert all(e["deliveryStatus"] == "DELIVERED" for e in events)
    assert all([a.get("status") for a in e["attempts"]] == [503, 204] for e in events)
    for event in events:
        first, retry = receiver.for_ref(event["eventId"])
        assert (first.answered, retry.answered) == (503, 204)
        check_signed(retry)
        assert retry.body == first.body
        # Same call-ref/request-ref, published-timestamp, signatures (and webhooks-key): every header the
        # simulator sets is repeated verbatim.
        for name in (*SIGNED_HEADERS, "webhooks-key"):
            assert retry.headers.get(name) == first.headers.get(name), name
        assert retry.path == first.path
