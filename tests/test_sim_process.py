"""The embedded simulator in its own process (``bulkdash.sim_process``, issue 16): it serves on a loopback
socket the dashboard bound, its control token never on its command line, it goes when the dashboard goes
(closed, or killed outright), and when it dies under the dashboard the dashboard says so in words."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bulkdash.session import Session
from bulkdash.sim_process import ProcessOptions, SimProcess, SimulatorStopped, spawn
from bulkdash.ui.app import BulkdashApp
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[1]
GONE_WITHIN_S = 10.0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


async def _gone(pid: int) -> None:
    async def alive() -> bool:
        return _alive(pid)

    await wait_for(alive, lambda running: not running, timeout=GONE_WITHIN_S)


@pytest.fixture
def process() -> SimProcess:
    proc = spawn(ProcessOptions(fresh=True, op_delay_ms=0, rate_limits="off"))
    yield proc
    proc.kill()


async def test_it_serves_on_loopback_with_a_private_control_token(process: SimProcess) -> None:
    session = await Session.spawned(process)
    try:
        assert process.url.startswith("http://127.0.0.1:") and session.is_embedded
        assert session.client.token  # logged in as the demo user
        cmdline = await asyncio.to_thread(Path(f"/proc/{process.proc.pid}/cmdline").read_bytes)
        assert process.token.encode() not in cmdline
        async with httpx.AsyncClient() as plain:
            refused = await plain.get(f"{process.url}/_sim/config")
        assert refused.status_code in (401, 403)  # the control API requires the token...
        control = session.sim_control()
        assert control is not None
        assert await control.presenter() is not None  # ...which the session has
    finally:
        await session.close()
    assert not process.running  # closing the session stops the simulator


async def test_it_goes_when_the_dashboard_is_killed(tmp_path: Path) -> None:
    parent = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-c",
            "import os, sys\nfrom bulkdash.sim_process import ProcessOptions, spawn\n"
            "p = spawn(ProcessOptions(fresh=True))\nprint(p.proc.pid, flush=True)\n"
            # Spawning runs before the dashboard's first paint: it imports nothing of the servers.
            "assert 'uvicorn' not in sys.modules and 'pydantic' not in sys.modules\nos._exit(9)\n",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    pid = int(parent.stdout.strip())
    assert parent.returncode == 9  # no atexit ran: only the closed pipe tells the simulator
    await _gone(pid)


async def test_the_dashboard_says_when_its_simulator_dies(process: SimProcess) -> None:
    async def connect() -> Session:
        return await Session.spawned(process)

    app = BulkdashApp(connect)
    async with app.run_test(size=(120, 36)) as pilot:
        while app.session is None or app.home.polls == 0:
            await pilot.pause(0.02)
        process.proc.kill()
        while app.connection.state != "not connected":
            await pilot.pause(0.02)
        assert app.connection.reason is not None
        assert app.connection.reason.startswith("the embedded simulator stopped (signal 9)")
        await pilot.pause(0.1)
        assert app.caught == []  # said in words, no traceback


async def test_a_simulator_that_cannot_start_says_why(tmp_path: Path) -> None:
    not_a_db = tmp_path / "simulator.db"
    not_a_db.write_bytes(b"this is not a database\n" * 100)
    process = spawn(ProcessOptions(db=not_a_db))
    try:
        with pytest.raises(SimulatorStopped, match=r"the embedded simulator stopped \(exit status 2\): ."):
            await Session.spawned(process)
    finally:
        process.kill()
    assert not_a_db.read_bytes().startswith(b"this is not")  # left as it was
