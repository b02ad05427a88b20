"""``Session.remote`` whose login is refused: the error comes back, and nothing it started is left running.

A user's trial: after a wrong password, ``bulkdash report`` printed its one-line error and never exited, and
the dashboard could not quit — the webhook receiver started before the login kept its database's thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bulkdash.api.client import ApiError
from bulkdash.session import DEMO_API_KEY, DEMO_EMAIL, Session
from simulator.server import start_embedded
from simulator.settings import SimSettings


async def test_a_refused_login_stops_the_receiver_it_started(tmp_path: Path) -> None:
    simulator, server = await start_embedded(SimSettings(db=tmp_path / "sim.db", port=0, rate_limits="off"))
    try:
        before = set(threading.enumerate())
        with pytest.raises(ApiError) as refused:
            await Session.remote(server.url + "/multi", DEMO_API_KEY, email=DEMO_EMAIL, password="wrong")
        assert refused.value.status == 403
        # aiosqlite's connection threads (named after their target): the receiver's must be gone, or the
        # process cannot exit. (Other new threads, such as the event loop's executor, end on their own.)
        left = [
            t
            for t in set(threading.enumerate()) - before
            if t.is_alive() and not t.daemon and "_connection_worker_thread" in t.name
        ]
        assert left == [], left
    finally:
        await server.stop()
        await simulator.stop()
