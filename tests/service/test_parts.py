"""The service's parts on their own: the bulk list's follower (newest page first, cached final details,
errors as pages), the task runner (one report per failure, nothing starts once closed), error sentences."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bulkdash.api.budget import BudgetExhausted, Priority, RequestBudget
from bulkdash.api.client import ApiError
from bulkdash.contract.models import BulkProcess, BulkProcessDetails, BulkProcessesPaged, status_counts
from bulkdash.service.actions import BulkAction
from bulkdash.service.bulks import BulksFollower, BulksPage
from bulkdash.service.tasks import Tasks, attempt, describe


def bulk(bulk_id: int, status: str) -> BulkProcess:
    return BulkProcess(bulkId=str(bulk_id), status=status, submittedItemsCount=10)


class FakeClient:
    """``count`` bulks with ids 1..count, the odd ones COMPLETED and the even ones RUNNING."""

    def __init__(self, count: int, failure: Exception | None = None) -> None:
        self.count = count
        self.failure = failure
        self.budget = RequestBudget()
        self.details: list[str] = []
        self.pages: list[tuple[int, int]] = []

    async def list_bulks(self, offset: int, limit: int, status: str | None) -> BulkProcessesPaged:
        if self.failure is not None:
            raise self.failure
        self.pages.append((offset, limit))
        ids = range(offset + 1, min(self.count, offset + limit) + 1)
        found = [bulk(i, "COMPLETED" if i % 2 else "RUNNING") for i in ids]
        return BulkProcessesPaged(count=self.count, responseCount=len(found), bulkProcesses=found)

    async def get_bulk(self, bulk_id: str, **_: Any) -> BulkProcessDetails:
        self.details.append(bulk_id)
        status = "COMPLETED" if int(bulk_id) % 2 else "RUNNING"
        counts = {"COMPLETED": 10} if status == "COMPLETED" else {"COMPLETED": 5, "SUBMITTED": 5}
        return BulkProcessDetails(
            bulkId=bulk_id, status=status, submittedItemsCount=10, operationStatusCounts=status_counts(counts)
        )


def follower(client: Any) -> tuple[BulksFollower, list[BulksPage]]:
    pages: list[BulksPage] = []
    bulks = BulksFollower(pages.append)
    bulks.client = client
    return bulks, pages


async def test_the_newest_page_first_with_final_details_cached() -> None:
    client = FakeClient(150)
    bulks, _ = follower(client)
    page = await bulks.fetch()
    # 150 bulks: the API lists ascending, so the newest 100 are at offset 50 (found once the count is known).
    assert client.pages == [(0, 100), (50, 100)]
    assert [b.bulkId for b in page.bulks[:2]] == ["150", "149"] and page.total == 150
    assert len(page.details) == 50 + 10  # every running bulk; at most 10 final ones not seen yet
    client.details.clear()
    await bulks.fetch()
    assert len(client.details) == 50 + 10  # the 10 final ones fetched before are cached
    assert bulks.move_page(1) and bulks.key == (None, 1) and not bulks.move_page(1)
    older = await bulks.fetch()
    # The oldest page is the first 100 (offset 0, overlapping the newest): its newest bulk is 100.
    assert older.page_key == (None, 1) and older.bulks[0].bulkId == "100"


@pytest.mark.parametrize(
    ("failure", "error", "retry"),
    [
        (BudgetExhausted(4.0, "90 requests per minute"), "Waiting: 90 requests per minute", 4.1),
        (ApiError(503, "Service unavailable"), "Service unavailable", None),
        (ValueError("odd"), "Unexpected error while listing bulks: ValueError: odd", None),
    ],
)
async def test_errors_become_pages(failure: Exception, error: str, retry: float | None) -> None:
    client = FakeClient(3, failure)
    client.budget = RequestBudget(clock=lambda: 1000.0)
    bulks, _ = follower(client)
    page = await bulks.fetch()
    expected = None if retry is None else pytest.approx(retry)
    assert (page.error, page.retry_in_s(1000.0)) == (error, expected) and page.bulks == []
    if retry is not None:  # a deadline on the budget's clock: it counts down
        assert page.retry_in_s(1003.0) == pytest.approx(retry - 3)


async def test_a_filter_starts_again_from_the_newest_page() -> None:
    bulks, _ = follower(FakeClient(250))
    await bulks.fetch()
    bulks.move_page(2)
    bulks.set_filter("FAILED")
    assert bulks.key == ("FAILED", 0) and bulks.total == 0


async def test_a_failed_task_is_reported_once_and_nothing_starts_once_closed() -> None:
    failures: list[tuple[str, str]] = []
    tasks = Tasks(lambda name, exc: failures.append((name, describe(exc))))

    async def broken() -> None:
        raise KeyError("bulkId")

    async def forever() -> None:
        await asyncio.Event().wait()

    with pytest.raises(KeyError):
        await tasks.spawn(broken(), "submit")
    assert failures == [("submit", "KeyError: 'bulkId'")]
    waiting = tasks.spawn(forever(), "follow-7")
    assert await tasks.cancel_all(1.0)
    assert waiting.cancelled()
    late = forever()
    assert tasks.spawn(late, "late").cancelled()
    assert late.cr_frame is None  # closed, not left "never awaited"


async def test_attempt_turns_exceptions_into_sentences() -> None:
    async def refused() -> None:
        raise ApiError(409, "Conflict", code="INVALID_STATE")

    outcome = await attempt(refused)
    assert outcome.value is None and isinstance(outcome.exc, ApiError)
    assert outcome.error == str(outcome.exc)
    assert describe(OSError(13, "Permission denied")) == "[Errno 13] Permission denied"
    assert describe(RuntimeError("boom")) == "RuntimeError: boom"


def test_the_lifecycle_actions_are_typed() -> None:
    assert [a.value for a in BulkAction] == ["execute", "pause", "resume", "cancel"]
    assert BulkAction("pause").done == "Paused" and BulkAction.CANCEL.verb == "cancel"


# --- follow-ups are per record (issue 13): one bad bulk marks its own row, the others keep updating ------
class Listing:
    """A page of given bulks; ``outcomes`` says how ``GET /bulks/{id}`` answers per id (details by default),
    and every follow-up is recorded with its priority."""

    def __init__(self, bulks: list[BulkProcess], outcomes: dict[str, Exception] | None = None) -> None:
        self.bulks = bulks
        self.outcomes = outcomes or {}
        self.budget = RequestBudget()
        self.asked: list[tuple[str, str]] = []  # (bulk id, priority)

    async def list_bulks(self, offset: int, limit: int, status: str | None) -> BulkProcessesPaged:
        return BulkProcessesPaged(count=len(self.bulks), bulkProcesses=list(reversed(self.bulks)))

    async def get_bulk(self, bulk_id: str, *, priority: Priority, on_wait: Any = None) -> BulkProcessDetails:
        self.asked.append((bulk_id, str(priority)))
        if (outcome := self.outcomes.get(bulk_id)) is not None:
            raise outcome
        counts = {"COMPLETED": 4, "SUBMITTED": 6}
        return BulkProcessDetails(
            bulkId=bulk_id,
            status="RUNNING",
            submittedItemsCount=10,
            operationStatusCounts=status_counts(counts),
        )


def running(bulk_id: str | None) -> BulkProcess:
    return BulkProcess(bulkId=bulk_id, status="RUNNING", submittedItemsCount=10)


REFUSED = ApiError(400, "Invalid request: bulk_id REGEX ['^[0-9]+$']", code="VALIDATION")


async def test_a_refused_follow_up_marks_its_bulk_and_the_rest_of_the_page_updates() -> None:
    client = Listing(
        [running("1"), running("abc-123"), running(None), running(None), running("2"), running("2")],
        {"abc-123": REFUSED},
    )
    bulks, _ = follower(client)
    page = await bulks.fetch()
    assert page.error is None and len(page.bulks) == 6
    assert page.row_errors == {"abc-123": str(REFUSED)}
    assert sorted(page.details) == ["1", "2"] and page.details["1"].counts()["COMPLETED"] == 4
    # No request for a bulk without an id, one per id however often it is listed, all of them background.
    assert sorted(client.asked) == [("1", "background"), ("2", "background"), ("abc-123", "background")]


async def test_an_unwell_server_stops_the_follow_ups_and_rows_keep_their_counts() -> None:
    client = Listing([running("1"), running("2"), running("3")])
    bulks, _ = follower(client)
    first = await bulks.fetch()
    assert sorted(first.details) == ["1", "2", "3"]
    client.asked.clear()
    client.outcomes = {"1": ApiError(503, "Service unavailable")}  # the first row's follow-up
    second = await bulks.fetch()
    assert client.asked == [("1", "background")]  # the others would fail the same way: not asked
    assert second.error is None and second.row_errors == {"1": "Service unavailable"}
    assert sorted(second.details) == ["1", "2", "3"]  # the counts they had, not blanks


async def test_follow_ups_never_take_the_reserve_nor_wait_for_it() -> None:
    client = Listing([running("1"), running("2")])
    client.budget = RequestBudget(((10, 60),), clock=lambda: 60.0)  # background may use 8 of 10
    for _ in range(8):
        client.budget.spend()
    bulks, _ = follower(client)
    page = await bulks.fetch()
    assert client.asked == [] and page.details == {} and page.row_errors == {} and page.error is None
    client.budget.check()  # the reserve is still there for what is on screen
