"""Webhook delivery faults: receiver outages, duplicates, out-of-order delivery, delays, a wrong signature and
a stale ``published-timestamp``.

The dispatcher hands each attempt to :meth:`WebhookLayer.deliver` instead of posting it itself, and only
while some active plan has a ``[webhooks]`` section. What it does:

* **outage** — inside a window the attempt raises ``httpx.ConnectError`` without sending anything, so the
  dispatcher records a connection error and Weavr's normal retry schedule (§6.5) applies;
* **duplicate** — after a 2xx the same bytes go out once more with the same ``call-ref`` (receivers dedupe);
* **out of order** — the first attempt is held until the next event of the same selection has been sent;
* **delay** — the first attempt is held for ``delay_ms``;
* **bad signature / stale timestamp** — the *wire* headers are changed (signed with a wrong key, or re-signed
  correctly over an old timestamp); the stored event, and so ``GET /_sim/webhooks``, is never changed.

Which events are hit is decided as their batch is sealed, before it is committed and so before the
dispatcher can read them (:meth:`WebhookLayer.note_sealed`, an ``Engine.on_sealed`` callback): events are
numbered per selection in publication order, which the outbox fixes, so the same run hits the same events
whatever the delivery timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bulkdash.contract.signatures import sign_v1, sign_v2, verify_v1
from bulkdash.waiting import wait_set
from simulator.faults.plan import EventSelector, FaultPlan, WebhookFaults, derive_rng
from simulator.store.store import WriteBatch

#: The key a "bad signature" is made with: anything but the programme's api-key.
WRONG_KEY = "not-the-programme-api-key"
#: 4xx answers Weavr retries (§6.5); every other 4xx ends the event's delivery.
_RETRIED_4XX = frozenset({408, 409, 425})


class _Selection:
    """One selector of one plan: numbers matching events 1, 2, … and says which of them are hit."""

    __slots__ = ("count", "events", "every", "fraction", "paths", "rng")

    def __init__(self, selector: EventSelector, seed: int, purpose: str) -> None:
        self.paths = tuple(selector.paths) if selector.paths else None
        self.events = frozenset(selector.events or ())
        self.every = selector.every
        self.fraction = selector.fraction
        self.rng = derive_rng(seed, "webhooks", purpose)
        self.count = 0

    def take(self, path: str) -> int | None:
        """The event's number in this selection when it is hit, else None (numbers count every match)."""
        if self.paths is not None and not path.rstrip("/").endswith(self.paths):
            return None
        self.count += 1
        n = self.count
        # Draw for every matching event, hit or not, so the stream stays aligned with publication order.
        drawn = self.rng.random() if self.fraction is not None else 1.0
        if not (self.events or self.every or self.fraction):
            return n
        if n in self.events or (self.every and n % self.every == 0) or drawn < (self.fraction or 0):
            return n
        return None

    def numbered(self, path: str) -> bool:
        return self.paths is None or path.rstrip("/").endswith(self.paths)


@dataclass(slots=True)
class EventFaults:
    """What happens to one event, fixed when it was committed."""

    plan: WebhookPlanFaults
    duplicate: bool = False
    delay_ms: int = 0
    hold_for: int | None = None  # out of order: wait until event number hold_for has been sent
    order_number: int | None = None  # its own number in the out-of-order selection
    bad_signature: bool = False
    stale_by_s: int = 0
    duplicated: bool = field(default=False)


class WebhookPlanFaults:
    """The ``[webhooks]`` section of one plan, with its numbering state."""

    def __init__(self, spec: WebhookFaults, seed: int, activated_at: float) -> None:
        self.spec = spec
        self.activated_at = activated_at
        self.dup = _Selection(spec.duplicates, seed, "duplicates") if spec.duplicates else None
        self.ooo = _Selection(spec.out_of_order, seed, "out-of-order") if spec.out_of_order else None
        self.delay = _Selection(spec.delays, seed, "delays") if spec.delays else None
        self.bad = _Selection(spec.bad_signature, seed, "bad-signature") if spec.bad_signature else None
        self.stale = (
            _Selection(spec.stale_timestamp, seed, "stale-timestamp") if spec.stale_timestamp else None
        )
        self.sent: dict[int, asyncio.Event] = {}  # out-of-order numbers → "that event has been sent"

    def sent_signal(self, number: int) -> asyncio.Event:
        signal = self.sent.get(number)
        if signal is None:
            signal = self.sent[number] = asyncio.Event()
        return signal

    def classify(self, path: str) -> EventFaults:
        faults = EventFaults(self)
        if self.dup is not None:
            faults.duplicate = self.dup.take(path) is not None
        if self.ooo is not None and self.ooo.numbered(path):
            number = self.ooo.count + 1
            faults.order_number = number
            if self.ooo.take(path) is not None:
                faults.hold_for = number + 1
        if self.delay is not None and self.delay.take(path) is not None:
            assert self.spec.delays is not None
            faults.delay_ms = self.spec.delays.delay_ms
        if self.bad is not None:
            faults.bad_signature = self.bad.take(path) is not None
        if self.stale is not None and self.stale.take(path) is not None:
            assert self.spec.stale_timestamp is not None
            faults.stale_by_s = self.spec.stale_timestamp.stale_by_s
        return faults

    def in_outage(self, now: float) -> bool:
        elapsed = now - self.activated_at
        return any(w.contains(elapsed) for w in self.spec.outages)


def _resign(headers: dict[str, str], body: bytes, keys: list[str], published: str) -> dict[str, str]:
    """The headers with ``published-timestamp`` replaced and both signatures made again with the key that
    signed the original (found by checking the v1 signature against each programme's key)."""
    out = dict(headers)
    key = next(
        (
            k
            for k in keys
            if verify_v1(k, headers.get("published-timestamp", ""), headers.get("signature", ""))
        ),
        None,
    )
    if key is None:  # unknown signer: sign with the first key rather than leave a mismatched pair
        key = keys[0] if keys else WRONG_KEY
    call_ref = headers.get("call-ref", "")
    out["published-timestamp"] = published
    out["signature"] = sign_v1(key, published)
    out["signature-v2"] = sign_v2(key, call_ref, body, published)
    return out


def wire_headers(
    faults: EventFaults, headers: dict[str, str], body: bytes, keys: list[str]
) -> dict[str, str]:
    """The headers as they go on the wire for this event (the stored ones are never touched)."""
    if faults.stale_by_s:
        published = int(headers.get("published-timestamp", "0") or 0)
        headers = _resign(headers, body, keys, str(max(0, published - faults.stale_by_s * 1000)))
    if faults.bad_signature:
        headers = dict(headers)
        published = headers.get("published-timestamp", "")
        headers["signature"] = sign_v1(WRONG_KEY, published)
        headers["signature-v2"] = sign_v2(WRONG_KEY, headers.get("call-ref", ""), body, published)
    return headers


class WebhookLayer:
    """The dispatcher's entry point for delivery faults."""

    def __init__(
        self,
        by_scope: dict[str | None, WebhookPlanFaults | None],
        clock: Callable[[], float],
        signing_keys: Callable[[], list[str]],
        bulk_identity: Callable[[str | None], str | None],
        events: dict[str, EventFaults],
    ) -> None:
        self.by_scope = by_scope
        self.clock = clock
        self.signing_keys = signing_keys
        self.bulk_identity = bulk_identity
        # event_id → its faults; owned by the controller so a rebuilt layer (another scope's plan
        # changed) keeps the decisions already made for events still being delivered.
        self.events = events

    def _for(self, identity: str | None) -> WebhookPlanFaults | None:
        scope = identity if identity is not None and identity in self.by_scope else None
        return self.by_scope.get(scope)

    def note_sealed(self, batch: WriteBatch) -> None:
        """Engine.on_sealed: number the batch's events in publication (outbox) order and fix their faults,
        before the commit makes them visible to the dispatcher."""
        for event in batch.events:
            if event.url is None:  # SKIPPED: never delivered, so it takes no number
                continue
            plan = self._for(self.bulk_identity(event.bulk_id))
            if plan is not None:
                self.events[event.event_id] = plan.classify(event.path)

    async def deliver(
        self,
        client: httpx.AsyncClient,
        event_id: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        attempt: int,
    ) -> int:
        """Post one attempt as the plan says; returns the HTTP status or raises like ``client.post``."""
        faults = self.events.get(event_id)
        plan = faults.plan if faults is not None else self._for(None)
        try:
            if faults is not None and attempt == 1:
                if faults.delay_ms:
                    await asyncio.sleep(faults.delay_ms / 1000)
                if faults.hold_for is not None:
                    spec = faults.plan.spec.out_of_order
                    hold_s = (spec.max_hold_ms if spec else 5_000) / 1000
                    await wait_set(faults.plan.sent_signal(faults.hold_for), hold_s)
            if plan is not None and plan.in_outage(self.clock()):
                raise httpx.ConnectError("simulated receiver outage (fault plan)")
            sent = headers if faults is None else wire_headers(faults, headers, body, self.signing_keys())
            response = await client.post(url, content=body, headers=sent)
            status = response.status_code
            if faults is not None and faults.duplicate and not faults.duplicated and response.is_success:
                faults.duplicated = True
                await client.post(url, content=body, headers=sent)  # same call-ref: a true duplicate
            if faults is not None and (200 <= status < 300 or (status < 500 and status not in _RETRIED_4XX)):
                # Final (delivered, or refused for good, §6.5): its decisions are no longer needed.
                self.events.pop(event_id, None)
            return status
        finally:
            if faults is not None and faults.order_number is not None:
                # Sent (or given up on): an event held behind this one may go now.
                faults.plan.sent_signal(faults.order_number).set()


def compile_plan(plan: FaultPlan, activated_at: float) -> WebhookPlanFaults | None:
    return WebhookPlanFaults(plan.webhooks, plan.seed, activated_at) if plan.webhooks is not None else None


__all__ = ["WRONG_KEY", "EventFaults", "WebhookLayer", "WebhookPlanFaults", "compile_plan", "wire_headers"]
