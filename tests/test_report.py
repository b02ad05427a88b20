"""Run reports: a golden Markdown file of a known run, the JSON Lines, and no secret in any output."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from bulkdash.api.budget import DEFAULT_WINDOWS, RequestBudget
from bulkdash.api.client import WeavrClient
from bulkdash.contract.kinds import OperationKind
from bulkdash.contract.models import FINAL_BULK_STATUSES
from bulkdash.model.generate import generate
from bulkdash.report import Report, ReportProgress, build_report
from bulkdash.session import DEMO_API_KEY, EmbeddedOptions, Session

T = TypeVar("T")
GOLDEN = Path(__file__).parent / "golden" / "report_transfers.md"
FINAL = {str(s) for s in FINAL_BULK_STATUSES}
SECRETS = (DEMO_API_KEY, "sim-webhooks-key-P1", "Passw0rd!Sim")


async def _known_run() -> tuple[Session, str]:
    """Fresh simulator: 10 transfers, 2 to blocked card 5003, ON_FAILURE_CONTINUE, run to the end."""
    session = await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off"))
    ended = asyncio.Event()
    session.on_webhook(lambda r: ended.set() if r.bulk_status in FINAL else None)
    items = generate(OperationKind.TRANSFERS, 10, 0.2, token="g")
    created = await session.client.submit(OperationKind.TRANSFERS, items)
    await session.client.execute(created.bulkId, "ON_FAILURE_CONTINUE")
    await asyncio.wait_for(ended.wait(), 10)
    return session, created.bulkId


async def test_report_of_a_known_run(tmp_path: Path) -> None:
    session, bulk_id = await _known_run()
    try:
        assert session.receiver is not None
        hooks = await session.receiver.history(bulk_id=bulk_id)
        report = await build_report(
            session.client, bulk_id, webhooks=hooks, timeline=session.timeline, stable=True, now=lambda: 0
        )
        failed_only = await build_report(session.client, bulk_id, status="FAILED")
        token = session.client.token
    finally:
        await session.close()
    assert bulk_id == "1000001"
    if os.environ.get("BULKDASH_REGEN_GOLDEN"):
        GOLDEN.write_text(report.markdown, encoding="utf-8")
    assert report.markdown == GOLDEN.read_text(encoding="utf-8")

    out = report.write(tmp_path / "r")
    assert sorted(p.name for p in out.iterdir()) == ["operations.jsonl", "report.md", "webhooks.jsonl"]
    ops = [json.loads(line) for line in (out / "operations.jsonl").read_text().splitlines()]
    assert [op["sequence"] for op in ops] == list(range(1, 11))
    failed = [op for op in ops if op["status"] == "FAILED"]
    assert len(failed) == 2 and all("5003" in op["path"] or "5003" in json.dumps(op) for op in failed)
    assert all(op["errorCode"] for op in failed)
    assert [op["sequence"] for op in failed_only.operations] == [op["sequence"] for op in failed]
    webhooks = [json.loads(line) for line in (out / "webhooks.jsonl").read_text().splitlines()]
    assert len(webhooks) == len(hooks) >= 1
    assert webhooks[-1]["bulkStatus"] == "PARTIALLY_COMPLETED" and webhooks[-1]["signatureV2"] == "valid"
    everything = "".join(p.read_text() for p in out.iterdir())
    for secret in (*SECRETS, token):
        assert secret and secret not in everything


def test_redaction() -> None:
    from bulkdash.report import redact

    assert redact({"a": [{"token": "x", "Authorization": "Bearer y", "ok": 1}]}) == {
        "a": [{"token": "***", "Authorization": "***", "ok": 1}]
    }


@pytest.mark.parametrize("stable", [True, False])
async def test_report_without_session_extras(stable: bool) -> None:
    session = await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off"))
    try:
        created = await session.client.submit(OperationKind.TRANSFERS, generate(OperationKind.TRANSFERS, 3))
        report = await build_report(session.client, created.bulkId, stable=stable, now=lambda: 0)
    finally:
        await session.close()
    assert "No webhooks recorded" in report.markdown and "No timeline" in report.markdown
    assert ("1970-01-01 00:00:00.000 UTC" in report.markdown) is not stable
    assert len(report.operations) == 3 and report.webhooks == []


# --- a report of 10,000 operations within Weavr's quota, paced, while the dashboard keeps polling ---------
class VirtualTime:
    """Discrete-event time for tasks that wait only by ``sleep``: the clock jumps to the earliest wake-up
    once every task started with ``spawn`` is asleep, so concurrent sleepers see the time they would see
    for real (a report waiting a minute does not make the poller's 4.5 s last a minute), without waiting."""

    def __init__(self) -> None:
        self.now = 86_400.0 * 20_000  # a boundary of the minute, hour and day windows
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._running = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), wake))
        self._advance()
        await wake

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        async def tracked() -> T:
            try:
                return await work
            finally:
                self._running -= 1
                self._advance()

        self._running += 1
        return asyncio.create_task(tracked())

    def _advance(self) -> None:
        if self._sleepers and len(self._sleepers) >= self._running:
            at, _, wake = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            wake.set_result(None)


class FakeWeavr:
    """A finished bulk of ``n`` transfers (every 100th FAILED) behind Weavr's 100-per-minute quota, which it
    enforces itself on the virtual clock: more than 100 requests in a minute would be answered 429."""

    def __init__(self, time: VirtualTime, n: int = 10_000) -> None:
        self.time = time
        self.n = n
        self.per_minute: dict[int, int] = {}
        self.refused = 0

    def _op(self, seq: int) -> dict[str, object]:
        failed = seq % 100 == 0
        return {
            "operationId": f"op-{seq}",
            "sequence": seq,
            "method": "POST",
            "path": "/transfers",
            "status": "FAILED" if failed else "COMPLETED",
            "responsePayload": '{"errorCode":"FUNDS_INSUFFICIENT"}' if failed else '{"id":"1"}',
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        minute = int(self.time.now // 60)
        self.per_minute[minute] = self.per_minute.get(minute, 0) + 1
        if self.per_minute[minute] > 100:
            self.refused += 1
            reset = str(int((minute + 1) * 60 - self.time.now) + 1)
            return httpx.Response(
                429, headers={"x-ratelimit-limit": "100, 100;w=60", "x-ratelimit-reset": reset}
            )
        if request.url.path.endswith("/operations"):
            offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
            status = request.url.params.get("status")
            seqs = [
                s for s in range(1, self.n + 1) if status is None or (s % 100 == 0) == (status == "FAILED")
            ]
            page = [self._op(s) for s in seqs[offset : offset + limit]]
            return httpx.Response(
                200, json={"count": len(seqs), "responseCount": len(page), "operations": page}
            )
        failed = self.n // 100
        counts = [{"status": "COMPLETED", "count": self.n - failed}, {"status": "FAILED", "count": failed}]
        body = {"bulkId": "7", "status": "PARTIALLY_COMPLETED", "submittedItemsCount": self.n}
        return httpx.Response(200, json={**body, "operationStatusCounts": counts})


def _paced_client(time: VirtualTime, server: FakeWeavr, *, network: bool = False) -> WeavrClient:
    """The dashboard's default budget (90/min, 950/h, 9,500/day), on the virtual clock. ``network``: each
    answer first yields to the loop, as a real exchange does (where a cancellation lands)."""

    async def over_the_network(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)
        return server(request)

    return WeavrClient(
        "http://weavr.test/multi",
        "k",
        transport=httpx.MockTransport(over_the_network if network else server),
        budget=RequestBudget(DEFAULT_WINDOWS, clock=time),
        sleep=time.sleep,
    )


async def test_a_10000_operation_report_completes_within_the_quota_while_polls_get_through(
    tmp_path: Path,
) -> None:
    time = VirtualTime()
    server = FakeWeavr(time)
    client = _paced_client(time, server)
    progress: list[ReportProgress] = []
    done = asyncio.Event()
    polls: list[float] = []

    async def poll_like_the_run_screen() -> None:
        # A run on screen is polled at most every 4.5 s (model.run.MAX_RUNNING_DELAY_S): ~13 a minute,
        # within the 18 the budget keeps for interactive requests. Any BudgetExhausted fails the test.
        while not done.is_set():
            await client.get_bulk("7")
            polls.append(time.now)
            await time.sleep(4.5)

    started = time.now
    poller = time.spawn(poll_like_the_run_screen())

    async def report_then_stop_polling() -> Report:
        try:
            return await build_report(client, "7", stable=True, progress=progress.append)
        finally:
            done.set()

    try:
        report, _ = await asyncio.gather(time.spawn(report_then_stop_polling()), poller)
    finally:
        await client.aclose()
    elapsed = time.now - started
    assert len(report.operations) == 10_000 and [op["sequence"] for op in report.operations][-1] == 10_000
    assert "| FUNDS_INSUFFICIENT | 100 |" in report.markdown
    assert server.refused == 0 and max(server.per_minute.values()) <= 90  # never past the quota
    assert client.budget.total_background == 101  # the bulk + 100 pages: the failures come from the pages
    assert progress[-1].pages_done == progress[-1].pages_total == 100 and progress[-1].waited_s > 0
    assert [p.pages_done for p in progress if not p.waiting] == list(range(1, 101))
    assert any(p.waiting for p in progress)
    # The polls kept their pace all along: never held up by the report (gaps of 4.5 s exactly).
    assert len(polls) >= elapsed // 4.5 and all(b - a == 4.5 for a, b in itertools.pairwise(polls))
    assert 60 < elapsed < 180  # 101 requests at 72 a minute: the second minute, not a failure
    out = report.write(tmp_path / "r")
    assert len((out / "operations.jsonl").read_text().splitlines()) == 10_000


async def test_a_cancelled_report_leaves_no_file(tmp_path: Path) -> None:
    time = VirtualTime()
    client = _paced_client(time, FakeWeavr(time, n=1_000), network=True)
    out = tmp_path / "bulkdash-report-7"
    pages: list[int] = []

    async def export() -> None:
        def cancel_at_page_3(progress: ReportProgress) -> None:
            pages.append(progress.pages_done)
            if progress.pages_done == 3:
                task.cancel()

        report = await build_report(client, "7", progress=cancel_at_page_3)
        report.write(out)

    task = asyncio.create_task(export())
    with pytest.raises(asyncio.CancelledError):
        await task
    await client.aclose()
    assert pages == [1, 2, 3]  # of 10: cancelled while fetching
    assert not out.exists() and not any(tmp_path.iterdir())  # noqa: ASYNC240 -- a test's tmp dir, after the run


def test_writing_replaces_each_file_whole_and_leaves_no_temp_file(tmp_path: Path) -> None:
    out = tmp_path / "r"
    Report("7", "# old\n", [{"sequence": 1}], []).write(out)
    Report("7", "# new\n", [], [{"id": 1}]).write(out)
    assert sorted(p.name for p in out.iterdir()) == ["operations.jsonl", "report.md", "webhooks.jsonl"]
    assert (out / "report.md").read_text() == "# new\n" and (out / "operations.jsonl").read_text() == ""
