"""A database file that cannot serve — not a database, truncated, from a newer simulator, read-only, or in use
by another simulator — is refused at start with one line naming it (exit 2), never a traceback and a hang;
the embedded simulator raises the same error instead of hanging its host."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bulkdash.serving import QuietServer, ServerStartError
from bulkdash.session import EmbeddedOptions, Session
from simulator.server import Simulator
from simulator.store.schema import MIGRATIONS
from simulator.store.store import Store, StoreError
from tests.conftest import wait_for
from tests.simulator.helpers import free_port, sim_is_up, sim_settings, start_sim_process, stop_process

#: The tester's bound for "exits promptly"; generous enough for a busy 2-core machine's interpreter start.
EXIT_WITHIN_S = 5.0


async def _good_db(path: Path) -> bytes:
    """A real simulator database (seeded, a bulk's worth of tables), closed: its bytes."""
    sim = Simulator(sim_settings(path.parent, db=path))
    await sim.start()
    await sim.stop()
    return await asyncio.to_thread(path.read_bytes)


def _sqlite_threads() -> set[threading.Thread]:
    """aiosqlite's connection threads: not daemons, so one left open keeps the process from exiting."""
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name and t.is_alive()}


def _assert_no_new_sqlite_threads(before: set[threading.Thread]) -> None:
    # A closed connection's thread ends just after close() returns: wait for it (bounded), then check.
    for thread in _sqlite_threads() - before:
        thread.join(timeout=5)
    assert _sqlite_threads() <= before


@pytest.fixture
async def good_bytes(tmp_path: Path) -> bytes:
    return await _good_db(tmp_path / "source.db")


def _make(kind: str, path: Path, good: bytes) -> None:
    if kind == "garbage":
        path.write_bytes(os.urandom(3000))
    elif kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    else:  # a newer schema
        path.write_bytes(good)
        con = sqlite3.connect(path)
        con.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
        con.close()


PROBLEMS = {
    "garbage": "file is not a database",
    "truncated": "malformed",
    "newer": "newer than this simulator",
}


# --- the store ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(PROBLEMS))
async def test_open_refuses_a_file_that_is_not_a_usable_database(
    tmp_path: Path, good_bytes: bytes, kind: str
) -> None:
    db = tmp_path / f"{kind}.db"
    _make(kind, db, good_bytes)
    threads = _sqlite_threads()
    store = Store(db)
    with pytest.raises(StoreError, match=PROBLEMS[kind]) as refused:
        await store.open()
    assert str(db) in str(refused.value) and "\n" not in str(refused.value)
    _assert_no_new_sqlite_threads(threads)  # nothing left open
    again = Store(db)  # the lock was released with the failure: the next open meets the same problem
    with pytest.raises(StoreError, match=PROBLEMS[kind]):
        await again.open()


async def test_a_second_store_on_the_same_file_is_refused_naming_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    first = Store(db)
    await first.open()
    try:
        assert (tmp_path / "one.db.lock").read_text().strip() == str(os.getpid())
        with pytest.raises(StoreError, match=rf"in use by another simulator \(pid {os.getpid()}\)"):
            await Store(db).open()
    finally:
        await first.close()
    second = Store(db)  # released on close
    await second.open()
    await second.close()


# --- bulkdash-sim serve ----------------------------------------------------------------------------
def _serve(db: Path, *args: str) -> tuple[int, str, float]:
    """Run ``bulkdash-sim serve`` on ``db`` until it exits by itself (killed after 15 s): status, stderr."""
    started = time.monotonic()
    proc = start_sim_process(db, free_port(), *args)
    try:
        _, err = proc.communicate(timeout=15)
    finally:
        stop_process(proc)
    return proc.returncode, err.decode(), time.monotonic() - started


def _assert_refused(status: int, err: str, elapsed: float, db: Path, problem: str) -> None:
    assert status == 2, err
    assert elapsed < EXIT_WITHIN_S
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bulkdash-sim: "), err
    assert str(db) in lines[0] and problem in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_serve_exits_2_with_one_line_on_a_bad_file(tmp_path: Path, good_bytes: bytes, kind: str) -> None:
    db = tmp_path / f"{kind}.db"
    _make(kind, db, good_bytes)
    _assert_refused(*_serve(db), db, PROBLEMS[kind])


@pytest.mark.slow
def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    db = tmp_path / "garbage.db"
    db.write_bytes(os.urandom(3000))
    status, err, _ = _serve(db, "--debug")
    assert status == 2 and "Traceback" in err and err.rstrip().endswith("file is not a database")


@pytest.mark.slow
async def test_a_second_simulator_on_the_same_file_is_refused(tmp_path: Path) -> None:
    db, port = tmp_path / "shared.db", free_port()
    first = start_sim_process(db, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            await wait_for(lambda: sim_is_up(client), bool, timeout=20)
        _assert_refused(*_serve(db), db, f"in use by another simulator (pid {first.pid})")
    finally:
        stop_process(first)


def _can_mount_read_only() -> bool:
    """A user+mount namespace (``unshare -rm``) lets the test bind-mount a path read-only, even as root."""
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10)
    return probe.returncode == 0


def _serve_read_only(db: Path, mount: Path) -> tuple[int, str, float]:
    """``bulkdash-sim serve`` on ``db`` with ``mount`` (the file itself, or its directory) read-only."""
    env = {**os.environ, "SIM_RATE_LIMITS": "off"}
    script = (
        f'mount --bind "{mount}" "{mount}" && mount -o remount,ro,bind "{mount}" "{mount}" && '
        f'exec "{sys.executable}" -m simulator serve --port {free_port()} --db "{db}"'
    )
    started = time.monotonic()
    proc = subprocess.Popen(["unshare", "-rm", "sh", "-c", script], env=env, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=15)
    finally:
        stop_process(proc)
    return proc.returncode, err.decode(), time.monotonic() - started


@pytest.mark.slow
@pytest.mark.skipif(not _can_mount_read_only(), reason="needs unshare -rm (user and mount namespaces)")
@pytest.mark.parametrize("what", ["file", "file system"])
async def test_serve_refuses_a_read_only_database(tmp_path: Path, good_bytes: bytes, what: str) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    db = directory / "sim.db"
    db.write_bytes(good_bytes)
    mount = db if what == "file" else directory
    problem = "readonly database" if what == "file" else "Read-only file system"
    _assert_refused(*_serve_read_only(db, mount), db, problem)


# --- embedded ----------------------------------------------------------------------------------------
@pytest.fixture(params=["held", "garbage"])
async def unusable(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Path, str]]:
    """A database file the embedded simulator cannot use: held by another store, or not a database."""
    db = tmp_path / f"{request.param}.db"
    if request.param == "garbage":
        db.write_bytes(os.urandom(3000))
        yield db, "file is not a database"
        return
    holder = Store(db)
    await holder.open()
    try:
        yield db, "in use by another simulator"
    finally:
        await holder.close()


async def test_the_embedded_simulator_raises_the_error_and_leaves_nothing_running(
    unusable: tuple[Path, str],
) -> None:
    db, problem = unusable
    threads = _sqlite_threads()
    started = time.monotonic()
    with pytest.raises(StoreError, match=problem) as refused:
        await Session.embedded(EmbeddedOptions(db=db))
    assert time.monotonic() - started < EXIT_WITHIN_S
    assert str(db) in str(refused.value)
    assert isinstance(refused.value, OSError)  # the dashboard shows OSErrors as "cannot start: <reason>"
    _assert_no_new_sqlite_threads(threads)  # neither the receiver's store nor the simulator's stays open


async def test_a_failing_lifespan_is_an_error_for_the_host_not_its_exit() -> None:
    """uvicorn calls sys.exit when an app's start-up fails; embedded, that must not end the host's loop."""

    @contextlib.asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[None]:
        raise RuntimeError("cannot start")
        yield  # pragma: no cover

    from starlette.applications import Starlette

    server = QuietServer(Starlette(lifespan=lifespan))
    with pytest.raises(ServerStartError):
        await server.start()


def test_scenario_run_on_a_bad_file_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from simulator.cli import main

    db = tmp_path / "garbage.db"
    db.write_bytes(os.urandom(3000))
    assert main(["scenario", "run", "all-succeed", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"bulkdash-sim: cannot use the simulator database {db}: file is not a database"
