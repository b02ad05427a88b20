"""The API client against the real simulator and against a server that misbehaves on cue; the budget."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bulkdash.api.budget import BudgetExhausted, RequestBudget
from bulkdash.api.client import ApiError, CallRecord, WeavrClient
from bulkdash.contract.kinds import OperationKind
from simulator.server import start_embedded
from tests.simulator.helpers import sim_settings, transfer


@pytest.fixture
async def base_url(tmp_path) -> AsyncIterator[str]:
    _, server = await start_embedded(sim_settings(tmp_path))
    yield server.url + "/multi"
    await server.stop()


async def test_a_full_round_trip_with_readable_errors(base_url: str) -> None:
    calls: list[CallRecord] = []
    client = WeavrClient(base_url, "sim-api-key-P1", on_call=calls.append)
    try:
        login = await client.login("alice@acme.example", "Passw0rd!Sim")
        assert login.identity.id == "1001" and client.token == login.token
        created = await client.submit(
            OperationKind.TRANSFERS, [transfer(), transfer(dest="5003")], idempotency_ref="ref-1"
        )
        assert created.operationCount == 2 and created.path == "/transfers"
        await client.execute(created.bulkId, mode="ON_FAILURE_CONTINUE")
        with pytest.raises(ApiError) as refused:
            await client.execute(created.bulkId)
        assert refused.value.status == 409 and refused.value.code == "INVALID_STATE"
        assert "INVALID_STATE" in str(refused.value) and "request-ref" in str(refused.value)
        with pytest.raises(ApiError) as invalid:
            await client.submit(OperationKind.TRANSFERS, [{"requestBody": {}}])
        assert (
            invalid.value.code == "VALIDATION"
            and "requestBody.profileId (operation 1) is required [REQUIRED]" in invalid.value.message
        )
        page = await client.list_bulks()
        assert page.count == 1 and page.bulkProcesses[0].bulkId == created.bulkId
        assert all(c.request_ref for c in calls) and calls[0].path == "/login_with_password"
        assert {c.status for c in calls} >= {200, 201, 204, 400, 409}
    finally:
        await client.aclose()


async def test_unreachable_server_is_an_api_error_not_a_crash() -> None:
    client = WeavrClient("http://127.0.0.1:9/multi", "k", timeout_s=2)
    with pytest.raises(ApiError) as err:
        await client.get_bulk("1")
    assert err.value.status is None and "Cannot reach" in str(err.value)
    await client.aclose()


def mock(handler) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


async def test_tolerates_unknown_fields_enum_values_and_old_names() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/bulks"):
            return httpx.Response(
                200,
                json={
                    "count": 1,
                    "responseCount": 1,
                    "bulk_processes": [
                        {"bulkId": "9", "status": "ARCHIVED", "submittedItemsCount": 3, "brandNew": {"x": 1}}
                    ],
                },
            )
        return httpx.Response(
            200,
            json={
                "bulkId": "9",
                "status": "QUEUED",
                "submittedItemsCount": 3,
                "operationStatusCounts": [{"status": "RETRYING", "count": 3}],
            },
        )

    client = WeavrClient("http://sim/multi", "k", transport=mock(handler))
    page = await client.list_bulks()
    assert page.bulkProcesses[0].status == "ARCHIVED"
    assert page.bulkProcesses[0].model_extra == {"brandNew": {"x": 1}}
    bulk = await client.get_bulk("9")
    assert bulk.status == "QUEUED" and bulk.counts()["RETRYING"] == 3
    await client.aclose()


async def test_malformed_body_is_reported() -> None:
    client = WeavrClient(
        "http://sim/multi", "k", transport=mock(lambda r: httpx.Response(200, content=b"<html>oops</html>"))
    )
    with pytest.raises(ApiError) as err:
        await client.get_bulk("1")
    assert "Unexpected response body" in str(err.value)
    await client.aclose()


async def test_429_blocks_the_budget_until_reset() -> None:
    now = [1_000_000.0]
    budget = RequestBudget(((100, 60),), clock=lambda: now[0])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429,
            headers={"x-ratelimit-limit": "100, 100;w=60", "x-ratelimit-reset": "37", "request-ref": "r1"},
        )

    client = WeavrClient("http://sim/multi", "k", budget=budget, transport=mock(handler))
    with pytest.raises(ApiError) as err:
        await client.get_bulk("1")
    assert err.value.status == 429 and err.value.retry_after_s == 37
    with pytest.raises(BudgetExhausted) as blocked:
        await client.get_bulk("1")
    assert blocked.value.wait_s == 37
    now[0] += 38
    with pytest.raises(ApiError):
        await client.get_bulk("1")  # allowed to try again (and refused again)
    await client.aclose()


def test_budget_windows_count_and_reset() -> None:
    now = [120.0]
    budget = RequestBudget(((3, 60), (5, 3600)), clock=lambda: now[0])
    for _ in range(3):
        budget.check()
        budget.spend()
    with pytest.raises(BudgetExhausted) as exc:
        budget.check()
    assert exc.value.wait_s == 60
    assert [u.label for u in budget.usage()] == ["3/3 per min", "3/5 per h"]
    assert budget.headroom() == 0
    now[0] += 60
    budget.check()
    budget.spend()
    budget.spend()
    with pytest.raises(BudgetExhausted):
        budget.check()  # the hour window is full now
