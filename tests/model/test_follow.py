"""The follower's poll loop: errors become updates with a back-off and it recovers; webhooks stand in
for polls."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bulkdash.api.budget import RequestBudget
from bulkdash.api.client import ApiError
from bulkdash.contract.models import BulkProcessDetails, BulkProcessOperationsPaged, status_counts
from bulkdash.model.follow import RunFollower, RunUpdate
from bulkdash.model.run import RunModel
from tests.conftest import wait_for


def details(status: str, completed: int, n: int = 10) -> BulkProcessDetails:
    counts = {"SUBMITTED": n - completed, "COMPLETED": completed}
    return BulkProcessDetails(
        bulkId="7", status=status, submittedItemsCount=n, operationStatusCounts=status_counts(counts)
    )


class FakeClient:
    """Answers from a script; an ``Exception`` in the script is raised instead."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.budget = RequestBudget()
        self.calls: list[str] = []

    async def get_bulk(self, bulk_id: str) -> BulkProcessDetails:
        self.calls.append("bulk")
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            raise item
        return item

    async def list_operations(self, bulk_id: str, *args: Any) -> BulkProcessOperationsPaged:
        self.calls.append("page")
        return BulkProcessOperationsPaged(count=0, responseCount=0, operations=[])


async def test_errors_back_off_and_recover() -> None:
    client = FakeClient(
        [
            ApiError(None, "Cannot reach the server"),
            ApiError(503, "Service unavailable"),
            details("RUNNING", 3),
            details("COMPLETED", 10),
        ]
    )
    client.budget = RequestBudget(clock=lambda: 500.0)  # a still clock: each deadline is now + the back-off
    updates: list[RunUpdate] = []
    follower = RunFollower(client, RunModel("7"), updates.append, backoff_s=0.01)  # type: ignore[arg-type]
    task = asyncio.create_task(follower.run())
    try:
        await wait_for(lambda: asyncio.sleep(0, follower.model.status), lambda s: s == "COMPLETED")
    finally:
        task.cancel()
    errors = [u for u in updates if u.error]
    assert [e.error for e in errors] == ["Cannot reach the server", "Service unavailable"]
    # A deadline, not a number of seconds: what is left counts down as the clock moves.
    assert [e.retry_at for e in errors] == [pytest.approx(500.01), pytest.approx(500.02)]
    assert [e.retry_in_s(500.015) for e in errors] == [0.0, pytest.approx(0.005)]
    assert any(u.change and u.change.became_final for u in updates)


async def test_a_webhook_restarts_the_wait_and_an_end_webhook_finishes() -> None:
    client = FakeClient([details("RUNNING", 1)])
    updates: list[RunUpdate] = []
    model = RunModel("7")
    follower = RunFollower(client, model, updates.append)  # type: ignore[arg-type]
    task = asyncio.create_task(follower.run())
    try:
        await wait_for(lambda: asyncio.sleep(0, len(client.calls)), lambda n: n >= 2)  # bulk + first page
        polls = client.calls.count("bulk")
        follower.note_webhook("RUNNING", {"SUBMITTED": 5, "COMPLETED": 5})
        assert model.counts["COMPLETED"] == 5 and client.calls.count("bulk") == polls
        client.script = [details("COMPLETED", 10)]
        follower.note_webhook("COMPLETED", {"SUBMITTED": 0, "COMPLETED": 10})
        assert model.is_final
    finally:
        task.cancel()
    assert any(u.change and u.change.became_final for u in updates)


async def test_cancelling_the_follower_leaves_no_waiter_behind() -> None:
    client = FakeClient([details("RUNNING", 1)])
    follower = RunFollower(client, RunModel("7"), lambda update: None)  # type: ignore[arg-type]
    task = asyncio.create_task(follower.run())
    await wait_for(
        lambda: asyncio.sleep(0, len(client.calls)), lambda n: n >= 2
    )  # now waiting for the next poll
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    # A waiter being cancelled is fine (it ends at the next turn of the loop); one left waiting is not.
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.cancelling()]
    assert [t for t in left if not t.done()] == []
