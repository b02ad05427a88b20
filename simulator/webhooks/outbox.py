"""Turning a published event into an outbox row: serialise the body once; sign those bytes when it is sent
(docs/behaviour.md §6.3).

The engine calls ``WebhookPublisher`` while it fills a write batch, so an event is committed in the same
transaction as the state change that caused it; the dispatcher then delivers what the outbox holds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from bulkdash.contract.codec import compact_json, compact_json_bytes
from bulkdash.contract.signatures import sign_v1, sign_v2
from simulator.store.store import OutboxEvent
from simulator.world.model import Programme

BULK_END_PATH = "/bulk_process_end/watch"


class _UuidPool:
    """Random (version 4) UUIDs as text, from one ``os.urandom`` call per 256 ids, formatted straight from
    hex: the syscall per id, then ``uuid.UUID``'s checks and formatting, dominated event creation."""

    def __init__(self) -> None:
        self._hex = ""
        self._pos = 0

    def next(self) -> str:
        pos = self._pos
        if pos >= len(self._hex):
            self._hex, pos = os.urandom(16 * 256).hex(), 0
        self._pos = pos + 32
        h = self._hex[pos : pos + 32]
        # RFC 9562: version nibble 4; variant bits 10xx, i.e. the 17th hex digit is one of 8, 9, a, b.
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}

_new_row = tuple.__new__

new_uuid = _UuidPool().next

__all__ = ["BULK_END_PATH", "WebhookPublisher", "compact_json", "new_uuid", "wire_headers"]


def wire_headers(key: str, call_ref: str, published: str, body: bytes, own: dict[str, str]) -> dict[str, str]:
    """The headers an event is sent (and listed) with: the signed ones (§6.3), computed from the stored body,
    then the event's own stored ones (a bulk event's ``webhooks-key``). Rows written before signing moved
    here stored every header; their values are the same, so they come out exactly as they were stored."""
    headers = {
        "content-type": "application/json",
        "call-ref": call_ref,
        "request-ref": call_ref,
        "published-timestamp": published,
        "signature": sign_v1(key, published),
        "signature-v2": sign_v2(key, call_ref, body, published),
    }
    headers.update(own)
    return headers


class WebhookPublisher:
    """Builds outbox events; knows the per-programme base URLs, the progress path switch and (through
    ``programme_of``) the keys that sign an event when it is sent.

    Signatures are not stored: they are a function of the stored body, call-ref and timestamp, so the
    dispatcher computes them per attempt (``headers_of``). That keeps HMACs off the per-operation path and
    ~300 bytes per event out of the file; events that are never sent (no webhook URL) are never signed.
    """

    def __init__(
        self,
        base_urls: dict[str, str],
        progress_path: str,
        transaction_webhooks: bool,
        programme_of: Callable[[str], Programme],
    ) -> None:
        self.base_urls = dict(base_urls)
        self.progress_path = progress_path
        self.transaction_webhooks = transaction_webhooks
        self.programme_of = programme_of

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
        if with_published_timestamp:
            return self.transaction_event(programme, path, body, now_ms, bulk_id)
        own = compact_json({"webhooks-key": programme.webhooks_key}) if bulk_event else "{}"
        return self._row(programme, path, own, compact_json_bytes(body), now_ms, bulk_id)

    def transaction_event(
        self, programme: Programme, path: str, body: dict[str, Any], now_ms: int, bulk_id: str | None
    ) -> OutboxEvent:
        """A transaction webhook (§6.6): one per operation, so kept to positional calls."""
        # Transaction payloads repeat the header value in the body, right after eventType; ``update`` keeps
        # an existing key where it was put, so eventType stays first.
        stamped: dict[str, Any] = {"eventType": None, "publishedTimestamp": str(now_ms)}
        stamped.update(body)
        return self._row(programme, path, "{}", compact_json_bytes(stamped), now_ms, bulk_id)

    def _row(
        self, programme: Programme, path: str, own: str, raw: bytes, now_ms: int, bulk_id: str | None
    ) -> OutboxEvent:
        # ``tuple.__new__`` makes the same row as ``OutboxEvent(...)`` without the NamedTuple's generated
        # ``__new__`` (a Python frame per event: ~2 % of a run at op delay 0, py-spy).
        base = self.base_urls.get(programme.id)
        if base:
            url = base.rstrip("/") + path
            return _new_row(
                OutboxEvent,
                (new_uuid(), programme.id, bulk_id, path, url, own, raw, "PENDING", now_ms, now_ms),
            )
        return _new_row(
            OutboxEvent, (new_uuid(), programme.id, bulk_id, path, None, own, raw, "SKIPPED", None, now_ms)
        )

    def headers_of(
        self, programme_id: str, event_id: str, created_ms: int, body: bytes, own: dict[str, str]
    ) -> dict[str, str]:
        """The full headers of a stored event (its published-timestamp is its creation time)."""
        return wire_headers(self.programme_of(programme_id).api_key, event_id, str(created_ms), body, own)
