"""The HTTP edge against inputs the store cannot hold and against bugs: integers beyond their format, JSON
nested too deep, ids too long to exist, whole numbers written 100.0, and exactly one Weavr 500 (with one
log line) when a handler fails (docs/behaviour.md §3.3, §3.4, §8)."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from simulator.errors import StoreUnavailable
from simulator.http.app import WeavrEdge
from simulator.server import Simulator
from tests.simulator.helpers import KEY1, PASSWORD, Api, transfer

INT32_MAX = "2147483647"
INT64_MAX = "9223372036854775807"
INT64_MIN = "-9223372036854775808"
MALFORMED = {"message": "Malformed request body"}
INTERNAL = {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}


def field_errors(resp: httpx.Response) -> list[tuple[str, str, list[str]]]:
    assert resp.status_code == 400, resp.text
    return [(f["fieldName"], f["error"], f["params"]) for f in resp.json()["syntaxErrors"]["invalidFields"]]


# --- integers beyond Weavr's formats -------------------------------------------------------------------


async def test_a_webhook_interval_beyond_int32_is_a_400_and_the_bulk_can_still_run(alice: Api) -> None:
    bulk_id = await alice.submit([transfer()])
    resp = await alice.post(f"/bulks/{bulk_id}/execute", json={"webhookInterval": 99999999999999999999})
    assert field_errors(resp) == [("webhookInterval", "AT_MOST", [INT32_MAX])]
    assert resp.headers["request-ref"]
    resp = await alice.post(f"/bulks/{bulk_id}/execute", json={"webhookInterval": 2**31})
    assert field_errors(resp) == [("webhookInterval", "AT_MOST", [INT32_MAX])]
    assert (await alice.bulk(bulk_id))["status"] == "SUBMITTED"  # nothing reached the store
    ok = await alice.post(f"/bulks/{bulk_id}/execute", json={"webhookInterval": 2**31 - 1})
    assert ok.status_code == 204, ok.text


async def test_an_amount_beyond_int64_is_a_400_naming_the_item_field(alice: Api) -> None:
    item = transfer()
    item["requestBody"]["destinationAmount"]["amount"] = 2**63
    resp = await alice.post("/bulks/transfers", json=[transfer(), item])
    assert field_errors(resp) == [("[1].requestBody.destinationAmount.amount", "AT_MOST", [INT64_MAX])]


async def test_numbers_a_parser_cannot_hold_make_the_body_malformed(alice: Api) -> None:
    """docs/behaviour.md §3.3: up to what the parser holds, a field's range decides (AT_MOST); beyond it (more
    than 4,300 digits, beyond a double) the body is Malformed — and nothing is stored either way."""
    template = json.dumps([transfer()]).replace('"amount": 100', '"amount": AMOUNT')
    assert "AMOUNT" in template
    for amount in ("9" * 40, "1e300"):
        resp = await alice.post("/bulks/transfers", content=template.replace("AMOUNT", amount).encode())
        assert field_errors(resp) == [("[0].requestBody.destinationAmount.amount", "AT_MOST", [INT64_MAX])]
    for amount in ("9" * 5000, "-" + "9" * 5000, "1e400", "-1e400"):
        resp = await alice.post("/bulks/transfers", content=template.replace("AMOUNT", amount).encode())
        assert (resp.status_code, resp.json()) == (400, MALFORMED), amount[:10]
    lone = json.dumps([transfer()]).replace('"requestBody": {', '"requestBody": {"tag": "a\\ud800", ', 1)
    resp = await alice.post("/bulks/transfers", content=lone.encode())
    assert (resp.status_code, resp.json()) == (400, {"message": "Invalid type for field [0].requestBody.tag"})
    assert (await alice.get("/bulks")).json()["count"] == 0


@pytest.mark.parametrize(
    ("query", "field", "error", "bound"),
    [
        ("offset=2147483648", "offset", "AT_MOST", INT32_MAX),
        ("limit=2147483648", "limit", "AT_MOST", INT32_MAX),
        ("sequence=9223372036854775808", "sequence", "AT_MOST", INT64_MAX),
        ("sequence=-9223372036854775809", "sequence", "AT_LEAST", INT64_MIN),
        # past int()'s 4,300-digit limit
        pytest.param("offset=" + "9" * 5000, "offset", "AT_MOST", INT32_MAX, id="offset-5000-digits"),
        pytest.param("sequence=-" + "9" * 5000, "sequence", "AT_LEAST", INT64_MIN, id="sequence-5000-digits"),
    ],
)
async def test_query_integers_beyond_their_format(
    alice: Api, query: str, field: str, error: str, bound: str
) -> None:
    bulk_id = await alice.submit([transfer()])
    resp = await alice.get(f"/bulks/{bulk_id}/operations?{query}")
    assert field_errors(resp) == [(field, error, [bound])]


async def test_query_integers_across_their_whole_format(alice: Api) -> None:
    bulk_id = await alice.submit([transfer()])
    for sequence, count in ((INT64_MIN, 0), (INT64_MAX, 0), ("1", 1), ("+1", 1)):
        resp = await alice.get(f"/bulks/{bulk_id}/operations", params={"sequence": sequence})
        assert resp.status_code == 200, (sequence, resp.text)
        assert resp.json()["count"] == count
    capped = await alice.get(f"/bulks?limit={INT32_MAX}&offset={INT32_MAX}")
    assert capped.status_code == 200 and capped.json()["responseCount"] == 0
    for not_integer in ("100.0", "1_0", " 1", "１"):  # query strings are not JSON: only digits
        resp = await alice.get("/bulks", params={"limit": not_integer})
        assert resp.status_code == 400 and resp.json() == {"message": "Invalid type for field limit"}


# --- whole numbers written as floats -------------------------------------------------------------------


async def test_whole_numbers_are_integers_and_stay_integers(alice: Api) -> None:
    bulk_id = await alice.submit([transfer(amount=100.0)])  # type: ignore[arg-type]
    ops = (await alice.get(f"/bulks/{bulk_id}/operations")).json()["operations"]
    assert json.loads(ops[0]["requestPayload"])["destinationAmount"]["amount"] == 100
    assert '"amount":100}' in ops[0]["requestPayload"]  # what ran and what is echoed is an integer
    half = await alice.post(f"/bulks/{bulk_id}/execute", json={"webhookInterval": 10.5})
    assert half.status_code == 400 and half.json() == {"message": "Invalid type for field webhookInterval"}
    ok = await alice.post(f"/bulks/{bulk_id}/execute", json={"webhookInterval": 10.0})
    assert ok.status_code == 204, ok.text


# --- ids too long to exist ----------------------------------------------------------------------------


async def test_digit_ids_too_long_to_exist_are_404_not_400(alice: Api) -> None:
    long_id = "1" * 19
    for resp in (
        await alice.get(f"/bulks/{long_id}"),
        await alice.get(f"/bulks/{'9' * 5000}/operations"),
        await alice.post(f"/bulks/{long_id}/execute", json={}),
        await alice.post(f"/bulks/{long_id}/cancel"),
    ):
        assert resp.status_code == 404, resp.text
        assert resp.json() == {"code": "NOT_FOUND", "message": "Resource not found"}


async def test_leading_zeros_do_not_make_an_id_too_long(alice: Api) -> None:
    bulk_id = await alice.submit([transfer()])
    padded = "0" * 30 + bulk_id
    assert (await alice.bulk(padded))["bulkId"] == bulk_id


# --- JSON nested too deep -----------------------------------------------------------------------------

DEEP = b"[" * 100_000


async def test_deep_json_is_malformed_everywhere(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, client = sim
    bulk_id = await alice.submit([transfer()])
    json_headers = {"content-type": "application/json"}
    calls = [
        ("POST", "/multi/bulks/transfers", {**alice.headers, **json_headers}),
        ("POST", f"/multi/bulks/{bulk_id}/execute", {**alice.headers, **json_headers}),
        ("POST", "/multi/login_with_password", {"api-key": KEY1, **json_headers}),
        ("POST", "/multi/access_token", {**alice.headers, **json_headers}),
        ("PUT", "/_sim/config", json_headers),
        ("PUT", "/_sim/faults", json_headers),
        ("PUT", "/_sim/presenter", json_headers),
    ]
    for method, path, headers in calls:
        for body in (DEEP, b'{"a":' * 65 + b"1" + b"}" * 65, b'{"opDelayMs": NaN}'):
            resp = await client.request(method, path, content=body, headers=headers)
            assert resp.status_code == 400, (path, resp.status_code, resp.text[:100])
            assert resp.json() == MALFORMED and resp.headers["request-ref"]
    assert (await alice.bulk(bulk_id))["status"] == "SUBMITTED"
    assert len(simulator.engine.bulks) == 1
    login = await client.post(
        "/multi/login_with_password",
        headers={"api-key": KEY1},
        json={"email": "alice@acme.example", "password": {"value": PASSWORD}},
    )
    assert login.status_code == 200  # a normal body right after is fine


# --- bugs and the store: one Weavr response each ------------------------------------------------------


async def asgi_request(app: Any, method: str, path: str, headers: dict[str, str]) -> list[Message]:
    """One request straight into an ASGI app; every message it sends."""
    sent: list[Message] = []
    inbox: list[Message] = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    return sent


def starts(sent: list[Message]) -> list[Message]:
    return [m for m in sent if m["type"] == "http.response.start"]


def edge_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "simulator.http.app"]


async def test_a_bug_in_a_handler_is_one_weavr_500_and_one_log_line(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api, caplog: pytest.LogCaptureFixture
) -> None:
    simulator, _ = sim

    def broken(*args: Any) -> Any:
        raise RuntimeError("engine bug")

    simulator.engine.get_bulk = broken  # type: ignore[method-assign]
    caplog.set_level(logging.ERROR, logger="simulator.http.app")
    sent = await asgi_request(simulator.asgi, "GET", "/multi/bulks/1000001", alice.headers)
    assert [m["status"] for m in starts(sent)] == [500]  # exactly one response start
    headers = dict(starts(sent)[0]["headers"])
    assert headers[b"content-type"] == b"application/json"
    assert json.loads(b"".join(m.get("body", b"") for m in sent)) == INTERNAL
    records = edge_records(caplog)
    assert len(records) == 1
    assert headers[b"request-ref"].decode() in records[0].getMessage()
    assert records[0].exc_info is not None and "engine bug" in str(records[0].exc_info[1])
    assert alice.token is not None and alice.token not in caplog.text  # no secrets in the log
    # And over real HTTP: the client gets the same body, the server stays up.
    caplog.clear()
    resp = await alice.get("/bulks/1000001")
    assert resp.status_code == 500 and resp.json() == INTERNAL and resp.headers["request-ref"]
    assert len(edge_records(caplog)) == 1
    assert (await alice.get("/bulks")).status_code == 200


def stub_engine() -> Any:
    return SimpleNamespace(maintenance=False, store_down=None, faults=SimpleNamespace(api=None))


async def test_a_bug_after_the_response_started_sends_no_second_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def half_sent(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("broke mid-response")

    caplog.set_level(logging.ERROR, logger="simulator.http.app")
    sent = await asgi_request(WeavrEdge(half_sent, stub_engine(), lambda: False), "GET", "/multi/bulks", {})
    assert [m["status"] for m in starts(sent)] == [200]  # no second start, nothing passed off as whole
    assert not any(m["type"] == "http.response.body" for m in sent)
    assert len(edge_records(caplog)) == 1


async def test_a_bug_before_any_response_gets_the_weavr_500(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise KeyError("no route table")

    caplog.set_level(logging.ERROR, logger="simulator.http.app")
    sent = await asgi_request(WeavrEdge(broken, stub_engine(), lambda: False), "GET", "/_sim/config", {})
    assert [m["status"] for m in starts(sent)] == [500]
    assert dict(starts(sent)[0]["headers"])[b"request-ref"]
    assert json.loads(b"".join(m.get("body", b"") for m in sent)) == INTERNAL
    assert len(edge_records(caplog)) == 1


async def test_store_unavailable_from_the_engine_is_a_503_with_retry_after(
    sim: tuple[Simulator, httpx.AsyncClient], alice: Api
) -> None:
    simulator, _ = sim
    bulk_id = await alice.submit([transfer()])

    async def disk_full(*args: Any) -> None:
        raise StoreUnavailable("disk full", retry_after_s=7)

    simulator.engine.execute = disk_full  # type: ignore[method-assign]
    resp = await alice.post(f"/bulks/{bulk_id}/execute", json={})
    assert resp.status_code == 503
    assert resp.headers["retry-after"] == "7" and resp.headers["request-ref"]
    assert resp.json() == {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable"}
