"""Helpers for the fault-plan tests: a recording webhook receiver, a settable clock, bulk runners."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bulkdash.serving import QuietServer
from tests.conftest import wait_for
from tests.simulator.helpers import Api, transfer

FINAL = ("COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED")


class FakeClock:
    """Monotonic seconds that move only when a test moves them (fault windows, token buckets)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Recorder:
    """Every webhook request, in arrival order; answers ``status`` (204 by default)."""

    url: str = ""
    hits: list[Hit] = field(default_factory=list)
    status: int = 204

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.hits.append(Hit(request.url.path, dict(request.headers), body, time.monotonic()))
        return Response(status_code=self.status)


@asynccontextmanager
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()
    server = QuietServer(Starlette(routes=[Route("/{path:path}", rec.handle, methods=["POST"])]))
    await server.start()
    rec.url = server.url
    try:
        yield rec
    finally:
        await server.stop()


async def set_plan(client: httpx.AsyncClient, plan: dict[str, Any]) -> dict[str, Any]:
    resp = await client.put("/_sim/faults", json=plan)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def final_bulk(api: Api, bulk_id: str, timeout: float = 10.0) -> dict[str, Any]:
    return await wait_for(lambda: api.bulk(bulk_id), lambda b: b["status"] in FINAL, timeout=timeout)


async def run_bulk(api: Api, items: list[dict[str, Any]] | int, body: dict[str, Any] | None = None) -> str:
    """Submit (``items``, or that many valid transfers), execute, wait for a final state; the bulk id."""
    if isinstance(items, int):
        items = [transfer(100 + i) for i in range(items)]
    bulk_id = await api.submit(items)
    resp = await api.post(f"/bulks/{bulk_id}/execute", json=body or {})
    assert resp.status_code == 204, resp.text
    await final_bulk(api, bulk_id)
    return bulk_id


async def operations(api: Api, bulk_id: str) -> list[dict[str, Any]]:
    resp = await api.get(f"/bulks/{bulk_id}/operations")
    assert resp.status_code == 200, resp.text
    return resp.json()["operations"]


async def settled_webhooks(
    client: httpx.AsyncClient, bulk_id: str, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """The bulk's outbox once nothing is PENDING."""

    async def probe() -> list[dict[str, Any]]:
        return (await client.get("/_sim/webhooks", params={"bulkId": bulk_id})).json()

    return await wait_for(
        probe, lambda evs: bool(evs) and all(e["deliveryStatus"] != "PENDING" for e in evs), timeout=timeout
    )
