"""Bounded waits that never lose a cancellation: ``wait_set`` waits for an ``asyncio.Event``, at most N s.

``asyncio.wait_for(event.wait(), timeout)`` reads the same, but on Python 3.11 a cancellation that arrives
after the event is set and before the waiting task resumes is swallowed (gh-86296; 3.12 rebuilt ``wait_for``
on ``asyncio.timeout``): ``cancel()`` says yes, and the task carries on. A poller in a ``while True`` loop
then never ends. That is how a dashboard quitting under load hung: its bulk-list poller was cancelled as it
was woken, kept polling, the quit's deadline ran out waiting for it, the session's databases were never
closed and their threads kept the process from exiting (2 runs in 12 of ``benchmarks.dash_requests``' smoke
test on a loaded machine). ``asyncio.timeout`` tells its own cancellation from anyone else's.
"""

from __future__ import annotations

import asyncio


async def wait_set(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until ``event`` is set (True) or ``timeout`` seconds pass (False; None: no bound)."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True
