"""The service's background work: every task is started through ``Tasks.spawn`` (named and owned), all of them
are cancelled together, within a time bound, when the service closes, and an exception escaping one is
reported once through ``on_error`` — never a traceback over the terminal, never silently lost.

Also ``describe``: the one place that turns an exception into the sentence a person reads.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bulkdash.api.budget import BudgetExhausted
from bulkdash.api.client import ApiError
from bulkdash.contract import refusals
from bulkdash.contract.refusals import Context

T = TypeVar("T")


class NotConnected(Exception):
    """A call that needs the session before it exists."""


#: Exceptions whose message is already a sentence fit for a person (the rest get their type name in front).
_SPOKEN: tuple[type[Exception], ...] = (ApiError, BudgetExhausted, OSError, NotConnected)


def describe(exc: BaseException, context: Context | None = None) -> str:
    """``exc`` as a sentence: its own message when it is written for people, else ``Type: message``.

    With ``context`` (the action, the bulk, the bulks the service knows), a refusal the server answered is
    phrased again with it (``bulkdash.contract.refusals``): "Another transfers bulk, 1000507, is running…"
    rather than the context-free sentence the client could write. A 4xx answer is complete in itself; a 5xx
    keeps its request-ref, which support needs."""
    # Only an error answer is re-phrased: a 429's own sentence already says when (from its headers), and an
    # ApiError of a 2xx (a body that could not be read) is not a refusal.
    status = exc.status if isinstance(exc, ApiError) else None
    if context is not None and isinstance(exc, ApiError) and status is not None and 400 <= status != 429:
        sentence, _ = refusals.answer(status, exc.body, context, retry_after_s=exc.retry_after_s)
        ref = f" (request-ref {exc.request_ref})" if exc.request_ref and status >= 500 else ""
        return f"{sentence}{ref}"
    simctl = sys.modules.get("bulkdash.simctl")  # loaded with training: never imported just to check
    # Likewise the config (pydantic-settings), loaded only when a profile is used: off the start-up path.
    config = sys.modules.get("bulkdash.config")
    if (
        isinstance(exc, _SPOKEN)
        or (simctl is not None and isinstance(exc, simctl.SimControlError))
        or (config is not None and isinstance(exc, config.ConfigError))
    ):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What some work came to: its ``value``, or the exception ``exc`` that ended it."""

    value: T | None = None
    exc: Exception | None = None

    @property
    def error(self) -> str | None:
        return None if self.exc is None else describe(self.exc)


async def attempt(work: Callable[[], Awaitable[T]]) -> Outcome[T]:
    """Run ``work``: a failure becomes the outcome (for an event that says it), never a crash. The one place
    where the service's calls meet their exceptions."""
    try:
        return Outcome(await work())
    except Exception as exc:
        return Outcome(exc=exc)


class Tasks:
    def __init__(self, on_error: Callable[[str, BaseException], None]) -> None:
        """``on_error(name, exc)`` hears of an exception that escaped a task (a bug: the work itself turns
        expected failures into events)."""
        self._on_error = on_error
        self._running: set[asyncio.Task[Any]] = set()
        self.closed = False

    def spawn(self, work: Coroutine[Any, Any, T], name: str) -> asyncio.Future[T]:
        """Run ``work`` in the background; the future can be awaited (tests) or dropped (the dashboard).

        Once closed, ``work`` is not started and the future is cancelled: nothing new begins while quitting.
        """
        if self.closed:
            work.close()
            refused: asyncio.Future[T] = asyncio.get_running_loop().create_future()
            refused.cancel()
            return refused
        task = asyncio.create_task(work, name=name)
        self._running.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._on_error(task.get_name(), exc)

    async def cancel_all(self, timeout: float, *, keep: Collection[asyncio.Future[Any]] = ()) -> bool:
        """Close, cancel every task but ``keep``, wait up to ``timeout`` s for them; True if all ended."""
        self.closed = True
        doomed = [task for task in self._running if task not in keep]
        for task in doomed:
            task.cancel()
        if not doomed:
            return True
        _, pending = await asyncio.wait(doomed, timeout=max(0.0, timeout))
        return not pending
