"""API-level faults: injected 5xx on chosen endpoints, a real token bucket (429), latency, maintenance."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import httpx
import pytest

from simulator.faults.api import ApiPlanFaults, TokenBucket
from simulator.faults.plan import ApiFaults
from simulator.server import Simulator
from tests.simulator.faults_helpers import FakeClock, set_plan
from tests.simulator.helpers import KEY1, PASSWORD, Api, login, transfer

INTERNAL = {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}
UNAVAILABLE = {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable"}


@pytest.fixture
def clock(sim: tuple[Simulator, httpx.AsyncClient]) -> FakeClock:
    """The fault layer's clock, under the test's control (set before any plan)."""
    fake = FakeClock()
    sim[0].engine.faults.clock = fake
    return fake


async def test_injected_5xx_hit_only_the_chosen_endpoint_and_replay_with_the_seed(
    client: httpx.AsyncClient, alice: Api
) -> None:
    plan = {"seed": 9, "api": {"errors": [{"endpoints": ["GET /bulks"], "rate": 0.5, "status": 500}]}}
    await set_plan(client, plan)
    first = [(await alice.get("/bulks")).status_code for _ in range(30)]
    assert set(first) == {200, 500}
    failing = await alice.get("/bulks")
    while failing.status_code != 500:
        failing = await alice.get("/bulks")
    assert failing.json() == INTERNAL and failing.headers["request-ref"]
    assert [(await alice.get("/bulks/999")).status_code for _ in range(10)] == [404] * 10  # not matched
    await set_plan(client, plan)  # set again: the seeded stream starts over
    assert [(await alice.get("/bulks")).status_code for _ in range(30)] == first
    await set_plan(client, {**plan, "seed": 10})
    assert [(await alice.get("/bulks")).status_code for _ in range(30)] != first


async def test_a_refused_request_is_never_processed(client: httpx.AsyncClient, alice: Api) -> None:
    await set_plan(
        client,
        {"api": {"errors": [{"endpoints": ["POST /bulks/{bulk_id}/execute"], "rate": 1, "status": 503}]}},
    )
    bulk_id = await alice.submit([transfer()])
    resp = await alice.post(f"/bulks/{bulk_id}/execute", json={})
    assert resp.status_code == 503 and resp.json() == UNAVAILABLE
    assert (await alice.bulk(bulk_id))["status"] == "SUBMITTED"  # safe to retry
    await client.delete("/_sim/faults")
    assert (await alice.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204


async def test_token_bucket_429_with_consistent_headers(
    clock: FakeClock, client: httpx.AsyncClient, alice: Api
) -> None:
    await set_plan(
        client, {"api": {"throttle": {"capacity": 2, "refill_per_s": 1, "endpoints": ["GET /bulks"]}}}
    )
    assert [(await alice.get("/bulks")).status_code for _ in range(2)] == [200, 200]
    refused = await alice.get("/bulks")
    assert refused.status_code == 429 and refused.content == b""
    assert refused.headers["x-ratelimit-limit"] == "2, 2;w=2"
    assert refused.headers["x-ratelimit-reset"] == "1"
    assert refused.headers["request-ref"]
    assert (await alice.get("/bulks/999")).status_code == 404  # another endpoint: not throttled
    clock.advance(0.5)
    half = await alice.get("/bulks")  # half a token: still refused, and the refusal took nothing
    assert half.status_code == 429 and half.headers["x-ratelimit-reset"] == "1"
    clock.advance(0.5)  # exactly what the first 429 said: one token is there
    assert (await alice.get("/bulks")).status_code == 200
    assert (await alice.get("/bulks")).status_code == 429
    clock.advance(10)  # a long pause refills to capacity, no more
    assert [(await alice.get("/bulks")).status_code for _ in range(3)] == [200, 200, 429]


async def test_login_is_throttled_by_a_global_plan_only(clock: FakeClock, client: httpx.AsyncClient) -> None:
    body = {"email": "alice@acme.example", "password": {"value": PASSWORD}}
    url = "/multi/login_with_password"
    await set_plan(client, {"identity": "1001", "api": {"throttle": {"capacity": 1, "refill_per_s": 1}}})
    assert [(await client.post(url, json=body, headers={"api-key": KEY1})).status_code for _ in range(3)] == [
        200
    ] * 3  # no token yet: an identity's plan does not apply
    await set_plan(client, {"api": {"throttle": {"capacity": 1, "refill_per_s": 1}}})
    statuses = [(await client.post(url, json=body, headers={"api-key": KEY1})).status_code for _ in range(2)]
    assert statuses == [200, 429]


def test_token_bucket_arithmetic() -> None:
    bucket = TokenBucket(3, 2.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [None, None, None]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.25) == pytest.approx(0.25)
    assert bucket.take(0.5) is None


async def test_fixed_latency_on_matching_requests(client: httpx.AsyncClient, alice: Api) -> None:
    await set_plan(client, {"api": {"latency": {"fixed_ms": 250, "endpoints": ["GET /bulks"]}}})
    started = time.monotonic()
    assert (await alice.get("/bulks")).status_code == 200
    assert time.monotonic() - started >= 0.25


@pytest.mark.parametrize(
    ("latency", "check"),
    [
        (
            {"distribution": "uniform", "min_ms": 10, "max_ms": 20},
            lambda d: all(0.01 <= x <= 0.02 for x in d),
        ),
        ({"distribution": "exponential", "mean_ms": 20}, lambda d: 0.012 < statistics.mean(d) < 0.03),
        ({"distribution": "normal", "mean_ms": 5, "stddev_ms": 10}, lambda d: min(d) == 0 and max(d) > 0.005),
    ],
)
def test_latency_distributions_are_seeded(latency: dict, check) -> None:
    spec = ApiFaults.model_validate({"latency": latency})

    def delays(seed: int) -> list[float]:
        faults = ApiPlanFaults(spec, seed, activated_at=0.0)
        return [faults.delay_s("GET /bulks") for _ in range(200)]

    assert delays(1) == delays(1)
    assert delays(1) != delays(2)
    assert check(delays(1))
    assert (
        ApiPlanFaults(
            ApiFaults.model_validate({"latency": {**latency, "endpoints": ["POST /logout"]}}), 1, 0.0
        ).delay_s("GET /bulks")
        == 0
    )


async def test_maintenance_window(clock: FakeClock, client: httpx.AsyncClient, alice: Api) -> None:
    await set_plan(client, {"api": {"maintenance": [{"start_s": 10, "duration_s": 5}]}})
    assert (await alice.get("/bulks")).status_code == 200
    clock.advance(10)
    resp = await alice.get("/bulks")
    assert resp.status_code == 503 and resp.json() == UNAVAILABLE and resp.headers["request-ref"]
    login_resp = await client.post(
        "/multi/login_with_password",
        headers={"api-key": KEY1},
        json={"email": "alice@acme.example", "password": {"value": PASSWORD}},
    )
    assert login_resp.status_code == 503  # a global plan: every /multi request
    assert (await client.get("/_sim/config")).status_code == 200  # the control API stays up
    clock.advance(4.9)
    assert (await alice.get("/bulks")).status_code == 503
    clock.advance(0.1)
    assert (await alice.get("/bulks")).status_code == 200


async def test_api_faults_of_another_identity(client: httpx.AsyncClient, alice: Api) -> None:
    carol = await login(client, "carol@globex.example")
    await set_plan(client, {"identity": "1002", "api": {"errors": [{"rate": 1, "status": 503}]}})
    assert (await alice.get("/bulks")).status_code == 200
    assert (await carol.get("/bulks")).status_code == 503


def test_the_api_fault_layer_depends_downward_only() -> None:
    # It answers with SimErrors (simulator/errors.py); the HTTP layer above turns them into responses.
    code = (
        "import sys, simulator.faults.api\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(('simulator.http', 'starlette')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
