"""Retries, rate-limit waits and token renewal of ``WeavrClient``; the call log as a redacted ``curl``.

Most tests use ``httpx.MockTransport`` failing on cue, with an injected sleep (no real waiting); the
idempotent resubmission and the re-login run against the real simulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bulkdash.api.budget import RequestBudget
from bulkdash.api.client import ApiError, CallRecord, WeavrClient, to_curl
from bulkdash.contract.kinds import OperationKind
from simulator.server import start_embedded
from tests.simulator.helpers import sim_settings, transfer

BULK = {"bulkId": "9", "status": "SUBMITTED", "submittedItemsCount": 1}
SECRET_KEY = "live-api-key-0123456789"
SECRET_TOKEN = "tok-abcdef-SECRET-42"
SECRET_PASSWORD = "hunter2-Passw0rd"
LOGIN_REST = {"identity": {"type": "x", "id": "1"}, "credentials": {"type": "USER", "id": "1"}}


class Sleeps:
    """An injected ``sleep`` recording how long the client wanted to wait, advancing a fake clock."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 1_000_000.0

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def client_for(handler, sleeps: Sleeps, **kwargs) -> WeavrClient:  # type: ignore[no-untyped-def]
    return WeavrClient(
        "http://sim/multi",
        SECRET_KEY,
        transport=httpx.MockTransport(handler),
        sleep=sleeps,
        rand=lambda: 1.0,
        budget=RequestBudget(((1000, 60),), clock=lambda: sleeps.now),
        **kwargs,
    )


async def test_get_is_retried_with_backoff_on_connection_errors_and_503() -> None:
    answers: list[object] = [
        httpx.ConnectError("refused"),
        httpx.Response(503),
        httpx.Response(200, json=BULK),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    sleeps = Sleeps()
    calls: list[CallRecord] = []
    client = client_for(handler, sleeps, backoff_s=0.5, on_call=calls.append)
    bulk = await client.get_bulk("9")
    assert bulk.bulkId == "9"
    assert sleeps.waits == [0.5, 1.0]  # exponential (jitter pinned at its maximum)
    assert [c.attempt for c in calls] == [1, 2, 3] and [c.status for c in calls] == [None, 503, 200]
    await client.aclose()


async def test_get_gives_up_after_a_few_attempts() -> None:
    sleeps = Sleeps()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ReadTimeout("slow", request=request)

    client = client_for(handler, sleeps, max_attempts=3)
    with pytest.raises(ApiError) as err:
        await client.get_bulk("9")
    assert err.value.status is None and "timeout" in str(err.value)
    assert len(seen) == 3 and len(sleeps.waits) == 2
    await client.aclose()


async def test_a_post_without_idempotency_ref_is_not_retried() -> None:
    sleeps = Sleeps()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("/execute"):
            raise httpx.ReadError("connection reset")
        return httpx.Response(503)

    client = client_for(handler, sleeps)
    with pytest.raises(ApiError) as lost:
        await client.execute("9")
    assert lost.value.status is None
    with pytest.raises(ApiError) as unavailable:
        await client.cancel("9")
    assert unavailable.value.status == 503
    assert seen == ["/multi/bulks/9/execute", "/multi/bulks/9/cancel"] and sleeps.waits == []
    await client.aclose()


async def test_short_429_is_waited_out_once_long_one_is_an_error() -> None:
    sleeps = Sleeps()
    answers = [
        httpx.Response(429, headers={"x-ratelimit-reset": "2"}),
        httpx.Response(200, json=BULK),
        httpx.Response(429, headers={"x-ratelimit-reset": "2"}),
        httpx.Response(429, headers={"x-ratelimit-reset": "2"}),
        httpx.Response(429, headers={"x-ratelimit-reset": "40", "x-ratelimit-limit": "100, 100;w=60"}),
    ]
    client = client_for(lambda r: answers.pop(0), sleeps)
    assert (await client.get_bulk("9")).bulkId == "9"
    assert len(sleeps.waits) == 1 and 2 <= sleeps.waits[0] < 2.5
    with pytest.raises(ApiError) as twice:
        await client.get_bulk("9")  # waited once already: the second 429 is reported
    assert twice.value.status == 429
    sleeps.now += 3
    with pytest.raises(ApiError) as long:
        await client.get_bulk("9")
    assert long.value.retry_after_s == 40 and "try again in 40 s" in str(long.value)
    assert len(sleeps.waits) == 2
    await client.aclose()


async def test_a_short_429_on_a_plain_post_is_waited_out_once_too() -> None:
    # A 429 is refused before anything happens: repeating an execute cannot run it twice.
    sleeps = Sleeps()
    answers = [httpx.Response(429, headers={"x-ratelimit-reset": "2"}), httpx.Response(204)]
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return answers.pop(0)

    client = client_for(handler, sleeps)
    await client.execute("9", "ON_FAILURE_CONTINUE", None)
    assert seen == ["/multi/bulks/9/execute"] * 2 and len(sleeps.waits) == 1
    await client.aclose()


async def test_a_401_renews_the_token_once_when_logged_in_with_a_password() -> None:
    sleeps = Sleeps()
    logins: list[int] = []
    tokens = iter(["t1", "t2", "t3"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/login_with_password"):
            logins.append(1)
            return httpx.Response(200, json={"token": next(tokens), **LOGIN_REST})
        if request.headers.get("authorization") == "Bearer t2":
            return httpx.Response(200, json=BULK)
        return httpx.Response(401)

    client = client_for(handler, sleeps)
    await client.login("a@b.example", SECRET_PASSWORD)
    assert (await client.get_bulk("9")).bulkId == "9" and client.token == "t2" and len(logins) == 2
    client.token = "stale"
    with pytest.raises(ApiError) as refused:
        await client.get_bulk("9")  # renewed once (t3 is refused too): then the 401 is reported
    assert refused.value.status == 401 and len(logins) == 3
    token_only = client_for(handler, sleeps)
    token_only.token = "stale"
    with pytest.raises(ApiError):
        await token_only.get_bulk("9")  # no credentials: nothing to renew with
    assert len(logins) == 3
    await client.aclose()
    await token_only.aclose()


def test_to_curl_redacts_secrets() -> None:
    record = CallRecord(
        0,
        "POST",
        "/login_with_password",
        200,
        3.0,
        "r1",
        url="http://sim/multi/login_with_password?x=1",
        headers={"api-key": SECRET_KEY, "authorization": f"Bearer {SECRET_TOKEN}"},
        body=f'{{"email":"a@b","password":{{"value":"{SECRET_PASSWORD}"}}}}',
    )
    curl = to_curl(record)
    assert curl.startswith("curl -X POST 'http://sim/multi/login_with_password?x=1'")
    assert "-H 'api-key: ***'" in curl and "-H 'authorization: Bearer ***'" in curl
    assert SECRET_KEY not in curl and SECRET_TOKEN not in curl


async def test_call_records_and_curl_carry_no_secret() -> None:
    sleeps = Sleeps()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/login_with_password"):
            return httpx.Response(200, json={"token": SECRET_TOKEN, **LOGIN_REST})
        return httpx.Response(200, json={"count": 0, "responseCount": 0, "bulkProcesses": []})

    calls: list[CallRecord] = []
    client = client_for(handler, sleeps, on_call=calls.append)
    await client.login("a@b.example", SECRET_PASSWORD)
    await client.list_bulks(status="RUNNING")
    # Only the token is required of a login answer, but an identity must be whole (its schema requires id).
    malformed_body = {"token": SECRET_TOKEN, "identity": {"type": "CORPORATE"}}
    malformed = client_for(lambda r: httpx.Response(200, json=malformed_body), sleeps)
    with pytest.raises(ApiError) as err:
        await malformed.login("a@b.example", SECRET_PASSWORD)
    assert "identity.id" in str(err.value) and SECRET_TOKEN not in str(err.value)
    await malformed.aclose()
    login, listing = calls
    assert login.body is not None and '"password":"***"' in login.body
    assert listing.url == "http://sim/multi/bulks?offset=0&limit=100&status=RUNNING"
    assert listing.headers == {"api-key": "***", "authorization": "Bearer ***"}
    for call in calls:
        text = repr(call) + to_curl(call)
        assert SECRET_KEY not in text and SECRET_TOKEN not in text and SECRET_PASSWORD not in text
    await client.aclose()


# --- against the real simulator ---------------------------------------------------------------------


@pytest.fixture
async def base_url(tmp_path) -> AsyncIterator[str]:
    _, server = await start_embedded(sim_settings(tmp_path))
    yield server.url + "/multi"
    await server.stop()


class LoseFirstSubmissionAnswer(httpx.AsyncBaseTransport):
    """Forwards to the real server, but drops the answer to the first submission: it was processed."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.refs: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/bulks/transfers"):
            self.refs.append(request.headers.get("idempotency-ref"))
            if len(self.refs) == 1:
                await response.aread()
                raise httpx.ReadError("connection reset after the request was sent", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_retried_submission_keeps_its_idempotency_ref_and_creates_one_bulk(base_url: str) -> None:
    sleeps = Sleeps()
    transport = LoseFirstSubmissionAnswer()
    client = WeavrClient(base_url, "sim-api-key-P1", transport=transport, sleep=sleeps)
    try:
        await client.login("alice@acme.example", "Passw0rd!Sim")
        created = await client.submit(OperationKind.TRANSFERS, [transfer()])  # no ref given: one is made
        assert len(transport.refs) == 2 and transport.refs[0] and transport.refs[0] == transport.refs[1]
        page = await client.list_bulks()
        assert page.count == 1 and page.bulkProcesses[0].bulkId == created.bulkId
    finally:
        await client.aclose()


async def test_relogin_after_the_token_was_logged_out_elsewhere(base_url: str) -> None:
    client = WeavrClient(base_url, "sim-api-key-P1")
    other = WeavrClient(base_url, "sim-api-key-P1")
    try:
        await client.login("alice@acme.example", "Passw0rd!Sim")
        first = client.token
        other.token = first
        await other.logout()  # the server forgets the token, as on expiry
        page = await client.list_bulks()
        assert page.count == 0 and client.token and client.token != first
        await client.logout()
        with pytest.raises(ApiError) as refused:
            await client.list_bulks()  # after our own logout there is nothing to renew
        assert refused.value.status == 401
    finally:
        await client.aclose()
        await other.aclose()


def test_a_bulk_id_is_one_path_segment() -> None:
    """Weavr's schema puts no pattern on bulk ids: one holding '/', '?' or '..' stays one segment."""
    from bulkdash.api.client import _seg

    assert _seg("1000001") == "1000001"
    assert _seg("../bulks?limit=1") == "..%2Fbulks%3Flimit%3D1"
