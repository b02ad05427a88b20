"""Quitting the dashboard at any moment — while connecting, while a 10,000-operation run executes, while a
report is being written — ends it within half a second with the embedded simulator's and the receiver's
databases closed and nothing left running; and once it is gone, a late event touches no screen.

The last test runs ``python -m bulkdash`` under a pseudo-terminal, as a person would, and quits it with
``q`` and with SIGTERM: exit status 0, no traceback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from bulkdash.api.client import WeavrClient
from bulkdash.service.events import Connected, ConnectionChanged, PresenterChanged, TaskFailed
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.messages import ServiceEvent
from tests.service.helpers import Databases, databases
from tests.ui.helpers import SIZE, connected, execute, make_app, notes, submit_bulk, until
from tests.ui.pty_run import Terminal

#: From the key press to the app gone (headless: no terminal to restore), databases closed.
QUIT_S = 0.5


async def press_quit(pilot: Pilot, key: str = "q") -> float:
    """Press ``key`` (q) without waiting for the app to settle (it is going away); returns when pressed."""
    pressed = time.monotonic()
    asyncio.get_running_loop().create_task(pilot.press(key))
    return pressed


def check_quit(app: BulkdashApp, dbs: Databases, pressed: float) -> None:
    elapsed = time.monotonic() - pressed
    assert len(dbs.opened) >= 2, "the simulator's and the receiver's databases"
    assert dbs.still_open() == []
    assert elapsed < QUIT_S, f"quitting took {elapsed:.3f} s"
    running = [t.get_coro() for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert [c for c in running if "press" not in repr(c)] == []


async def test_quit_while_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    with databases(monkeypatch, hold=True) as dbs:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            # The receiver is up, the simulator's store is being opened: quitting here used to leave it open.
            await until(pilot, lambda: dbs.holding, what="the simulator to be starting")
            assert app.session is None
            pressed = await press_quit(pilot)
            await until(pilot, lambda: app.service.closing, what="quitting to begin")
            dbs.release()
        check_quit(app, dbs, pressed)
    assert app.return_code == 0


async def test_quit_while_a_ten_thousand_operation_run_executes(monkeypatch: pytest.MonkeyPatch) -> None:
    with databases(monkeypatch) as dbs:
        app = make_app(op_delay_ms=1)  # 10,000 operations: ~10 s
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            run = await submit_bulk(pilot, size=10_000, fail_percent=0)
            await execute(pilot)
            await until(
                pilot, lambda: run.model.status == "RUNNING" and run.model.attempted > 0, what="running"
            )
            pressed = await press_quit(pilot)
        check_quit(app, dbs, pressed)
    assert run.model.attempted < 10_000


async def test_quit_while_a_report_is_written(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    listing = WeavrClient.list_operations

    async def held_after_page_3(
        client: WeavrClient, bulk_id: str, offset: int = 0, *args: Any, **kw: Any
    ) -> Any:
        if offset >= 300:
            await asyncio.Event().wait()  # the report stays under way until quitting cancels it
        return await listing(client, bulk_id, offset, *args, **kw)

    # Without the hold, a report that runs fast (the budget's minute just turned) can end before the quit.
    monkeypatch.setattr(WeavrClient, "list_operations", held_after_page_3)
    with databases(monkeypatch) as dbs:
        app = make_app()
        app.report_dir = tmp_path
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            run = await submit_bulk(pilot, size=10_000, fail_percent=0)
            session = app.session
            assert session is not None
            before = len(session.calls)
            await pilot.press("e")  # 100 pages of operations to fetch, then three files

            def pages() -> int:
                return sum("/operations" in c.path for c in list(session.calls)[before:])

            await until(pilot, lambda: pages() >= 3, what="the report under way")
            pressed = await press_quit(pilot)
        check_quit(app, dbs, pressed)
    assert app.last_report is None and not (tmp_path / f"bulkdash-report-{run.bulk_id}").exists()


async def test_a_late_event_touches_no_screen() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
    assert app.screen_stack == []
    # The receiver (or a task) speaks after the screens are gone: nothing happens, nothing raises (a late
    # webhook's status-bar refresh used to raise ScreenStackError).
    for event in (ConnectionChanged("error"), Connected("late"), PresenterChanged({"paused": True})):
        app._hear(event)
        app.on_service_event(ServiceEvent(event))
    app.refresh_status_bars()


async def test_a_failed_task_is_one_toast() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)

        async def broken() -> None:
            raise KeyError("bulkId")

        app.service._tasks.spawn(broken(), "submit")
        await until(pilot, lambda: "KeyError: 'bulkId'" in notes(app), what="the toast")
        assert TaskFailed("submit", "KeyError: 'bulkId'").notice.title == "Unexpected error (submit)"

        async def broken_worker() -> None:
            raise ValueError("odd")

        app.run_worker(broken_worker(), name="history", exit_on_error=False)
        await until(pilot, lambda: "ValueError: odd" in notes(app), what="the worker's toast")
        assert app.is_running


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("how", ["q", "SIGTERM", "q while connecting"])
def test_the_process_quits_cleanly(how: str, tmp_path: Path) -> None:
    with Terminal.start(["-m", "bulkdash", "--fresh", "--op-delay-ms", "0"], tmp_path) as term:
        if how == "q while connecting":
            term.wait_for("Connecting")
        else:
            term.wait_for("No bulks yet")
        pressed = time.monotonic()
        if how == "SIGTERM":
            os.kill(term.pid, signal.SIGTERM)
        else:
            term.type("q")
        status = term.wait_exit(timeout=5.0)
        elapsed = time.monotonic() - pressed
    assert status == 0, term.output()
    assert "Traceback" not in term.output() and "Event loop is closed" not in term.output(), term.output()
    assert elapsed < PROCESS_QUIT_S, f"{how}: the process took {elapsed:.3f} s to end"


#: The whole process, from the key (or signal) to its exit; 0.33 s measured once connected, up to ~0.55 s
#: while connecting (the connect is let finish). Generous here: a loaded CI machine, and the bug this guards
#: against kept the dashboard up for 5 s or more.
PROCESS_QUIT_S = 1.5
