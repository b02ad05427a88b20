"""``DashboardService.aclose`` at any moment — while connecting, while a 10,000-operation run executes, while
a report is being written — ends every task and closes the embedded simulator's and the receiver's
databases, well within the half second quitting may take (no Textual here: the dashboard adds ~0.2 s)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from bulkdash.contract.kinds import OperationKind
from bulkdash.model.generate import generate
from bulkdash.service import BulkAction, DashboardService
from bulkdash.service.events import Event
from bulkdash.session import Session
from tests.service.helpers import Databases, databases, embedded, eventually

#: The service's share of the 0.5 s quitting may take (two servers winding down side by side, ~0.2 s) ...
SERVICE_QUIT_S = 0.3
#: ... after the connect under way, if any, has finished (~0.2 s cold): cut short, it would leak the
#: half-started simulator. Well under the 5 s a dashboard once stayed up after ``q`` while connecting.
QUIT_WHILE_CONNECTING_S = 0.8


async def quit_within_bound(service: DashboardService, dbs: Databases, *, connected_at: list[float]) -> None:
    """``aclose`` closes both databases, within ``SERVICE_QUIT_S`` of when it was called or (while connecting)
    of when the connect it lets finish ended."""
    called = time.monotonic()
    await service.aclose()
    ended = time.monotonic()
    assert len(dbs.opened) >= 2, "the simulator's and the receiver's databases"
    assert dbs.still_open() == []
    # Nothing is left running that could open (or use) a database once the loop closes.
    assert [t.get_coro() for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    closing = ended - max([called, *connected_at])
    assert closing < SERVICE_QUIT_S, f"closing took {closing:.3f} s"
    assert ended - called < QUIT_WHILE_CONNECTING_S, f"aclose took {ended - called:.3f} s"


async def test_quit_while_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    with databases(monkeypatch) as dbs:
        service = DashboardService(embedded)
        heard: list[Event] = []
        service.subscribe(heard.append)
        connecting = service.connect()
        connected_at: list[float] = []
        connecting.add_done_callback(lambda _: connected_at.append(time.monotonic()))
        # The receiver's database is open, the simulator is still starting: the moment that leaked it.
        await eventually(lambda: dbs.opened)
        assert not connecting.done()
        await quit_within_bound(service, dbs, connected_at=connected_at)
    session = connecting.result()
    assert (isinstance(session, Session) and not session.receiver) or not session.receiver.running
    assert heard == [], "nothing is said once quitting has begun"


async def test_quit_while_a_ten_thousand_operation_run_executes(monkeypatch: pytest.MonkeyPatch) -> None:
    with databases(monkeypatch) as dbs:

        async def slow() -> Session:
            return await embedded(op_delay_ms=1)  # 10,000 operations: ~10 s

        service = DashboardService(slow)
        await service.connect()
        created = await service.submit(OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 10_000))
        assert created.bulk_id is not None
        model = service.follow_run(created.bulk_id).model
        assert (await service.act(created.bulk_id, BulkAction.EXECUTE)).error is None
        async with service.events() as events:
            await events.until(lambda: model.status == "RUNNING" and model.attempted > 0)
        await quit_within_bound(service, dbs, connected_at=[])
    assert model.attempted < 10_000


async def test_quit_while_a_report_is_written(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with databases(monkeypatch) as dbs:
        service = DashboardService(embedded, report_dir=tmp_path)
        session = await service.connect()
        assert session is not None
        created = await service.submit(OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 10_000))
        assert created.bulk_id is not None
        calls_before = len(session.calls)
        report = service.export_report(created.bulk_id)  # 100 pages of operations to fetch

        def pages_fetched() -> int:
            return sum("/operations" in c.path for c in list(session.calls)[calls_before:])

        await eventually(lambda: pages_fetched() >= 3)
        assert not report.done()
        await quit_within_bound(service, dbs, connected_at=[])
    assert report.cancelled()
    assert not (tmp_path / f"bulkdash-report-{created.bulk_id}").exists()


async def test_quit_is_idempotent_and_concurrent(service: DashboardService) -> None:
    await asyncio.gather(service.aclose(), service.aclose())
    await service.aclose()
    assert service.closing
    # Nothing starts once closed: the future is cancelled and the work never runs.
    assert service.submit(OperationKind.TRANSFERS, []).cancelled()


async def test_a_task_that_will_not_end_does_not_keep_the_databases_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A task deaf to cancellation (as the bulk list's poller was, when ``asyncio.wait_for`` swallowed its
    cancel: bulkdash/waiting.py) gets half the quit's time; the session still closes in the other half."""
    release = asyncio.Event()

    async def deaf() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await release.wait()

    with databases(monkeypatch) as dbs:
        service = DashboardService(embedded)
        await service.connect()
        stuck = service._tasks.spawn(deaf(), "deaf")
        await service.aclose(timeout=1.0)
        assert len(dbs.opened) >= 2 and dbs.still_open() == []
        assert not stuck.done()
        release.set()
        await stuck
