"""Dashboard benchmark: requests spent following a 10,000-operation run at the default pace (50 ms per
operation, ~8 minutes) with its page open, from execute to the final state, and how old the counts on
screen ever got. Drives the same follower the run screen uses (``RunFollower``) against the embedded
simulator, with its webhooks wired to the dashboard's receiver. Targets: ≤ 150 requests, counts never more
than 5 s old. Run: ``python -m benchmarks.dash_requests [--ops N] [--delay-ms D]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from benchmarks._common import transfer_items
from bulkdash.contract.kinds import OperationKind
from bulkdash.model.follow import RunFollower
from bulkdash.model.run import RunModel
from bulkdash.session import EmbeddedOptions, Session


async def main(ops: int, delay_ms: int) -> None:
    session = await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=delay_ms))
    try:
        created = await session.client.submit(OperationKind.TRANSFERS, transfer_items(ops))
        model = RunModel(created.bulkId)
        follower = RunFollower(session.client, model, lambda update: None)
        session.on_webhook(
            lambda r: (
                follower.note_webhook(str(r.bulk_status), r.counts or {})
                if r.bulk_id == created.bulkId and r.counts
                else None
            )
        )
        task = asyncio.create_task(follower.run())
        await asyncio.sleep(0)
        spent_before = session.client.budget.total
        started = time.monotonic()
        await session.client.execute(created.bulkId, mode="ON_FAILURE_CONTINUE", webhook_interval=1)
        follower.wake()
        worst = 0.0
        while not model.is_final:
            await asyncio.sleep(0.1)
            age = model.staleness_s()
            if age is not None and time.monotonic() - started > 1:
                worst = max(worst, age)
        elapsed = time.monotonic() - started
        spent = session.client.budget.total - spent_before
        task.cancel()
        by_path: dict[str, int] = {}
        for call in list(session.calls)[-spent:]:
            key = "operations page" if call.path.endswith("/operations") else call.path
            by_path[key] = by_path.get(key, 0) + 1
        print(f"followed {ops:,} operations at {delay_ms} ms each: {model.status} after {elapsed:.0f} s")
        print(f"requests from execute to final state: {spent} (target ≤ 150): {by_path}")
        print(f"counts on screen were at most {worst:.1f} s old (target ≤ 5 s)")
    finally:
        await session.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--delay-ms", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.ops, args.delay_ms))
