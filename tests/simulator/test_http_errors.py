"""Every error path of the HTTP surface: auth order, permissions, tenants, bad input and limits
(docs/behaviour.md §2, §3, §8)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bulkdash.contract.validation import RequestInvalid, type_error
from simulator.errors import (
    Conflict,
    EmptyRefusal,
    Forbidden,
    InternalError,
    InvalidParam,
    Malformed,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    StoreUnavailable,
    Unauthorized,
)
from simulator.http.responses import error_response
from simulator.server import Simulator
from tests.simulator.helpers import KEY1, KEY2, Api, login, transfer

UNAVAILABLE = {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable"}


async def test_every_response_carries_a_fresh_request_ref(client: httpx.AsyncClient, alice: Api) -> None:
    responses = [
        await client.get("/multi/bulks"),  # 401
        await alice.get("/bulks"),  # 200
        await alice.get("/bulks/999"),  # 404
        await client.get("/nowhere"),  # 404 route
        await alice.post("/bulks/1/pause"),  # 404 bulk
    ]
    refs = [resp.headers.get("request-ref") for resp in responses]
    assert all(refs), refs
    assert len(set(refs)) == len(refs)
    for ref in refs:
        uuid.UUID(ref)


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient, alice: Api) -> None:
    resp = await client.get("/multi/nothing/here")
    assert resp.status_code == 404
    assert resp.json() == {"code": "NOT_FOUND", "message": "Resource not found"}
    resp = await alice.client.delete("/multi/bulks/1", headers=alice.headers)
    assert resp.status_code == 405
    assert resp.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_a_trailing_slash_names_no_endpoint(client: httpx.AsyncClient, alice: Api) -> None:
    """404 before any other check (§2.6 step 1), never a redirect: an HTTP client that follows redirects
    would send the POST again to the path without the slash (an integrator's trial created a bulk so)."""
    bulk_id = await alice.submit([transfer()])
    for method, path, headers in (
        ("POST", "/multi/bulks/transfers/", alice.headers),
        ("GET", f"/multi/bulks/{bulk_id}/", alice.headers),
        ("POST", f"/multi/bulks/{bulk_id}/cancel/", alice.headers),
        ("GET", "/multi/bulks/", {}),  # no api-key: routing comes first
        ("GET", "/_sim/config/", {}),
    ):
        resp = await client.request(method, path, headers=headers, json=[transfer()])
        assert resp.status_code == 404, (path, resp.status_code, resp.headers.get("location"))
        assert resp.json() == {"code": "NOT_FOUND", "message": "Resource not found"}, path
    assert (await alice.bulk(bulk_id))["status"] == "SUBMITTED"
    assert (await alice.get("/bulks")).json()["count"] == 1


async def test_the_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient, alice: Api) -> None:
    for scheme in ("bearer", "BEARER", "Bearer"):
        headers = {"api-key": KEY1, "authorization": f"{scheme} {alice.token}"}
        assert (await client.get("/multi/bulks", headers=headers)).status_code == 200, scheme
    glued = {"api-key": KEY1, "authorization": f"Bearer{alice.token}"}
    assert (await client.get("/multi/bulks", headers=glued)).status_code == 401


async def test_api_key_and_token_rules(client: httpx.AsyncClient, alice: Api) -> None:
    assert (await client.get("/multi/bulks")).status_code == 401
    assert (await client.get("/multi/bulks", headers={"api-key": "nope"})).status_code == 401
    no_token = await client.get("/multi/bulks", headers={"api-key": KEY1})
    assert no_token.status_code == 401 and no_token.content == b""
    basic = await client.get("/multi/bulks", headers={"api-key": KEY1, "authorization": "Basic abc"})
    assert basic.status_code == 401
    # A P1 token presented with the P2 key is not valid.
    wrong_key = await client.get(
        "/multi/bulks", headers={"api-key": KEY2, "authorization": f"Bearer {alice.token}"}
    )
    assert wrong_key.status_code == 401
    assert (await alice.get("/bulks")).status_code == 200


async def test_login_failures_and_lockout(client: httpx.AsyncClient) -> None:
    def body(email: str, pw: str) -> dict:
        return {"email": email, "password": {"value": pw}}

    url = "/multi/login_with_password"
    assert (await client.post(url, json=body("alice@acme.example", "x"))).status_code == 401  # no api-key
    assert (
        await client.post(url, headers={"api-key": KEY1}, json=body("nobody@acme.example", "x"))
    ).status_code == 403
    # gina has no password yet, erin is in P2
    assert (
        await client.post(url, headers={"api-key": KEY1}, json=body("gina@acme.example", "Passw0rd!Sim"))
    ).status_code == 403
    assert (
        await client.post(url, headers={"api-key": KEY1}, json=body("erin@initech.example", "Passw0rd!Sim"))
    ).status_code == 403
    bad = await client.post(url, headers={"api-key": KEY1}, json={"email": "not-an-email", "password": {}})
    assert bad.status_code == 400
    fields = {f["fieldName"]: f["error"] for f in bad.json()["syntaxErrors"]["invalidFields"]}
    assert fields == {"email": "REGEX", "password.value": "REQUIRED"}
    for _ in range(5):
        assert (
            await client.post(url, headers={"api-key": KEY1}, json=body("frank@acme.example", "wrong"))
        ).status_code == 403
    locked = await client.post(
        url, headers={"api-key": KEY1}, json=body("frank@acme.example", "Passw0rd!Sim")
    )
    assert locked.status_code == 423
    ok = await client.post(url, headers={"api-key": KEY1}, json=body("alice@acme.example", "Passw0rd!Sim"))
    assert ok.status_code == 200
    data = ok.json()
    assert data["token"].startswith("sim_") and data["tokenType"] == "ACCESS"
    assert data["identity"] == {"type": "CORPORATE", "id": "1001"}
    assert data["credentials"] == {"type": "ROOT", "id": "2001"}


async def test_logout_revokes_and_access_token_renews(client: httpx.AsyncClient, alice: Api) -> None:
    resp = await alice.post("/access_token", json={"identity": {"type": "CORPORATE", "id": "1001"}})
    assert resp.status_code == 200
    fresh = resp.json()
    assert fresh["status"] == "STANDARD" and fresh["token"] != alice.token
    other = await alice.post("/access_token", json={"identity": {"type": "CORPORATE", "id": "1002"}})
    assert other.status_code == 403
    assert (await alice.post("/logout")).status_code == 204
    assert (await alice.get("/bulks")).status_code == 401
    assert (await Api(client, KEY1, fresh["token"]).get("/bulks")).status_code == 200


async def test_access_token_validates_the_identity_before_ownership(alice: Api) -> None:
    """Weavr's ``IdentityId``: ``type`` one of CONSUMER / CORPORATE, ``id`` digits; a 400 naming the field
    comes before the 403 of an identity that is not the caller's (§2.6 step 6 before 9)."""
    cases = [
        ({"type": "BOSS", "id": "1001"}, {"identity.type": ("IN", ["CONSUMER", "CORPORATE"])}),
        ({"type": "corporate", "id": "1001"}, {"identity.type": ("IN", ["CONSUMER", "CORPORATE"])}),
        ({"type": "CORPORATE", "id": "abc"}, {"identity.id": ("REGEX", ["^[0-9]+$"])}),
        ({"type": "CORPORATE"}, {"identity.id": ("REQUIRED", [])}),
    ]
    for identity, expected in cases:
        resp = await alice.post("/access_token", json={"identity": identity})
        assert resp.status_code == 400, (identity, resp.status_code)
        invalid = resp.json()["syntaxErrors"]["invalidFields"]
        fields = {f["fieldName"]: (f["error"], f["params"]) for f in invalid}
        assert fields == expected, identity
    resp = await alice.post("/access_token", json={"identity": {"type": "CONSUMER", "id": "1001"}})
    assert resp.status_code == 403  # well-formed, but not alice's identity


async def test_token_expires_after_idle_time(sim: tuple[Simulator, httpx.AsyncClient]) -> None:
    simulator, client = sim
    now = [1_800_000_000_000]
    simulator.engine.clock = lambda: now[0]
    api = await login(client)
    now[0] += 299_000
    assert (await api.get("/bulks")).status_code == 200  # used: renewed
    now[0] += 299_000
    assert (await api.get("/bulks")).status_code == 200
    now[0] += 301_000
    assert (await api.get("/bulks")).status_code == 401


async def test_permissions_by_role(client: httpx.AsyncClient) -> None:
    bob = await login(client, "bob@acme.example")  # CARD_ASSIGNEE: nothing
    resp = await bob.get("/bulks")
    assert resp.status_code == 403 and resp.json() == {"errorCode": "INSUFFICIENT_PERMISSIONS"}
    fiona = await login(client, "fiona@acme.example")  # funds: transfers yes, users no
    assert (await fiona.post("/bulks/transfers", json=[transfer()])).status_code == 201
    users = await fiona.post(
        "/bulks/users", json=[{"requestBody": {"name": "A", "surname": "B", "email": "a@b.example"}}]
    )
    assert users.status_code == 403
    frank = await login(client, "frank@acme.example")  # ADMIN: everything
    assert (await frank.get("/bulks")).status_code == 200


async def test_tenants_see_only_their_own_bulks(client: httpx.AsyncClient, alice: Api) -> None:
    bulk_id = await alice.submit([transfer()])
    carol = await login(client, "carol@globex.example")
    for call in (
        carol.get(f"/bulks/{bulk_id}"),
        carol.get(f"/bulks/{bulk_id}/operations"),
        carol.post(f"/bulks/{bulk_id}/execute", json={}),
        carol.post(f"/bulks/{bulk_id}/cancel"),
    ):
        resp = await call
        assert resp.status_code == 404, resp.text
        assert resp.json() == {"code": "NOT_FOUND", "message": "Resource not found"}
    assert (await carol.get("/bulks")).json() == {"count": 0, "responseCount": 0, "bulkProcesses": []}
    assert (await alice.bulk(bulk_id))["status"] == "SUBMITTED"


async def test_disabled_identity_gets_no_config_found(client: httpx.AsyncClient) -> None:
    dave = await login(client, "dave@example.com")
    resp = await dave.get("/bulks")
    assert resp.status_code == 409 and resp.json() == {"errorCode": "NO_CONFIG_FOUND"}
    resp = await dave.post("/bulks/transfers", json=[transfer(source="4201")])
    assert resp.status_code == 409 and resp.json() == {"errorCode": "NO_CONFIG_FOUND"}
    assert (await dave.get("/bulks/1000001")).status_code == 404
    assert (await dave.post("/bulks/1000001/execute", json={})).json() == {"errorCode": "NO_CONFIG_FOUND"}


@pytest.mark.parametrize(
    ("query", "field", "error"),
    [
        ("offset=-1", "offset", "AT_LEAST"),
        ("limit=0", "limit", "AT_LEAST"),
        ("status=DONE", "status", "IN"),
    ],
)
async def test_bad_query_parameters(alice: Api, query: str, field: str, error: str) -> None:
    bulk_id = await alice.submit([transfer()])
    for path in ("/bulks", f"/bulks/{bulk_id}/operations"):
        resp = await alice.get(f"{path}?{query}")
        assert resp.status_code == 400, resp.text
        entry = resp.json()["syntaxErrors"]["invalidFields"][0]
        assert (entry["fieldName"], entry["error"]) == (field, error)


async def test_bad_query_types_and_repeats(alice: Api) -> None:
    bulk_id = await alice.submit([transfer()])
    for q in ("offset=x", "limit=1.5", "sequence=abc", "status=FAILED&status=COMPLETED"):
        resp = await alice.get(f"/bulks/{bulk_id}/operations?{q}")
        assert resp.status_code == 400, (q, resp.text)
        assert "message" in resp.json()
    resp = await alice.get("/bulks/12ab")
    assert resp.status_code == 400
    assert resp.json()["syntaxErrors"]["invalidFields"][0] == {
        "params": ["^[0-9]+$"],
        "fieldName": "bulk_id",
        "error": "REGEX",
    }


async def test_malformed_bodies_change_nothing(sim: tuple[Simulator, httpx.AsyncClient], alice: Api) -> None:
    simulator, client = sim
    headers = {**alice.headers, "content-type": "application/json"}
    resp = await client.post("/multi/bulks/transfers", content=b"[{not json", headers=headers)
    assert resp.status_code == 400 and resp.json() == {"message": "Malformed request body"}
    resp = await alice.post("/bulks/transfers", json={"not": "an array"})
    assert resp.status_code == 400 and resp.json() == {"message": "Request body must be a JSON array"}
    resp = await alice.post("/bulks/transfers", json=[])
    assert resp.json()["syntaxErrors"]["invalidFields"] == [
        {"params": ["1", "10000"], "fieldName": "", "error": "SIZE"}
    ]
    resp = await alice.post("/bulks/transfers", json=[transfer()] * 10_001)
    assert resp.status_code == 400
    assert resp.json()["syntaxErrors"]["invalidFields"][0]["error"] == "SIZE"
    bad_item = transfer()
    bad_item["requestBody"]["destinationAmount"]["amount"] = "100"
    resp = await alice.post("/bulks/transfers", json=[transfer(), bad_item])
    assert resp.status_code == 400
    assert resp.json() == {"message": "Invalid type for field [1].requestBody.destinationAmount.amount"}
    resp = await alice.post("/bulks/1000001/execute")
    assert resp.status_code == 400 and resp.json() == {"message": "Request body is required"}
    resp = await alice.post("/bulks/1000001/execute", json={"mode": "SOMETIMES", "webhookInterval": 0})
    assert resp.status_code == 400
    errors = {f["fieldName"]: f["error"] for f in resp.json()["syntaxErrors"]["invalidFields"]}
    assert errors == {"mode": "IN", "webhookInterval": "AT_LEAST"}
    assert (await alice.get("/bulks")).json()["count"] == 0
    assert simulator.engine.bulks == {}


async def test_oversize_body_is_413(client: httpx.AsyncClient, alice: Api) -> None:
    big = b"[" + b" " * (32 * 1024 * 1024) + b"]"
    resp = await client.post(
        "/multi/bulks/transfers", content=big, headers={**alice.headers, "content-type": "application/json"}
    )
    assert resp.status_code == 413
    assert resp.json()["code"] == "PAYLOAD_TOO_LARGE"


async def test_pause_resume_and_cancel_refuse_an_oversize_body(
    client: httpx.AsyncClient, alice: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They ignore a body (§3.9), but not the 32 MiB limit every endpoint has (§3.1): 413, nothing changed.
    (The limit is made 1 KiB here, as ``test_oversize_body_is_413`` sends the real one.)"""
    import simulator.http.app as http_app

    async def streamed() -> AsyncIterator[bytes]:  # no content-length: the limit is found while reading
        yield b"x" * 800
        yield b"x" * 800

    monkeypatch.setattr(http_app, "MAX_BODY", 1024)
    bulk_id = await alice.submit([transfer()])
    for action in ("pause", "resume", "cancel"):
        for content in (b"x" * 2048, streamed()):
            resp = await alice.post(f"/bulks/{bulk_id}/{action}", content=content)
            assert resp.status_code == 413, (action, resp.status_code, resp.text)
            assert resp.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert (await alice.bulk(bulk_id))["status"] == "SUBMITTED"
    assert (await alice.post(f"/bulks/{bulk_id}/cancel", content=b"x" * 1000)).status_code == 204  # ignored


async def test_submission_validation_names_each_field(alice: Api) -> None:
    items = [
        {"pathParams": {}, "requestBody": {"name": "Ann", "surname": "Lee", "email": "ann@x.example"}},
        {"pathParams": {}, "requestBody": {"name": "", "surname": "Lee", "email": "nope"}},
    ]
    resp = await alice.post("/bulks/users", json=items)
    assert resp.status_code == 400
    fields = {f["fieldName"]: f["error"] for f in resp.json()["syntaxErrors"]["invalidFields"]}
    assert fields == {"[1].requestBody.name": "SIZE", "[1].requestBody.email": "REGEX"}
    resp = await alice.post("/bulks/managed_cards/_id_/block", json=[{"pathParams": {"_id_": "50x1"}}, {}])
    fields = {f["fieldName"]: f["error"] for f in resp.json()["syntaxErrors"]["invalidFields"]}
    assert fields == {"[0].pathParams._id_": "REGEX", "[1].pathParams": "REQUIRED"}


async def test_cross_item_conflicts(alice: Api) -> None:
    resp = await alice.post(
        "/bulks/managed_cards/_id_/block",
        json=[{"pathParams": {"_id_": "5001"}}, {"pathParams": {"_id_": "5001"}}],
    )
    assert resp.status_code == 409 and resp.json() == {"errorCode": "VALIDATION_FAILED"}
    user = {"name": "Ann", "surname": "Lee", "email": "ann@x.example"}
    resp = await alice.post(
        "/bulks/users", json=[{"requestBody": user}, {"requestBody": {**user, "email": "ANN@x.example"}}]
    )
    assert resp.status_code == 409 and resp.json() == {"errorCode": "USER_VALIDATION_FAILED"}


async def test_idempotency_replays_and_refuses_changed_bodies(alice: Api) -> None:
    first = await alice.post("/bulks/transfers", json=[transfer()], headers={"idempotency-ref": "k1"})
    again = await alice.post("/bulks/transfers", json=[transfer()], headers={"idempotency-ref": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.headers["request-ref"] != again.headers["request-ref"]
    changed = await alice.post("/bulks/transfers", json=[transfer(7)], headers={"idempotency-ref": "k1"})
    assert changed.status_code == 409 and changed.json() == {"errorCode": "ALREADY_SUBMITTED"}
    # The same ref on another endpoint is another key.
    other = await alice.post(
        "/bulks/managed_cards/_id_/remove",
        json=[{"pathParams": {"_id_": "5002"}}],
        headers={"idempotency-ref": "k1"},
    )
    assert other.status_code == 201
    # A failed submission is not stored: the ref can be used again.
    bad = await alice.post("/bulks/sends", json=[{}], headers={"idempotency-ref": "k2"})
    assert bad.status_code == 400
    assert (await alice.get("/bulks")).json()["count"] == 2


async def test_rate_limit_429_with_headers(tmp_path) -> None:
    from simulator.server import start_embedded
    from tests.simulator.helpers import sim_settings

    _, server = await start_embedded(sim_settings(tmp_path, rate_limits="5;w=60,1000;w=3600"))
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
            api = await login(client)  # 1 request
            statuses = [(await api.get("/bulks")).status_code for _ in range(5)]
            assert statuses == [200, 200, 200, 200, 429]
            limited = await api.get("/bulks")
            assert limited.status_code == 429 and limited.content == b""
            assert limited.headers["x-ratelimit-limit"] == "5, 5;w=60, 1000;w=3600"
            assert 0 <= int(limited.headers["x-ratelimit-reset"]) <= 60
            assert limited.headers["request-ref"]
            # The control API is never limited.
            assert (await client.get("/_sim/world/1001")).status_code == 200
    finally:
        await server.stop()


async def test_maintenance_and_fault_header(sim: tuple[Simulator, httpx.AsyncClient], alice: Api) -> None:
    simulator, client = sim
    assert (await client.put("/_sim/config", json={"maintenance": True})).status_code == 204
    resp = await alice.get("/bulks")
    assert resp.status_code == 503 and resp.json()["code"] == "SERVICE_UNAVAILABLE"
    await client.put("/_sim/config", json={"maintenance": False})
    assert (await alice.get("/bulks", headers={"x-sim-fault": "500"})).status_code == 200  # faults off
    simulator.settings.faults = True
    assert (await alice.get("/bulks", headers={"x-sim-fault": "500"})).status_code == 500
    assert (await alice.get("/bulks", headers={"x-sim-fault": "503"})).status_code == 503
    bad = await client.put("/_sim/config", json={"opDelayMs": -1})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("error", "status", "body", "headers"),
    [
        (Unauthorized(), 401, b"", {}),
        (
            RateLimited("5, 5;w=60", 12),
            429,
            b"",
            {"x-ratelimit-limit": "5, 5;w=60", "x-ratelimit-reset": "12"},
        ),
        (EmptyRefusal(423), 423, b"", {}),
        (Forbidden(), 403, {"errorCode": "INSUFFICIENT_PERMISSIONS"}, {}),
        (Conflict("INVALID_STATE"), 409, {"errorCode": "INVALID_STATE"}, {}),
        (NotFound(), 404, {"code": "NOT_FOUND", "message": "Resource not found"}, {}),
        (MethodNotAllowed(), 405, {"code": "METHOD_NOT_ALLOWED", "message": "Method not allowed"}, {}),
        (Malformed(), 400, {"message": "Malformed request body"}, {}),
        (
            InvalidParam("limit", "AT_LEAST", ["1"]),
            400,
            {
                "message": "Invalid parameter limit",
                "syntaxErrors": {
                    "invalidFields": [{"params": ["1"], "fieldName": "limit", "error": "AT_LEAST"}]
                },
            },
            {},
        ),
        (
            PayloadTooLarge(),
            413,
            {"code": "PAYLOAD_TOO_LARGE", "message": "Request body is larger than 32 MiB"},
            {},
        ),
        (StoreUnavailable("disk full", 4), 503, UNAVAILABLE, {"retry-after": "4"}),
        (ServiceUnavailable(), 503, UNAVAILABLE, {}),
        (InternalError(), 500, {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}, {}),
        (RequestInvalid(type_error("mode")), 400, {"message": "Invalid type for field mode"}, {}),
    ],
)
def test_each_refusal_carries_its_own_response(
    error: Exception, status: int, body: Any, headers: dict
) -> None:
    resp = error_response(error)  # type: ignore[arg-type]
    assert resp.status_code == status
    assert (json.loads(resp.body) if body != b"" else resp.body) == body
    for name, value in headers.items():
        assert resp.headers[name] == value
    if body == b"":
        assert "content-type" not in resp.headers


@pytest.mark.parametrize("url", ["notaurl", "ftp://x.example/hooks", "http:///nohost", "http://a b.example"])
async def test_a_webhook_url_that_cannot_be_delivered_to_is_refused(
    client: httpx.AsyncClient, url: str
) -> None:
    """A user's trial: ``--webhook-url notaurl`` was taken, and every delivery failed on its scheme, so the
    webhooks were lost without a word. Refused at start and by the control API, nothing changed."""
    from pydantic import ValidationError

    from simulator.settings import SimSettings

    with pytest.raises(ValidationError, match="not an http"):
        SimSettings(webhook_base_url_p1=url)
    before = (await client.get("/_sim/config")).json()["webhookBaseUrl"]
    update = {"webhookBaseUrl": {"P1": "http://127.0.0.1:9/ok", "P2": url}}
    resp = await client.put("/_sim/config", json=update)
    assert resp.status_code == 400 and "webhookBaseUrl P2: not an http" in resp.text
    assert (await client.get("/_sim/config")).json()["webhookBaseUrl"] == before  # P1 not applied either
