"""Following the list of bulks (the home screen's table): one page of 100, newest first, with a status filter,
polled every ~3 s while something runs and the list is on screen, ~30 s otherwise, at once when woken (an
action, a bulk webhook, a page move).

Progress needs each bulk's counts (``GET /bulks/{id}``): they are fetched for bulks that can still move, and
cached for final ones, as *background* work of the request budget (it never takes the reserve the screens'
polls need, and never waits for it: a detail the budget cannot afford now waits for the next poll, and the
row keeps the counts it had). Plain Python like ``RunFollower``: the service runs ``run`` as a task and hands
each ``BulksPage`` on; errors never escape the loop.

Failure is per record: a follow-up that fails for one bulk (a 400 for an id the server cannot read, a body
it cannot parse) marks that bulk's row with the reason (``BulksPage.row_errors``) and the others keep
updating. A bulk without an id is listed but never followed up (there is no ``/bulks/None``). Only a failed
listing is an error of the whole page (``BulksPage.error``, with the deadline of the next try).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bulkdash.api.budget import BudgetExhausted, Priority
from bulkdash.api.client import ApiError, WeavrClient
from bulkdash.contract.models import FINAL_BULK_STATUSES, BulkProcess, BulkProcessDetails
from bulkdash.service.tasks import describe
from bulkdash.waiting import wait_set

PAGE = 100
FAST_POLL_S = 3.0  # something runs and the list is on screen
SLOW_POLL_S = 30.0
#: Details of at most this many not-yet-seen final bulks per poll (each is one request of the budget).
DETAILS_PER_POLL = 10

PageKey = tuple[str | None, int]  # (status filter, page)


def page_count(total: int) -> int:
    """Pages of ``PAGE`` bulks a listing of ``total`` has (at least one, empty or not)."""
    return max(1, math.ceil(total / PAGE))


@dataclass
class BulksPage:
    """One poll: a page of bulks (newest first) and the details known for them."""

    bulks: list[BulkProcess] = field(default_factory=list)
    total: int = 0
    details: dict[str, BulkProcessDetails] = field(default_factory=dict)
    #: bulk id -> why its follow-up failed this poll (the row says it; the rest of the page is fine).
    row_errors: dict[str, str] = field(default_factory=dict)
    page_key: PageKey = (None, 0)  # (status filter, page) the poll was made for
    error: str | None = None  # the listing itself failed: nothing above is new
    #: When the next try is due after ``error``, on the client's budget clock: a deadline to count down to.
    retry_at: float | None = None

    @property
    def pages(self) -> int:
        return page_count(self.total)

    def retry_in_s(self, now: float) -> float | None:
        """Seconds left until ``retry_at`` at ``now`` (same clock), never negative."""
        return None if self.retry_at is None else max(0.0, self.retry_at - now)


class _NoWait(Exception):
    """A background follow-up met a wait for the budget (a 429 answered meanwhile): skip it, do not wait."""


def _refuse_wait(_: float) -> None:
    # Background reads wait for their share by default (``WeavrClient``); a poll must not stall the list for
    # a detail, so its ``on_wait`` refuses: the detail waits for the next poll instead.
    raise _NoWait


def _per_record(exc: ApiError) -> bool:
    """A failure that concerns this bulk only: the server answered (4xx, or a body we cannot read). No
    answer, a 5xx or a 429 says the server is unwell: the other follow-ups would fail the same way."""
    return exc.status is not None and exc.status < 500 and exc.status != 429


class BulksFollower:
    def __init__(self, on_page: Callable[[BulksPage], None]) -> None:
        self.client: WeavrClient | None = None  # set once connected; until then a poll finds nothing
        self.on_page = on_page
        self.status_filter: str | None = None
        self.page = 0  # 0 = the newest bulks
        self.total = 0
        self.on_screen = True
        self._wake = asyncio.Event()
        self._final_details: dict[str, BulkProcessDetails] = {}
        #: The last details of each bulk on the page: shown while a fresh one cannot be afforded.
        self._last_details: dict[str, BulkProcessDetails] = {}

    def clock(self) -> float:
        """The client's budget clock (deadlines are on it), or the wall clock before connecting."""
        return self.client.budget.clock() if self.client is not None else time.time()

    @property
    def key(self) -> PageKey:
        """The page wanted now: a page polled for another key is stale (the user moved meanwhile)."""
        return (self.status_filter, self.page)

    @property
    def pages(self) -> int:
        return page_count(self.total)

    def wake(self) -> None:
        """Poll now."""
        self._wake.set()

    def set_filter(self, status: str | None) -> None:
        self.status_filter = status
        self.page = 0
        self.total = 0
        self.wake()

    def move_page(self, delta: int) -> bool:
        """``delta`` pages older (positive) or newer; False when there is no page that way."""
        new = min(max(0, self.page + delta), self.pages - 1)
        if new == self.page:
            return False
        self.page = new
        self.wake()
        return True

    async def run(self) -> None:
        errors = 0
        while True:
            self._wake.clear()
            page = await self.fetch()
            if page.error:
                errors += 1
                if page.retry_at is None:
                    page.retry_at = self.clock() + min(30.0, 2.0**errors)
                delay = page.retry_in_s(self.clock()) or 0.0
            else:
                errors = 0
                running = any(b.status is not None and str(b.status) == "RUNNING" for b in page.bulks)
                delay = FAST_POLL_S if running and self.on_screen else SLOW_POLL_S
            self.on_page(page)
            await wait_set(self._wake, delay)

    async def fetch(self) -> BulksPage:
        """One poll of the page wanted now; a failed listing is a page with ``error`` (and, when the server or
        the budget says when, ``retry_at``); a failed follow-up only marks its row."""
        page = BulksPage(page_key=self.key)
        if self.client is None:
            return page
        try:
            await self._list(self.client, page)
        except BudgetExhausted as exc:
            page.error = f"Waiting: {exc.reason}"
            page.retry_at = self.clock() + min(60.0, exc.wait_s + 0.1)
        except ApiError as exc:
            page.error = str(exc)
            page.retry_at = exc.retry_at if exc.status == 429 else None
        except Exception as exc:  # a surprise must not end the polling (nor reach the screen)
            page.error = f"Unexpected error while listing bulks: {describe(exc)}"
        else:
            await self._follow_up(self.client, page)
        return page

    async def _list(self, client: WeavrClient, page: BulksPage) -> None:
        # Newest first: the API lists in ascending id order, so the newest page is the last one.
        offset = max(0, self.total - PAGE * (self.page + 1))
        result = await client.list_bulks(offset, PAGE, self.status_filter)
        if result.count != self.total and result.count > PAGE:
            self.total = result.count
            offset = max(0, result.count - PAGE * (self.page + 1))
            result = await client.list_bulks(offset, PAGE, self.status_filter)
        self.total = page.total = result.count
        page.bulks = list(reversed(result.bulkProcesses))

    def _wanted(self, page: BulksPage) -> list[str]:
        """The ids whose details this poll asks for, in page order: each at most once, none for a bulk without
        an id, none for one that has not run (progress 0), the cached ones of final bulks served from the
        cache, and at most ``DETAILS_PER_POLL`` final bulks not seen yet."""
        wanted: list[str] = []
        uncached = 0
        for bulk in page.bulks:
            bulk_id, status = bulk.bulkId, None if bulk.status is None else str(bulk.status)
            if bulk_id is None or bulk_id in wanted or bulk_id in page.details or status == "SUBMITTED":
                continue
            if status in FINAL_BULK_STATUSES:
                if (cached := self._final_details.get(bulk_id)) is not None:
                    page.details[bulk_id] = cached
                    continue
                if uncached >= DETAILS_PER_POLL:
                    continue
                uncached += 1
            wanted.append(bulk_id)
        return wanted

    async def _follow_up(self, client: WeavrClient, page: BulksPage) -> None:
        """The details of the page's bulks, one request each: a failure marks that bulk's row only. Off screen
        (a run or another screen over the list) none is fetched: the rows keep the counts they had, and the
        poll the list gets when it is shown again fetches them — the request budget goes to what is on screen
        (issue 16: following a 10,000-operation run, the list behind it had spent a request on that bulk's
        details every 30 s)."""
        last, self._last_details = self._last_details, {}
        wanted = self._wanted(page)  # also serves the cached details of final bulks (no request)
        for bulk_id in wanted if self.on_screen else []:
            try:
                client.budget.check(Priority.BACKGROUND)
                details = await client.get_bulk(bulk_id, priority=Priority.BACKGROUND, on_wait=_refuse_wait)
            except (BudgetExhausted, _NoWait):
                break  # the budget's background share is spent: the rest waits for the next poll
            except ApiError as exc:
                page.row_errors[bulk_id] = str(exc)
                if not _per_record(exc):
                    break  # the server is unwell (the status bar says so): spare it the rest
                continue
            except Exception as exc:  # one odd record must not cost the others their update
                page.row_errors[bulk_id] = describe(exc)
                continue
            page.details[bulk_id] = details
            if details.status is not None and str(details.status) in FINAL_BULK_STATUSES:
                self._final_details[bulk_id] = details
        for bulk in page.bulks:
            bulk_id = bulk.bulkId
            if bulk_id is not None and bulk_id not in page.details and bulk_id in last:
                page.details[bulk_id] = last[bulk_id]  # not fetched this time: the counts it had
            if bulk_id is not None and bulk_id in page.details:
                self._last_details[bulk_id] = page.details[bulk_id]
