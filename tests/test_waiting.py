"""``wait_set`` never loses a cancellation, which ``asyncio.wait_for`` does on Python 3.11 when the cancel
arrives after the event is set and before the waiting task resumes (how a quitting dashboard hung)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import pytest

from bulkdash.waiting import wait_set

Waiter = Callable[[asyncio.Event], Awaitable[bool]]


async def outcomes(waiter: Waiter) -> list[str]:
    """Cancel a waiter 0-3 turns of the loop after its event is set: what became of each cancel."""
    seen = []
    for turns in range(4):
        event = asyncio.Event()
        task = asyncio.create_task(waiter(event))
        await asyncio.sleep(0)  # waiting
        event.set()
        for _ in range(turns):
            await asyncio.sleep(0)
        accepted = task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            seen.append("cancelled")
        else:
            seen.append("lost" if accepted else "ended first")
    return seen


async def test_a_cancel_is_never_lost() -> None:
    assert "lost" not in await outcomes(lambda event: wait_set(event, 10))


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="wait_for is built on asyncio.timeout since 3.12")
async def test_wait_for_loses_it_on_this_python() -> None:
    """The control: the same harness catches ``asyncio.wait_for``."""

    async def with_wait_for(event: asyncio.Event) -> bool:
        await asyncio.wait_for(event.wait(), 10)
        return True

    assert "lost" in await outcomes(with_wait_for)


async def test_it_says_whether_the_event_was_set() -> None:
    event = asyncio.Event()
    assert await wait_set(event, 0.01) is False
    event.set()
    assert await wait_set(event, 0.01) is True
    assert await wait_set(event, None) is True
