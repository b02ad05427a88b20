"""Helpers shared by the webhook receiver tests: the spec's worked example, a settable clock, signing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from bulkdash.contract.signatures import sign_v1, sign_v2
from bulkdash.webhooks import ReceivedWebhook

# docs/behaviour.md §6.3 worked example.
SPEC_KEY = "sim-api-key-P1"
SPEC_TIMESTAMP = "1767225600000"
SPEC_CALL_REF = "6f1d2c9e-7a51-4b0e-9a57-3c2f0e8d1b44"
SPEC_BODY = (
    b'{"bulkId":"1000042","status":"RUNNING","submittedItemsCount":100,'
    b'"operationStatusCounts":[{"status":"SUBMITTED","count":75},{"status":"RUNNING","count":0},'
    b'{"status":"COMPLETED","count":24},{"status":"FAILED","count":1},{"status":"CANCELLED","count":0}]}'
)
SPEC_SIGNATURE = "LSOv44SviaupcBnEenigIMiryNnHLe5ee/QiwXKTyFQ="
SPEC_SIGNATURE_V2 = "QfULiEP3fRRJRB9cNC621G2luYRpWXDzoaUSaMkgj64="
WEBHOOKS_KEY = "whk-P1-secret"
BULK_PATH = "/bulk_process_end/watch"
WAIT_S = 5.0


class FakeClock:
    """Epoch milliseconds that only move when a test moves them."""

    def __init__(self, now_ms: int = int(SPEC_TIMESTAMP) + 1_000) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


def signed_headers(
    body: bytes,
    *,
    call_ref: str | None = None,
    timestamp: str = SPEC_TIMESTAMP,
    key: str = SPEC_KEY,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers exactly as the simulator sends them (§6.3), signed with ``key``."""
    ref = call_ref or str(uuid.uuid4())
    headers = {
        "content-type": "application/json",
        "call-ref": ref,
        "request-ref": ref,
        "published-timestamp": timestamp,
        "signature": sign_v1(key, timestamp),
        "signature-v2": sign_v2(key, ref, body, timestamp),
    }
    headers.update(extra or {})
    return headers


def bulk_body(bulk_id: str = "1000042", status: str = "RUNNING", completed: int = 24) -> bytes:
    return (
        f'{{"bulkId":"{bulk_id}","status":"{status}","submittedItemsCount":100,"operationStatusCounts":['
        f'{{"status":"SUBMITTED","count":{100 - completed}}},{{"status":"COMPLETED","count":{completed}}}]}}'
    ).encode()


async def next_record(subscription: Any) -> ReceivedWebhook:
    """The subscription's next record, failing (not hanging) when none comes."""
    async with asyncio.timeout(WAIT_S):
        return await anext(subscription)
