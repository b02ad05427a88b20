"""Helpers for the simulator's webhook tests (docs/behaviour.md §6): real receivers on loopback and outbox
reads.

Two receivers are used. ``bulkdash.webhooks.WebhookReceiver`` is the dashboard's own (it verifies
signatures and marks duplicates by call-ref). ``ScriptedReceiver`` is a tiny Starlette app served with
``QuietServer`` that keeps every request exactly as it arrived (all headers, unredacted, and the raw body
bytes) and answers whatever status the test scripts for the n-th try of each call-ref, optionally slowly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bulkdash.serving import QuietServer
from bulkdash.webhooks import ReceivedWebhook, ReceiverSettings, WebhookReceiver
from simulator.server import Simulator
from tests.conftest import wait_for
from tests.simulator.helpers import KEY1, Api, Gate

WEBHOOKS_KEY1 = "sim-webhooks-key-P1"
BULK_END_PATH = "/bulk_process_end/watch"
PROGRESS_PATH = "/bulk_process_progress/watch"
FINAL = ("COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED")
#: The headers of §6.3 that every webhook carries (``webhooks-key`` is checked separately).
SIGNED_HEADERS = (
    "content-type",
    "call-ref",
    "request-ref",
    "published-timestamp",
    "signature",
    "signature-v2",
)

#: ``answer(n)`` → the status to answer the n-th (1-based) request carrying one call-ref.
Answer = Callable[[int], int]


def always(status: int) -> Answer:
    return lambda _n: status


ANSWER_204 = always(204)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Hit:
    """One request as the scripted receiver saw it."""

    path: str
    headers: dict[str, str]  # lower-cased names, values exactly as received
    body: bytes
    received_ms: int
    answered: int

    @property
    def call_ref(self) -> str:
        return self.headers["call-ref"]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedReceiver:
    """Records every request raw and answers ``answer(n)`` for the n-th try of a call-ref (default 204).

    ``hold(n)`` seconds (or ``hold_s`` for every try) pass before the n-th try is answered: a slow
    receiver; ``release()`` answers the held ones at once, so a test's teardown never waits for them.
    """

    def __init__(
        self,
        answer: Answer = ANSWER_204,
        *,
        hold_s: float = 0.0,
        hold: Callable[[int], float] | None = None,
        port: int = 0,
    ) -> None:
        self.answer = answer
        self.hold = hold if hold is not None else (lambda _n: hold_s)
        self.hits: list[Hit] = []
        self.started = 0  # requests whose handler has begun (a held request counts before it is answered)
        self._tries: dict[str, int] = {}
        self._released = asyncio.Event()
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        self.server = QuietServer(app, "127.0.0.1", port)

    @property
    def url(self) -> str:
        return self.server.url

    async def _handle(self, request: Request) -> Response:
        self.started += 1
        body = await request.body()
        received = now_ms()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.scope["headers"]}
        ref = headers.get("call-ref", "")
        self._tries[ref] = n = self._tries.get(ref, 0) + 1
        status = self.answer(n)
        hold_s = self.hold(n)
        if hold_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), hold_s)
        self.hits.append(Hit(request.url.path, headers, body, received, status))
        return Response(status_code=status)

    def release(self) -> None:
        self._released.set()

    def for_ref(self, call_ref: str) -> list[Hit]:
        return [h for h in self.hits if h.call_ref == call_ref]

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        self.release()
        await self.server.stop()

    async def __aenter__(self) -> ScriptedReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@contextlib.asynccontextmanager
async def dashboard_receiver(db: Path, port: int = 0) -> AsyncIterator[WebhookReceiver]:
    """The dashboard's receiver, checking P1's api-key and webhooks key, on ``port`` (0: any)."""
    settings = ReceiverSettings(signing_key=KEY1, webhooks_key=WEBHOOKS_KEY1, db_path=db, port=port)
    receiver = WebhookReceiver(settings)
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


async def received(receiver: WebhookReceiver, bulk_id: str | None = None) -> list[ReceivedWebhook]:
    return await receiver.history(bulk_id=bulk_id, limit=100_000)


# --- the simulator's side ---------------------------------------------------------------------------


async def outbox(client: httpx.AsyncClient, bulk_id: str | None = None) -> list[dict[str, Any]]:
    """``GET /_sim/webhooks[?bulkId=]``: every event and its attempts, in publication order."""
    resp = await client.get("/_sim/webhooks", params={"bulkId": bulk_id} if bulk_id else None)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def settled(
    client: httpx.AsyncClient, bulk_id: str | None = None, *, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """The outbox once no event is PENDING any more (delivered, failed or skipped)."""
    return await wait_for(
        lambda: outbox(client, bulk_id),
        lambda evs: bool(evs) and all(e["deliveryStatus"] != "PENDING" for e in evs),
        timeout=timeout,
    )


async def set_base_url(client: httpx.AsyncClient, url: str | None, programme: str = "P1") -> None:
    resp = await client.put("/_sim/config", json={"webhookBaseUrl": {programme: url}})
    assert resp.status_code == 204, resp.text


def counts_of(body: dict[str, Any]) -> dict[str, int]:
    return {c["status"]: c["count"] for c in body["operationStatusCounts"]}


def attempted(body: dict[str, Any]) -> int:
    """A of §6.4: operations attempted (COMPLETED + FAILED) according to an event body."""
    c = counts_of(body)
    return c["COMPLETED"] + c["FAILED"]


def thresholds_and_ends(bodies: list[dict[str, Any]]) -> tuple[list[int], list[str]]:
    """(A of each RUNNING event, sorted; statuses of the end events) from bulk event bodies."""
    progress = sorted(attempted(b) for b in bodies if b["status"] == "RUNNING")
    ends = [b["status"] for b in bodies if b["status"] != "RUNNING"]
    return progress, ends


async def execute(api: Api, bulk_id: str, *, interval: int | None = None, mode: str | None = None) -> None:
    body: dict[str, Any] = {}
    if interval is not None:
        body["webhookInterval"] = interval
    if mode is not None:
        body["mode"] = mode
    resp = await api.post(f"/bulks/{bulk_id}/execute", json=body)
    assert resp.status_code == 204, resp.text


async def final_bulk(api: Api, bulk_id: str, *, timeout: float = 20.0) -> dict[str, Any]:
    return await wait_for(lambda: api.bulk(bulk_id), lambda b: b["status"] in FINAL, timeout=timeout)


async def run_bulk(
    api: Api,
    items: list[dict[str, Any]],
    *,
    interval: int | None = None,
    mode: str | None = None,
    path: str = "/bulks/transfers",
) -> tuple[str, dict[str, Any]]:
    """Submit, execute and wait for the final state: (bulk id, the final bulk)."""
    bulk_id = await api.submit(items, path=path)
    await execute(api, bulk_id, interval=interval, mode=mode)
    return bulk_id, await final_bulk(api, bulk_id)


async def received_bodies(
    client: httpx.AsyncClient, receiver: WebhookReceiver, bulk_id: str
) -> list[dict[str, Any]]:
    """Bodies of the bulk's events as the receiver got them, once the outbox has settled.

    Asserts the delivery contract on the way: every event DELIVERED, each received once and verified.
    """
    events = await settled(client, bulk_id)
    assert all(e["deliveryStatus"] == "DELIVERED" for e in events), events
    records = await wait_for(lambda: received(receiver, bulk_id), lambda rs: len(rs) >= len(events))
    assert sorted(r.call_ref or "" for r in records) == sorted(e["eventId"] for e in events)
    assert all(r.accepted and not r.duplicate for r in records), records
    return [r.json for r in records]


async def act_while_held(sim: Simulator, api: Api, bulk_id: str, gate: Gate, action: str) -> httpx.Response:
    """``pause`` or ``cancel`` while the gate holds an operation; it lands right after that operation."""
    async with asyncio.timeout(10):
        await gate.reached.wait()
    task = asyncio.create_task(api.post(f"/bulks/{bulk_id}/{action}"))
    live = sim.engine.bulks[int(bulk_id)]
    await wait_for(lambda: asyncio.sleep(0, live.stop_request), bool)
    gate.release.set()
    return await task
