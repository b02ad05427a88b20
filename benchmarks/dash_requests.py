"""Dashboard benchmark: requests spent following a 10,000-operation run at the default pace (50 ms per
operation, ~8.5 minutes) with its page open, from execute to the final state, and how old the counts on
screen ever got. Drives the dashboard's own service (``DashboardService``: the run's follower, and the bulk
list behind the run's page) against the embedded simulator as ``bulkdash`` runs it (in this event loop;
``--process``: in a process of its own), its webhooks wired to the dashboard's receiver.

Same-run baseline: the requests a plain poller would spend to keep the counts as fresh (``GET
/bulks/{id}`` every 5 s over the same run, plus the execute and the page on screen once): ⌈run / 5 s⌉ + 2.
Targets: ≤ 100 requests for the run's page, counts never more than 5 s old. Run: ``python -m
benchmarks.dash_requests [--runs N] [--ops N] [--delay-ms D] [--process]``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from dataclasses import dataclass, field

from benchmarks._common import span, transfer_items
from bulkdash.api.client import CallRecord
from bulkdash.contract.kinds import OperationKind
from bulkdash.model.follow import FRESH_S
from bulkdash.model.run import RunModel
from bulkdash.service import DashboardService
from bulkdash.service.events import Event, RunChanged
from bulkdash.session import EmbeddedOptions, Session
from bulkdash.sim_process import ProcessOptions, spawn


@dataclass
class Run:
    status: str | None = None
    elapsed_s: float = 0.0
    spent: int = 0  # the run's page: its follower, and the execute
    behind: int = 0  # the bulk list behind the run's page
    worst_age_s: float = 0.0
    by_path: dict[str, int] = field(default_factory=dict)

    @property
    def baseline(self) -> int:
        return math.ceil(self.elapsed_s / FRESH_S) + 2


async def follow(ops: int, delay_ms: int, inprocess: bool) -> Run:
    async def connect() -> Session:
        if inprocess:
            return await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=delay_ms))
        return await Session.spawned(spawn(ProcessOptions(fresh=True, op_delay_ms=delay_ms)))

    service = DashboardService(connect)
    run = Run()
    try:
        session = await service.connect()
        assert session is not None
        client = session.client
        created = await client.submit(OperationKind.TRANSFERS, transfer_items(ops))
        bulk_id = created.bulkId
        model = RunModel(bulk_id)
        first_poll = asyncio.Event()

        def heard(event: Event) -> None:
            if isinstance(event, RunChanged) and event.bulk_id == bulk_id:
                first_poll.set()

        service.subscribe(heard)
        service.follow_run(bulk_id, model)  # the run's page is open...
        service.bulks.on_screen = False  # ... over the list of bulks
        await first_poll.wait()  # the page was open before execute: its first poll is not the run's
        calls: list[CallRecord] = []
        session.on_call(calls.append)
        background = client.budget.total_background
        started = time.monotonic()
        await client.execute(bulk_id, mode="ON_FAILURE_CONTINUE", webhook_interval=1)
        service.wake_run(bulk_id)
        while not model.is_final:
            await asyncio.sleep(0.1)
            age = model.staleness_s()
            if age is not None and time.monotonic() - started > 1:
                run.worst_age_s = max(run.worst_age_s, age)
        run.elapsed_s = time.monotonic() - started
        run.status = model.status
        # The list's requests: its listings, and its details of each bulk (background requests, told apart
        # by the budget's count: a detail of this very bulk has the same path as the follower's).
        listings = sum(1 for call in calls if call.path == "/bulks")
        run.behind = listings + client.budget.total_background - background
        run.spent = len(calls) - run.behind
        for call in calls:
            if call.path != "/bulks":
                key = "operations page" if call.path.endswith("/operations") else call.path
                run.by_path[key] = run.by_path.get(key, 0) + 1
    finally:
        await service.aclose()
    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--delay-ms", type=int, default=50)
    parser.add_argument("--process", action="store_true", help="the simulator in a process of its own")
    args = parser.parse_args(argv)
    runs = [asyncio.run(follow(args.ops, args.delay_ms, not args.process)) for _ in range(args.runs)]
    statuses = ", ".join(sorted({str(r.status) for r in runs}))
    print(
        f"followed {args.ops:,} operations at {args.delay_ms} ms each, {len(runs)} run(s): "
        f"{statuses} after {span([r.elapsed_s for r in runs], '.0f')} s"
    )
    spent = span([float(r.spent) for r in runs], ".0f")
    print(f"requests of the run's page from execute to final state: {spent} (target ≤ 100)")
    for r in runs:
        print(f"  {r.spent}: {r.by_path}")
    behind = span([float(r.behind) for r in runs], ".0f")
    print(f"requests of the bulk list behind the run's page meanwhile: {behind}")
    print(
        f"a plain poller keeping counts {FRESH_S:g} s fresh over the same run: "
        f"{span([float(r.baseline) for r in runs], '.0f')}; dashboard / plain poller: "
        f"{span([r.spent / r.baseline for r in runs], '.2f')}×"
    )
    print(f"counts on screen were at most {span([r.worst_age_s for r in runs], '.1f')} s old (target ≤ 5 s)")


if __name__ == "__main__":
    main()
