"""Delivers the webhook outbox over HTTP with Weavr's retry policy (BEHAVIOR §6.5).

Independent of execution: workers only append events to the outbox (in their own commit); this task reads
due events from the store, posts them through one shared keep-alive ``httpx.AsyncClient`` and records every
attempt. A slow or dead receiver therefore never slows a bulk down, and after a restart pending events and
retries simply carry on from the file (at-least-once; receivers dedupe on ``call-ref``).

While the presenter pauses the world (simulator/engine/presenter.py) no new delivery starts: due events wait
in the outbox, attempts already on the wire finish and are recorded, and the un-pause wakes the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from bulkdash.waiting import wait_set
from simulator.store.store import Store
from simulator.webhooks.post import PostClient

if TYPE_CHECKING:
    from simulator.engine.presenter import Presenter
    from simulator.faults import FaultController

log = logging.getLogger("bulkdash.simulator.webhooks")


def _skip_missing_sniffio() -> None:
    """httpcore imports the optional ``sniffio`` whenever it creates a lock (several times per request) to
    tell asyncio from trio. Where sniffio is not installed (anyio 4.x no longer brings it), every one of those
    imports is a failed search of ``sys.path``: ~15 % of the simulator's time while it delivered webhooks
    through httpx (profiled with benchmarks/webhook_delivery.py). Recorded as absent, the import fails at
    once and httpcore assumes asyncio, which is what it would have concluded. Nothing changes where it is
    installed."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_skip_missing_sniffio()


def _skip_missing_sniffio() -> None:
    """httpcore imports the optional ``sniffio`` whenever it creates a lock (several times per request) to
    tell asyncio from trio. Where sniffio is not installed (anyio 4.x no longer brings it), every one of those
    imports is a failed search of ``sys.path``: ~15 % of the simulator's time while it delivers webhooks
    (profiled with benchmarks/webhook_delivery.py). Recorded as absent, the import fails at once and
    httpcore assumes asyncio, which is what it would have concluded. Nothing changes where it is installed."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_skip_missing_sniffio()

RETRY_DELAYS_S = (10, 60, 360, 2160, 12960)  # 10 s × 6ⁿ, five retries
RETRYABLE = frozenset({408, 409, 425})
# Concurrent deliveries. httpx's pool costs grow with its connections: 64 measured 170 webhooks/s, 16 415/s.
MAX_IN_FLIGHT = 16

# (event_id, at_ms, http status, error, new delivery status, next attempt ms, attempt count)
Attempt = tuple[str, int, int | None, str | None, str, int | None, int]


def next_state(attempt_count: int, status: int | None, now_ms: int, scale: float) -> tuple[str, int | None]:
    """After attempt number ``attempt_count`` (1-based) ended with ``status`` (None: timeout/connection)."""
    if status is not None and 200 <= status < 300:
        return "DELIVERED", None
    retryable = status is None or status in RETRYABLE or status >= 500
    if retryable and attempt_count <= len(RETRY_DELAYS_S):
        return "PENDING", now_ms + int(RETRY_DELAYS_S[attempt_count - 1] * 1000 * scale)
    return "FAILED", None


class WebhookDispatcher:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], int],
        *,
        timeout_s: float,
        retry_scale: Callable[[], float],
    ) -> None:
        self.store = store
        self.clock = clock
        self.retry_scale = retry_scale
        # Plain http:// URLs go through the lean client (simulator/webhooks/post.py); https:// URLs and
        # the attempts a fault plan shapes (it is handed this httpx client) through httpx, made on first use:
        # its TLS context loads the CA bundle (~15 ms of the embedded simulator's start, issue 16).
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self.posts = PostClient(timeout_s, max_idle_per_host=MAX_IN_FLIGHT)
        self._wake = asyncio.Event()
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._results: list[Attempt] = []
        self._task: asyncio.Task[None] | None = None
        # The engine's FaultController (simulator/faults), set by the server: delivery faults of fault plans.
        self.faults: FaultController | None = None
        # The engine's Presenter, set by the server: while it pauses the world nothing new is sent.
        self.presenter: Presenter | None = None
        self.holding = False  # True while the loop waits out a paused world (tests observe it)

    def wake(self, *_: object) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="sim-webhook-dispatcher")

    @property
    def client(self) -> httpx.AsyncClient:
        """The httpx client of https:// URLs and fault plans, made on first use."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout_s),
                limits=httpx.Limits(max_connections=MAX_IN_FLIGHT),
                trust_env=False,
            )
        return self._client

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._in_flight.values()):
            task.cancel()
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        await self._record()
        if self._client is not None:
            await self._client.aclose()
        await self.posts.aclose()

    async def _record(self) -> None:
        if self._results:
            results, self._results = self._results, []
            try:
                await self.store.record_attempts(results)
            except BaseException:
                self._results = results + self._results  # not on file: record them on the next turn
                raise
            # Only now do these events leave the in-flight set: until their new state is in the file, a
            # due-events query still sees them PENDING and would send them a second time.
            for result in results:
                self._in_flight.pop(result[0], None)

    async def _loop(self) -> None:
        while True:
            try:
                # Cleared before looking, not after: a commit or a result that lands while we query is
                # then not lost (it leaves the event set and the wait below returns at once).
                self._wake.clear()
                await self._record()
                if self.presenter is not None and self.presenter.paused:
                    self.holding = True  # results of attempts in flight still wake us and get recorded
                    await self._wake.wait()
                    continue
                self.holding = False
                room = MAX_IN_FLIGHT - len(self._in_flight)
                due = await self.store.due_events(self.clock(), limit=MAX_IN_FLIGHT * 2) if room > 0 else []
                for event_id, url, headers, body, count in due:
                    if event_id in self._in_flight or room <= 0:
                        continue
                    room -= 1
                    task = asyncio.create_task(self._deliver(event_id, url, headers, body, count + 1))
                    self._in_flight[event_id] = task
                if self._results:
                    continue
                await wait_set(self._wake, await self._idle_timeout())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook dispatcher iteration failed")
                await asyncio.sleep(1)

    async def _idle_timeout(self) -> float | None:
        """How long to wait for a wake-up (a commit with events, a result) before looking again."""
        if len(self._in_flight) >= MAX_IN_FLIGHT:
            return None  # nothing can be sent before a slot frees, and a result wakes us
        next_due = await self.store.next_due_ms()
        if next_due is None:
            return None
        wait_s = (next_due - self.clock()) / 1000
        if wait_s > 0:
            return wait_s
        # The earliest PENDING event is due: normally one in flight (still PENDING in the file). A
        # result wakes us, but another event may come due meanwhile, so look again soon; never spin.
        # (With nothing in flight it came due just after the query above: look again at once.)
        return 0.05 if self._in_flight else 0.001

    async def _deliver(
        self, event_id: str, url: str, headers: dict[str, str], body: bytes, attempt: int
    ) -> None:
        status: int | None = None
        error: str | None = None
        try:
            hooks = self.faults.webhooks if self.faults is not None else None
            if hooks is not None:
                # A fault plan's delivery faults (simulator/faults/webhooks.py): outage (raised as a
                # connection error, so the retry schedule applies), holds, wire-only header changes, dupes.
                status = await hooks.deliver(self.client, event_id, url, headers, body, attempt)
            elif url.startswith("http://"):
                status = await self.posts.post(url, body, headers)
            else:
                response = await self.client.post(url, content=body, headers=headers)
                status = response.status_code
        except (httpx.TimeoutException, TimeoutError):
            error = "timeout"
        except (httpx.HTTPError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        now = self.clock()
        state, next_ms = next_state(attempt, status, now, self.retry_scale())
        self._results.append((event_id, now, status, error, state, next_ms, attempt))
        self._wake.set()  # the loop records the result, then frees the event's in-flight slot
