"""Following one bulk: the poll loop that feeds a ``RunModel`` from the client, within the request budget.

No Textual here: the dashboard runs ``RunFollower.run`` in a worker and turns each ``RunUpdate`` into a
message; tests and benchmarks drive it directly. Errors never escape the loop: they become updates with
a message and a back-off, and the loop recovers when the server does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bulkdash.api.budget import BudgetExhausted
from bulkdash.api.client import ApiError, WeavrClient
from bulkdash.model.run import MAX_RUNNING_DELAY_S, DetailsChange, RunModel

#: The counts on screen of a long run are never older than this (issue 16). The model paces a long run at
#: ``MAX_RUNNING_DELAY_S``; the follower then waits as long as this bound allows — the answer of the next poll
#: lands just before the counts shown turn ``FRESH_S`` old — which is what makes following a run of minutes
#: cost ~one request per ``FRESH_S`` (a 10,000-operation run at 50 ms: ~100 requests, not 120).
FRESH_S = 5.0
#: Kept between that answer and the bound: a request slower than the last one, the loop's own delay.
FRESH_MARGIN_S = 0.05
#: The poll period while the world is paused: a trainee reading a brief for minutes must not spend the
#: request budget (90 a minute) on a run that cannot move.
HELD_POLL_S = 5.0
#: After a step of the paused world, how long the follower keeps its running pace to see the stepped
#: operation end, when it does not see its count move sooner (the step may have gone to another bulk).
STEP_WATCH_S = 10.0


@dataclass(slots=True)
class RunUpdate:
    change: DetailsChange | None = None
    changed_rows: list[int] = field(default_factory=list)
    page_replaced: bool = False  # the whole page is new (first load, page move, filter): rebuild rows
    error: str | None = None
    #: When the next try is due, on the client's budget clock (``client.budget.clock``): a deadline, so a
    #: "retrying in N s" counts down however late it is drawn.
    retry_at: float | None = None

    def retry_in_s(self, now: float) -> float | None:
        """Seconds left until ``retry_at`` at ``now`` (same clock), never negative."""
        return None if self.retry_at is None else max(0.0, self.retry_at - now)


class RunFollower:
    def __init__(
        self,
        client: WeavrClient,
        model: RunModel,
        on_update: Callable[[RunUpdate], None],
        *,
        backoff_s: float = 1.0,
    ) -> None:
        self.client = client
        self.model = model
        self.on_update = on_update
        self.on_screen = True
        self._wake = asyncio.Event()
        self._rest = asyncio.Event()  # fresh counts arrived by webhook: restart the wait
        self._errors = 0
        self.backoff_s = backoff_s  # first retry after an error; doubles up to 30 s
        #: How long the last details request took (its answer is what refreshes the counts).
        self.details_rtt_s = 0.0
        #: After a step: (attempted count then, monotonic deadline) until the count moves or the deadline.
        self._stepped: tuple[int, float] | None = None

    def wake(self) -> None:
        """Poll now (the user moved the page, changed the filter, or acted on the bulk)."""
        self._wake.set()

    def expect_step(self, after_s: float = 0.0, within_s: float = STEP_WATCH_S) -> None:
        """The paused world was let run one operation, which takes ``after_s`` (its delay): poll then, and at
        the running pace rather than the held one until this bulk's count moves (or ``within_s`` passes), so
        the stepped operation shows as soon as it has run — a trainee waited ~5 s for each step, with the
        counts and the rows disagreeing meanwhile. Not at once: that poll could only find it running, and a
        presenter stepping every second spent the request budget twice as fast."""
        self._stepped = (self.model.attempted, time.monotonic() + after_s + within_s)
        if after_s > 0:
            asyncio.get_running_loop().call_later(after_s, self.wake)
        else:
            self.wake()

    def _resting(self) -> bool:
        """Polls rest at ``HELD_POLL_S``: the simulator's world is paused (presenter, or a scenario waiting
        for its trainee: ``model.world_paused``), so nothing moves until someone acts, and every act wakes
        this follower; unless a step is on its way here."""
        if self._stepped is not None:
            before, until = self._stepped
            if self.model.attempted > before or self.model.is_final or time.monotonic() > until:
                self._stepped = None
        return self._stepped is None and self.model.world_paused

    def note_webhook(self, status: str, counts: dict[str, int]) -> None:
        """A bulk webhook for this bulk arrived: apply it as a free poll."""
        change = self.model.apply_progress_event(status, counts)
        if change is not None:
            self.on_update(RunUpdate(change=change))
            if change.became_final or self.model.pages_to_fetch():
                self.wake()
            else:
                self._rest.set()

    async def step(self) -> RunUpdate:
        """One poll: the bulk's details, then only the page(s) that can have changed."""
        update = RunUpdate()
        sent = time.monotonic()
        details = await self.client.get_bulk(self.model.bulk_id)
        self.details_rtt_s = time.monotonic() - sent
        update.change = self.model.apply_details(details)
        for request in self.model.pages_to_fetch():
            fresh = self.model.page_is_empty()
            page = await self.client.list_operations(
                self.model.bulk_id, request.offset, request.limit, request.status
            )
            update.changed_rows += self.model.apply_page(request, page.operations, page.count)
            update.page_replaced = update.page_replaced or fresh
        return update

    async def run(self) -> None:
        clock = self.client.budget.clock
        while True:
            self._wake.clear()
            try:
                update = await self.step()
                self._errors = 0
                self.on_update(update)
                paced = self.model.next_poll_delay(
                    on_screen=self.on_screen, headroom=self.client.budget.headroom()
                )
                delay = self._fresh_delay(paced)
                if delay is not None and self._resting():
                    delay = max(delay, HELD_POLL_S)
            except BudgetExhausted as exc:
                delay = min(exc.wait_s + 0.1, 60.0)
                self.on_update(RunUpdate(error=f"Waiting: {exc.reason}", retry_at=clock() + delay))
            except ApiError as exc:
                self._errors += 1
                delay = (
                    exc.retry_after_s
                    if exc.status == 429 and exc.retry_after_s
                    else min(30.0, self.backoff_s * 2 ** (self._errors - 1))
                )
                self.on_update(RunUpdate(error=str(exc), retry_at=clock() + delay))
            if delay is None:
                await self._wake.wait()  # final: sleep until someone asks (page move, filter)
                continue
            await self._wait(delay)

    def _fresh_delay(self, delay: float | None) -> float | None:
        """The model's ``delay``, stretched for a long run on screen (paced at ``MAX_RUNNING_DELAY_S``) to the
        longest wait that keeps its counts within ``FRESH_S``: from how old they are now and how long the
        next answer takes to come back. Shorter paces (a short run, the first polls), slower ones (off
        screen, a shrinking budget) and every other state are the model's."""
        if delay != MAX_RUNNING_DELAY_S or not self.on_screen or self.model.status != "RUNNING":
            return delay
        age = self.model.staleness_s() or 0.0
        return max(delay, FRESH_S - FRESH_MARGIN_S - age - self.details_rtt_s)

    async def _wait(self, delay: float) -> None:
        """Sleep ``delay`` or until woken; a webhook with fresh counts restarts the sleep (it was a poll)."""
        deadline = time.monotonic() + delay
        while (remaining := deadline - time.monotonic()) > 0:
            self._rest.clear()
            woke = asyncio.ensure_future(self._wake.wait())
            rested = asyncio.ensure_future(self._rest.wait())
            try:
                done, _ = await asyncio.wait(
                    {woke, rested}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
            finally:  # also when the follower itself is cancelled: no waiter may outlive it
                woke.cancel()
                rested.cancel()
            if woke in done:
                return
            if rested in done:
                deadline = time.monotonic() + delay  # the counts are fresh again: the wait starts over
