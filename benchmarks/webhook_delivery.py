"""Benchmark of webhook delivery end to end: simulator → HTTP → the dashboard's receiver → its history.

Starts ``bulkdash-sim serve`` as a subprocess with ``--webhook-url`` pointing at an in-process
:class:`~bulkdash.webhooks.WebhookReceiver` (signing key ``sim-api-key-P1``), runs a ``--count``-transfer
bulk (default 1,000) at ``--op-delay-ms 0`` with ``webhookInterval=1`` and transaction webhooks on (one
transfer webhook per operation, plus three progress events and the end event), and waits until the
receiver has recorded every one; ``--runs`` times (default 3). It prints:

* the bulk's own run time (execute → final state), to show it does not wait for deliveries;
* webhooks/s end to end: webhooks recorded divided by the time from execute to the last one recorded;
* the delay from each event's ``published-timestamp`` to the receiver's ``received_at_ms``: p50 / p99 / max.
  The timestamp is taken when the operation runs, before the batch holding the event is committed, so this
  bounds commit → recorded from above;
* the verdicts: every webhook answered 204, signatures valid, duplicates (repeated call-refs).

Targets: ≥ 1,000 webhooks/s end to end; commit → recorded p99 ≤ 500 ms.
Run: ``.venv/bin/python -m benchmarks.webhook_delivery [--count 1000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks._common import (
    KEY,
    free_port,
    login,
    percentile,
    span,
    start_simulator,
    stop_process,
    transfer_items,
)
from bulkdash.webhooks import ReceiverSettings, SignatureVerdict, WebhookReceiver

WEBHOOKS_KEY = "sim-webhooks-key-P1"
TIMEOUT_S = 120.0
TARGET_PER_S = 1_000
TARGET_P99_MS = 500


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def run(count: int, tmp: Path) -> tuple[float, float]:
    """One run; returns (webhooks/s end to end, published → recorded p99 in ms)."""
    receiver = WebhookReceiver(
        ReceiverSettings(signing_key=KEY, webhooks_key=WEBHOOKS_KEY, db_path=tmp / "webhooks.db")
    )
    await receiver.start()
    port = free_port()
    # Blocking helpers run in a thread: this event loop is also the receiver's.
    proc = await asyncio.to_thread(
        start_simulator,
        tmp / "sim.db",
        port,
        "--op-delay-ms",
        "0",
        "--webhook-url",
        receiver.url,
        env={"SIM_TRANSACTION_WEBHOOKS": "true"},
    )
    base = f"http://127.0.0.1:{port}"
    expected = count + 4  # a transfer webhook per operation; A = ⌈N/4⌉·1..3 and the end event
    try:
        headers = await asyncio.to_thread(login, base)
        subscription = receiver.subscribe()
        async with httpx.AsyncClient(base_url=base + "/multi", headers=headers, timeout=60) as client:
            created = await client.post("/bulks/transfers", json=transfer_items(count))
            created.raise_for_status()
            bulk_id = created.json()["bulkId"]
            started_ms = now_ms()
            resp = await client.post(f"/bulks/{bulk_id}/execute", json={"webhookInterval": 1})
            resp.raise_for_status()
            # Distinct call-refs, not records: a re-sent event must not count as another one.
            seen: set[str | None] = set()
            async with asyncio.timeout(TIMEOUT_S):
                async for record in subscription:
                    seen.add(record.call_ref)
                    if len(seen) >= expected:
                        break
            subscription.close()
            bulk = (await client.get(f"/bulks/{bulk_id}")).json()
        records = await receiver.history(limit=expected * 2)
    finally:
        await asyncio.to_thread(stop_process, proc)
        await receiver.stop()

    firsts = [r for r in records if not r.duplicate]  # each event's first delivery
    last_ms = max(r.received_at_ms for r in firsts)
    delays = [float(r.received_at_ms - r.published_timestamp_ms) for r in firsts if r.published_timestamp_ms]
    refs = [r.call_ref for r in records]
    bulk_s = (bulk["executionFinish"] - bulk["executionStart"]) / 1000
    end_to_end_s = (last_ms - started_ms) / 1000
    print(f"bulk:                {count} transfers, webhookInterval=1, op delay 0 ms -> {bulk['status']}")
    print(f"bulk run time:       {bulk_s:.3f} s (execute -> final state)")
    print(f"webhooks recorded:   {len(set(refs))} events in {len(records)} requests (expected {expected})")
    print(f"end to end:          {end_to_end_s:.3f} s from execute to the last webhook recorded")
    print(f"throughput:          {len(set(refs)) / end_to_end_s:.0f} webhooks/s end to end")
    print(
        "published -> received: "
        f"p50 {percentile(delays, 50):.0f} ms, p99 {percentile(delays, 99):.0f} ms, max {max(delays):.0f} ms"
    )
    print(
        f"verdicts:            {sum(r.http_status == 204 for r in records)} answered 204, "
        f"{sum(r.signature_v2 is SignatureVerdict.VALID for r in records)} signature-v2 valid, "
        f"{len(refs) - len(set(refs))} duplicates"
    )
    return len(set(refs)) / end_to_end_s, percentile(delays, 99)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="transfers in the bulk (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs, each on a fresh simulator (default 3)")
    args = parser.parse_args(argv)
    rates, p99s = [], []
    for number in range(1, args.runs + 1):
        print(f"run {number}:")
        with tempfile.TemporaryDirectory(prefix="bulkdash-bench-") as tmp:
            rate, p99 = asyncio.run(run(args.count, Path(tmp)))
        rates.append(rate)
        p99s.append(p99)
    print(f"{args.count:,} transfers with transaction webhooks, simulator → receiver, {args.runs} run(s):")
    print(f"  {span(rates, ',.0f')} webhooks/s end to end (target ≥ {TARGET_PER_S:,}/s)")
    print(f"  published (≤ commit) → recorded p99 {span(p99s, '.0f')} ms (target ≤ {TARGET_P99_MS} ms)")


if __name__ == "__main__":
    main()
