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
from bulkdash.config import ConfigError

T = TypeVar("T")


class NotConnected(Exception):
    """A call that needs the session before it exists."""


#: Exceptions whose message is already a sentence fit for a person (the rest get their type name in front).
_SPOKEN: tuple[type[Exception], ...] = (ApiError, BudgetExhausted, ConfigError, OSError, NotConnected)


def describe(exc: BaseException) -> str:
    """``exc`` as a sentence: its own message when it is written for people, else ``Type: message``."""
    simctl = sys.modules.get("bulkdash.simctl")  # loaded with training: never imported just to check
    if isinstance(exc, _SPOKEN) or (simctl is not None and isinstance(exc, simctl.SimControlError)):
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
