"""``GET /multi/bulks/{id}`` served by ``WeavrEdge`` itself answers exactly what the routing layers answer,
for good requests and refusals alike; and the read routes tried first change no route's answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.types import Message

from simulator.server import Simulator
from tests.simulator.helpers import KEY1, Api, transfer


async def call(
    app: Any, method: str, path: str, headers: dict[str, str], query: bytes = b""
) -> list[Message]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def answer(sent: list[Message]) -> tuple[int, dict[bytes, bytes], bytes]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k: v for k, v in start["headers"] if k != b"request-ref"}
    return (
        start["status"],
        headers,
        b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
    )


async def test_the_direct_read_answers_as_the_routes_do(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, _ = sim
    edge = simulator.asgi
    assert edge._reads is not None  # the simulator's app is built so that the edge serves the read
    bulk_id = await alice.submit([transfer()])
    good = alice.headers
    cases: list[tuple[str, dict[str, str], bytes]] = [
        (f"/multi/bulks/{bulk_id}", good, b""),
        (f"/multi/bulks/{bulk_id}", good, b"x=1"),
        (f"/multi/bulks/000{bulk_id}", good, b""),
        ("/multi/bulks/999999", good, b""),
        ("/multi/bulks/abc", good, b""),
        ("/multi/bulks/transfers", good, b""),
        ("/multi/bulks/" + "9" * 40, good, b""),
        (f"/multi/bulks/{bulk_id}", {"api-key": KEY1}, b""),
        (f"/multi/bulks/{bulk_id}", {"api-key": "wrong", "authorization": good["authorization"]}, b""),
        (f"/multi/bulks/{bulk_id}", {}, b""),
    ]
    for path, headers, query in cases:
        direct = answer(await call(edge, "GET", path, headers, query))
        reads, edge._reads = edge._reads, None
        try:
            routed = answer(await call(edge, "GET", path, headers, query))
        finally:
            edge._reads = reads
        assert direct == routed, (path, headers, query)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/bulks/transfers", 400), ("PUT", "/bulks/transfers", 405), ("GET", "/bulks", 200)],
)
async def test_routes_answer_as_before_whatever_their_order(
    alice: Api, client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    resp = await client.request(method, "/multi" + path, headers=alice.headers)
    assert resp.status_code == status, resp.text
    if status == 400:  # a bulk id that is not a number, as any GET of /bulks/{bulk_id}
        assert resp.json()["syntaxErrors"]["invalidFields"][0]["fieldName"] == "bulk_id"
