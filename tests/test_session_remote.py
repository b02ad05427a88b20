"""``Session.remote`` whose login is refused: the error comes back, and nothing it started is left running.

A user's trial: after a wrong password, ``bulkdash report`` printed its one-line error and never exited, and
the dashboard could not quit — the webhook receiver started before the login kept its database's thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bulkdash.api.client import ApiError
from bulkdash.cli import build_parser
from bulkdash.cli.dashboard import check_args, connector_for
from bulkdash.serving import bind_socket_now
from bulkdash.session import DEMO_API_KEY, DEMO_EMAIL, DEMO_PASSWORD, Session
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


async def test_a_report_reads_the_history_while_a_dashboard_holds_the_receivers_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's trial: ``bulkdash report --profile P`` failed with "[Errno 98] Address already in use" while a
    dashboard on the same profile was open; a second dashboard said only "Address already in use"."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the receiver's default history file
    simulator, server = await start_embedded(SimSettings(db=tmp_path / "sim.db", port=0, rate_limits="off"))
    holder = bind_socket_now("127.0.0.1", 0)  # the open dashboard's receiver
    port = holder.getsockname()[1]
    url = server.url + "/multi"
    login = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    try:
        with pytest.raises(OSError) as busy:
            await Session.remote(url, DEMO_API_KEY, **login, receiver_port=port)
        assert str(busy.value).startswith(
            f"the webhook receiver cannot listen on 127.0.0.1:{port}: the port is in use (another bulkdash"
        )
        session = await Session.remote(url, DEMO_API_KEY, **login, receiver_port=port, serve_webhooks=False)
        try:
            assert session.receiver is not None and not session.receiver.running
            assert await session.receiver.history() == []  # read, not served
        finally:
            await session.close()
    finally:
        holder.close()
        await server.stop()
        await simulator.stop()


def test_the_report_command_does_not_serve_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    async def fake_remote(url: str, api_key: str, **kwargs: object) -> object:
        seen.update(kwargs)
        return object()

    monkeypatch.setattr("bulkdash.session.Session.remote", fake_remote)
    flags = ["--url", "http://127.0.0.1:9/multi", "--api-key", "k", "--token", "t"]
    asyncio.run(connector_for(build_parser().parse_args([*flags, "report", "1"]))())
    assert seen["serve_webhooks"] is False
    asyncio.run(connector_for(build_parser().parse_args(flags))())  # the dashboard itself listens
    assert seen["serve_webhooks"] is True


def test_the_report_takes_its_credentials_after_the_command_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """``bulkdash report 7 --url U --api-key K --token T`` was refused by argparse (a user's trial); only the
    flags before ``report`` were read."""
    seen: dict[str, object] = {}

    async def fake_remote(url: str, api_key: str, **kwargs: object) -> object:
        seen.update(kwargs, url=url, api_key=api_key)
        return object()

    monkeypatch.setattr("bulkdash.session.Session.remote", fake_remote)
    after = ["report", "7", "--url", "http://127.0.0.1:9/multi", "--api-key", "k", "--token", "t"]
    args = build_parser().parse_args(after)
    assert check_args(args) is None
    asyncio.run(connector_for(args)())
    assert (seen["url"], seen["api_key"], seen["token"]) == ("http://127.0.0.1:9/multi", "k", "t")
    login = ["report", "7", "--url", "http://127.0.0.1:9/multi", "--api-key", "k"]
    args = build_parser().parse_args([*login, "--email", "a@b.c", "--password", "pw"])
    assert check_args(args) is None
    asyncio.run(connector_for(args)())
    assert (seen["email"], seen["password"]) == ("a@b.c", "pw")
