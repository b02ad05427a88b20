"""Reports through the service (issue 13): a 10,000-operation report completes within Weavr's quota by pacing
itself, says how far it is (``ReportProgressed``) and can be cancelled with nothing written. On the virtual
clock of ``tests/test_report.py``: a minute of waiting for the budget takes no time."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from bulkdash.report import ReportProgress
from bulkdash.service import DashboardService
from bulkdash.service.events import Event, ReportProgressed, ReportWritten
from bulkdash.session import Session
from tests.test_report import FakeWeavr, VirtualTime, _paced_client


def paced_service(server: FakeWeavr, time: VirtualTime, report_dir: Path) -> DashboardService:
    async def connect() -> Session:
        return Session(_paced_client(time, server, network=True), label="http://weavr.test/multi")

    return DashboardService(connect, report_dir=report_dir)


async def test_a_10000_operation_report_paces_itself_within_the_quota_and_says_how_far(
    tmp_path: Path,
) -> None:
    time = VirtualTime()
    server = FakeWeavr(time)
    service = paced_service(server, time, tmp_path)
    progress: list[ReportProgress] = []
    service.subscribe(lambda e: progress.append(e.progress) if isinstance(e, ReportProgressed) else None)
    try:
        assert await service.connect() is not None
        written = await service.export_report("7")
    finally:
        await service.aclose()
    assert written.error is None and written.path == tmp_path / "bulkdash-report-7"
    assert len((written.path / "operations.jsonl").read_text().splitlines()) == 10_000
    assert server.refused == 0 and max(server.per_minute.values()) <= 90  # within the quota, paced
    assert progress[-1].pages_done == progress[-1].pages_total == 100
    assert any(p.waiting for p in progress) and progress[-1].waited_s >= 30  # it waited, and said so
    # A wait is told as it starts (its length) and counted as waited only once it is over: "waited 51 s"
    # the moment a 51-second wait began was read as time spent.
    for starting, after in itertools.pairwise(progress):
        if starting.waiting:
            assert starting.wait_s > 0 and after.waited_s == starting.waited_s + starting.wait_s
    assert not service.report_running("7")


async def test_a_second_report_of_a_bulk_keeps_the_first(tmp_path: Path) -> None:
    time = VirtualTime()
    server = FakeWeavr(time, n=150)
    service = paced_service(server, time, tmp_path)
    try:
        assert await service.connect() is not None
        first = await service.export_report("7")
        second = await service.export_report("7")
    finally:
        await service.aclose()
    assert first.path == tmp_path / "bulkdash-report-7" and second.path == tmp_path / "bulkdash-report-7-2"
    assert (first.path / "report.md").exists() and (second.path / "report.md").exists()


async def test_a_cancelled_report_says_so_and_writes_nothing(tmp_path: Path) -> None:
    time = VirtualTime()
    service = paced_service(FakeWeavr(time, n=1_000), time, tmp_path)
    events: list[Event] = []

    def hear(event: Event) -> None:
        events.append(event)
        if isinstance(event, ReportProgressed) and event.progress.pages_done == 3:
            assert service.cancel_report("7")

    service.subscribe(hear)
    try:
        assert await service.connect() is not None
        report = service.export_report("7")
        assert service.export_report("7") is report  # one report per bulk at a time
        with pytest.raises(asyncio.CancelledError):
            await report
    finally:
        await service.aclose()
    ended = [e for e in events if isinstance(e, ReportWritten)]
    assert ended == [ReportWritten("7", None, cancelled=True)]
    assert ended[0].notice.text == "Report cancelled: nothing was written"
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 -- a test's tmp dir, after the run
    assert not service.report_running("7") and not service.cancel_report("7")


async def test_a_report_of_an_id_holding_a_path_stays_in_the_report_directory(tmp_path: Path) -> None:
    time = VirtualTime()
    service = paced_service(FakeWeavr(time, n=3), time, tmp_path / "reports")
    try:
        assert await service.connect() is not None
        written = await service.export_report("../../escaped")
    finally:
        await service.aclose()
    assert written.path is not None and written.path.parent == tmp_path / "reports"
    assert written.path.name == "bulkdash-report-.._.._escaped"
