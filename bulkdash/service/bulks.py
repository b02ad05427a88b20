"""Following the list of bulks (the home screen's table): one page of 100, newest first, with a status filter,
polled every ~3 s while something runs and the list is on screen, ~30 s otherwise, at once when woken (an
action, a bulk webhook, a page move).

Progress needs each bulk's counts (``GET /bulks/{id}``): they are fetched for bulks that can still move,
within the request budget, and cached for final ones. Plain Python like ``RunFollower``: the service runs
``run`` as a task and hands each ``BulksPage`` on; errors never escape the loop, they become pages with a
retry delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from bulkdash.api.budget import BudgetExhausted
from bulkdash.api.client import ApiError, WeavrClient
from bulkdash.contract.models import FINAL_BULK_STATUSES, BulkProcess, BulkProcessDetails

PAGE = 100
FAST_POLL_S = 3.0  # something runs and the list is on screen
SLOW_POLL_S = 30.0
FINAL = {s.value for s in FINAL_BULK_STATUSES}
#: Details of at most this many not-yet-seen final bulks per poll (each is one request of the budget).
DETAILS_PER_POLL = 10

PageKey = tuple[str | None, int]  # (status filter, page)


@dataclass
class BulksPage:
    """One poll: a page of bulks (newest first) and the details known for them."""

    bulks: list[BulkProcess] = field(default_factory=list)
    total: int = 0
    details: dict[str, BulkProcessDetails] = field(default_factory=dict)
    page_key: PageKey = (None, 0)  # (status filter, page) the poll was made for
    error: str | None = None
    retry_in_s: float | None = None


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

    @property
    def key(self) -> PageKey:
        """The page wanted now: a page polled for another key is stale (the user moved meanwhile)."""
        return (self.status_filter, self.page)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PAGE))

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
            self.on_page(page)
            if page.error:
                errors += 1
                delay = page.retry_in_s or min(30.0, 2.0**errors)
            else:
                errors = 0
                running = any(str(b.status) == "RUNNING" for b in page.bulks)
                delay = FAST_POLL_S if running and self.on_screen else SLOW_POLL_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def fetch(self) -> BulksPage:
        """One poll of the page wanted now; a failure is a page with ``error`` (and maybe ``retry_in_s``)."""
        page = BulksPage(page_key=self.key)
        if self.client is None:
            return page
        try:
            await self._fill(self.client, page)
        except BudgetExhausted as exc:
            page.error, page.retry_in_s = f"Waiting: {exc.reason}", min(60.0, exc.wait_s + 0.1)
        except ApiError as exc:
            page.error = str(exc)
            page.retry_in_s = exc.retry_after_s if exc.status == 429 else None
        except Exception as exc:  # a surprise must not end the polling (nor reach the screen)
            page.error = f"Unexpected error while listing bulks: {type(exc).__name__}: {exc}"
        return page

    async def _fill(self, client: WeavrClient, page: BulksPage) -> None:
        # Newest first: the API lists in ascending id order, so the newest page is the last one.
        offset = max(0, self.total - PAGE * (self.page + 1))
        result = await client.list_bulks(offset, PAGE, self.status_filter)
        if result.count != self.total and result.count > PAGE:
            self.total = result.count
            offset = max(0, result.count - PAGE * (self.page + 1))
            result = await client.list_bulks(offset, PAGE, self.status_filter)
        self.total = page.total = result.count
        page.bulks = list(reversed(result.bulkProcesses))
        uncached = 0
        for bulk in page.bulks:
            status = str(bulk.status)
            if status == "SUBMITTED":
                continue  # nothing ran yet: progress is 0 without asking
            cached = self._final_details.get(bulk.bulkId)
            if cached is not None and status in FINAL:
                page.details[bulk.bulkId] = cached
                continue
            if status in FINAL:
                if uncached >= DETAILS_PER_POLL:
                    continue
                uncached += 1
            elif client.budget.headroom() < 0.5:
                continue  # keep the budget for the run being watched
            details = await client.get_bulk(bulk.bulkId)
            page.details[bulk.bulkId] = details
            if str(details.status) in FINAL:
                self._final_details[bulk.bulkId] = details
