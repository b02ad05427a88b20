"""``Session.remote`` whose login is refused: the error comes back, and nothing it started is left running.

A user's trial: after a wrong password, ``bulkdash report`` printed its one-line error and never exited, and
the dashboard could not quit — the webhook receiver started before the login kept its database's thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bulkdash.api.client import ApiError
from bulkdash.session import DEMO_API_KEY, DEMO_EMAIL, Session
from simulator.server import start_embedded
from simulator.settings import SimSettings
from tests.conftest import wait_for


def _new_database_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """aiosqlite's connection threads (named after their target) started since ``before`` and still alive."""
    return [
        t
        for t in set(threading.enumerate()) - before
        if t.is_alive() and not t.daemon and "_connection_worker_thread" in t.name
    ]


async def test_a_refused_login_stops_the_receiver_it_started(tmp_path: Path) -> None:
    simulator, server = await start_embedded(SimSettings(db=tmp_path / "sim.db", port=0, rate_limits="off"))
    before = set(threading.enumerate())
    try:
        with pytest.raises(ApiError) as refused:
            await Session.remote(server.url + "/multi", DEMO_API_KEY, email=DEMO_EMAIL, password="wrong")
        assert refused.value.status == 403
    finally:
        await server.stop()
        await simulator.stop()
    # With the simulator closed too (it may open a reader connection of its own meanwhile), every database
    # thread started since must end: a receiver left behind keeps its thread, and the process, alive.
    await wait_for(lambda: asyncio.sleep(0, _new_database_threads(before)), lambda left: not left)
    assert _new_database_threads(before) == []
