"""Turning a published event into an outbox row: serialise the body once, sign those bytes (BEHAVIOR §6.3).

The engine calls ``WebhookPublisher`` while it fills a write batch, so an event is committed in the same
transaction as the state change that caused it; the dispatcher then delivers what the outbox holds.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from bulkdash.contract.codec import compact_json, compact_json_bytes
from bulkdash.contract.signatures import sign_v1, sign_v2
from simulator.store.store import OutboxEvent
from simulator.world.model import Programme

BULK_END_PATH = "/bulk_process_end/watch"


class _UuidPool:
    """UUID4s from one ``os.urandom`` call per 256 ids: the syscall per id dominated event creation."""

    def __init__(self) -> None:
        self._buf = b""
        self._pos = 0

    def next(self) -> str:
        if self._pos >= len(self._buf):
            self._buf, self._pos = os.urandom(16 * 256), 0
        raw = self._buf[self._pos : self._pos + 16]
        self._pos += 16
        return str(uuid.UUID(bytes=raw, version=4))


new_uuid = _UuidPool().next

__all__ = ["BULK_END_PATH", "WebhookPublisher", "compact_json", "new_uuid"]


class WebhookPublisher:
    """Builds signed outbox events; knows the per-programme base URLs and the progress path switch."""

    def __init__(self, base_urls: dict[str, str], progress_path: str, transaction_webhooks: bool) -> None:
        self.base_urls = dict(base_urls)
        self.progress_path = progress_path
        self.transaction_webhooks = transaction_webhooks

    def event(
        self,
        programme: Programme,
        path: str,
        body: dict[str, Any],
        *,
        now_ms: int,
        bulk_id: str | None,
        bulk_event: bool,
        with_published_timestamp: bool = False,
    ) -> OutboxEvent:
        call_ref = new_uuid()
        published = str(now_ms)
        if with_published_timestamp:
            # Transaction payloads repeat the header value in the body (§6.6).
            body = {
                "eventType": body.get("eventType"),
                "publishedTimestamp": published,
                **{k: v for k, v in body.items() if k != "eventType"},
            }
        raw = compact_json_bytes(body)
        key = programme.api_key
        headers = {
            "content-type": "application/json",
            "call-ref": call_ref,
            "request-ref": call_ref,
            "published-timestamp": published,
            "signature": sign_v1(key, published),
            "signature-v2": sign_v2(key, call_ref, raw, published),
        }
        if bulk_event:
            headers["webhooks-key"] = programme.webhooks_key
        base = self.base_urls.get(programme.id)
        url = base.rstrip("/") + path if base else None
        return OutboxEvent(
            event_id=call_ref,
            programme=programme.id,
            bulk_id=bulk_id,
            path=path,
            url=url,
            headers=headers,
            body=raw,
            delivery_status="PENDING" if url else "SKIPPED",
            next_attempt_ms=now_ms if url else None,
            created_ms=now_ms,
        )
