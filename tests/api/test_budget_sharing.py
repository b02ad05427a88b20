"""The request budget shared fairly: background work never takes the interactive reserve and waits for its
share instead of failing; the client's link says "waiting for the request budget" (with a deadline that
counts down) apart from "unreachable" and "rate limited". Time is injected: nothing here waits on the wall
clock."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bulkdash.api.budget import BudgetExhausted, Priority, RequestBudget
from bulkdash.api.client import ApiError, LinkState, WeavrClient

BULK = {"bulkId": "9", "status": "RUNNING", "submittedItemsCount": 1}
#: A window boundary of every default window (minute, hour, day), so counts start from zero.
T0 = 86_400.0 * 20_000


class VirtualTime:
    """A clock that moves only when someone sleeps; sleeping yields once, so other tasks run meanwhile."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def client_for(time: VirtualTime, handler, budget: RequestBudget | None = None) -> WeavrClient:  # type: ignore[no-untyped-def]
    return WeavrClient(
        "http://weavr.test/multi",
        "k",
        transport=httpx.MockTransport(handler),
        budget=budget or RequestBudget(clock=time),
        sleep=time.sleep,
        rand=lambda: 1.0,
    )


def test_background_stops_at_its_share_and_leaves_the_reserve_to_interactive() -> None:
    time = VirtualTime()
    budget = RequestBudget(((90, 60),), clock=time)
    assert budget.allowance(90, Priority.BACKGROUND) == 72
    for _ in range(72):
        budget.check(Priority.BACKGROUND)
        budget.spend(Priority.BACKGROUND)
    with pytest.raises(BudgetExhausted) as refused:
        budget.check(Priority.BACKGROUND)
    assert refused.value.until == T0 + 60 and "background share" in refused.value.reason
    for _ in range(18):  # the reserve is whole
        budget.check(Priority.INTERACTIVE)
        budget.spend(Priority.INTERACTIVE)
    with pytest.raises(BudgetExhausted):
        budget.check(Priority.INTERACTIVE)
    assert budget.total == 90 and budget.total_background == 72


def test_a_tiny_window_still_lets_background_make_progress() -> None:
    budget = RequestBudget(((1, 60),), clock=VirtualTime())
    assert budget.allowance(1, Priority.BACKGROUND) == 1
    with pytest.raises(ValueError):
        RequestBudget(reserve=1.0)


async def test_acquire_waits_for_the_next_window_on_the_injected_clock() -> None:
    time = VirtualTime(T0 + 50)
    budget = RequestBudget(((3, 60),), clock=time)
    heard: list[float] = []
    for _ in range(3):  # background share of 3 is 2: the third waits for the next window
        await budget.acquire(Priority.BACKGROUND, time.sleep, lambda exc: heard.append(exc.wait_s))
        budget.spend(Priority.BACKGROUND)
    assert heard == [10.0] and time.now == T0 + 60


async def test_a_background_read_waits_for_the_budget_an_interactive_one_fails_at_once() -> None:
    time = VirtualTime()
    budget = RequestBudget(((5, 60),), clock=time)
    client = client_for(time, lambda r: httpx.Response(200, json=BULK), budget)
    for _ in range(5):
        await client.get_bulk("9")
    with pytest.raises(BudgetExhausted):
        await client.get_bulk("9")
    waited: list[float] = []
    bulk = await client.get_bulk("9", priority=Priority.BACKGROUND, on_wait=waited.append)
    assert bulk.bulkId == "9" and waited == [60.0] and time.now == T0 + 60
    await client.aclose()


async def test_a_background_read_waits_out_a_429_however_long() -> None:
    time = VirtualTime()
    answers = [
        httpx.Response(429, headers={"x-ratelimit-limit": "100, 100;w=60", "x-ratelimit-reset": "42"}),
        httpx.Response(200, json=BULK),
    ]
    client = client_for(time, lambda r: answers.pop(0))
    waited: list[float] = []
    bulk = await client.get_bulk("9", priority=Priority.BACKGROUND, on_wait=waited.append)
    assert bulk.bulkId == "9" and waited == [42.0]
    await client.aclose()


async def test_the_link_tells_waiting_for_the_budget_from_rate_limited_and_unreachable() -> None:
    time = VirtualTime()
    budget = RequestBudget(((2, 60),), clock=time)
    answers: list[httpx.Response | Exception] = [
        httpx.Response(200, json=BULK),
        httpx.Response(200, json=BULK),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = client_for(time, handler, budget)
    client.max_attempts = 1
    changes: list[LinkState] = []
    client.link.on_change.append(lambda link: changes.append(link.state))
    assert client.link.state is LinkState.CONNECTING
    await client.get_bulk("9")
    await client.get_bulk("9")
    assert client.link.state is LinkState.CONNECTED and client.link.retry_at is None
    with pytest.raises(BudgetExhausted) as spent:
        await client.get_bulk("9")
    link = client.link
    assert link.state is LinkState.WAITING_FOR_BUDGET and link.state == "waiting for the request budget"
    assert link.retry_at == spent.value.until == T0 + 60
    assert link.retry_in_s() == 60.0
    time.now += 45
    assert link.retry_in_s() == 15.0  # a deadline: it counts down as time passes
    time.now += 20
    assert link.retry_in_s() == 0.0

    answers.append(httpx.ConnectError("refused"))
    with pytest.raises(ApiError):
        await client.get_bulk("9")
    assert client.link.state is LinkState.UNREACHABLE and "Cannot reach" in (client.link.reason or "")

    answers.append(httpx.Response(429, headers={"x-ratelimit-reset": "600"}))
    with pytest.raises(ApiError) as limited:
        await client.get_bulk("9")
    assert client.link.state is LinkState.RATE_LIMITED
    assert limited.value.retry_at == client.link.retry_at == time.now + 600
    with pytest.raises(BudgetExhausted):
        await client.get_bulk("9")  # our budget now holds until the server's reset: still "rate limited"
    assert client.link.state is LinkState.RATE_LIMITED

    answers.append(httpx.Response(503, json={"message": "down"}))
    time.now += 601
    with pytest.raises(ApiError):
        await client.get_bulk("9")
    assert client.link.state is LinkState.SERVER_ERROR
    assert changes == [
        LinkState.CONNECTED,
        LinkState.WAITING_FOR_BUDGET,
        LinkState.UNREACHABLE,
        LinkState.RATE_LIMITED,
        LinkState.SERVER_ERROR,
    ]
    await client.aclose()


async def test_background_waits_do_not_turn_the_link_to_waiting() -> None:
    time = VirtualTime()
    client = client_for(time, lambda r: httpx.Response(200, json=BULK), RequestBudget(((1, 60),), clock=time))
    await client.get_bulk("9", priority=Priority.BACKGROUND)
    await client.get_bulk("9", priority=Priority.BACKGROUND)  # waits a window, silently for the link
    assert client.link.state is LinkState.CONNECTED and time.waits == [60.0]
    await client.aclose()
