"""Where a webhook's time goes in the receiver, without sockets: the intake (``WebhookIntake``, the ASGI app
the server calls) driven directly by ``--concurrency`` tasks, as uvicorn's would, over signed bulk webhooks
(``benchmarks.webhook_receiver.signed_webhooks``). Three ways, alternated over ``--runs``:

1. **app alone**: verify, parse, build the record; the store answers at once (no SQLite);
2. **with the store**: as shipped (WAL, ``synchronous=FULL``, group commit): a 204 only after the commit;
3. **store, no fsync**: the same with ``synchronous=OFF``, to tell the store's CPU from waiting on the disk.

Prints µs per webhook for each (the time to record a burst, divided by its size).
``benchmarks.webhook_receiver`` measures the whole receiver over HTTP against a bare route; this says what of
it is ours.

    .venv/bin/python -m benchmarks.receiver_parts [--count 20000] [--runs 3] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks._common import span
from benchmarks.webhook_receiver import API_KEY, signed_webhooks
from bulkdash.webhooks.app import WebhookIntake
from bulkdash.webhooks.receiver import wall_clock_ms
from bulkdash.webhooks.records import ReceivedWebhook
from bulkdash.webhooks.settings import ReceiverSettings
from bulkdash.webhooks.store import WebhookStore

MODES = ("app alone", "with the store", "store, no fsync")
PATH = "/bulk_process_end/watch"
Request = tuple[dict[str, Any], bytes]  # (ASGI scope, body)


def _requests(count: int) -> list[Request]:
    out = []
    for body, headers in signed_webhooks(count):
        raw = [(name.encode(), value.encode()) for name, value in headers.items()]
        raw += [(b"content-length", str(len(body)).encode()), (b"host", b"127.0.0.1")]
        scope = {"type": "http", "method": "POST", "path": PATH, "headers": raw, "client": ("127.0.0.1", 1)}
        out.append((scope, body))
    return out


async def _drive(intake: WebhookIntake, requests: list[Request], concurrency: int) -> float:
    """Seconds to have every request answered, ``concurrency`` at a time."""
    pending = iter(requests)
    answers: list[int] = []

    async def connection() -> None:
        for scope, body in pending:  # the shared iterator hands each request to one task
            messages = [{"type": "http.request", "body": body, "more_body": False}]

            async def receive(messages: list[dict[str, Any]] = messages) -> dict[str, Any]:
                return messages.pop()

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    answers.append(message["status"])

            await intake(scope, receive, send)

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if answers != [204] * len(requests):
        raise RuntimeError(f"not every webhook answered 204: {sorted(set(answers))}")
    return elapsed


async def _one(mode: str, count: int, concurrency: int, tmp: Path) -> float:
    settings = ReceiverSettings(signing_key=SecretStr(API_KEY), db_path=tmp / f"{mode}-{time.time_ns()}.db")
    store = WebhookStore(settings.db_path)
    await store.open()
    try:
        if mode == "app alone":

            async def append(record: ReceivedWebhook) -> ReceivedWebhook:
                return record

            store.append = append  # type: ignore[method-assign]
        elif mode == "store, no fsync":
            await store._db.execute("PRAGMA synchronous=OFF")  # type: ignore[union-attr]
        intake = WebhookIntake(settings, store, wall_clock_ms)
        return await _drive(intake, _requests(count), concurrency)
    finally:
        await store.close()


async def run(args: argparse.Namespace) -> dict[str, list[float]]:
    per_webhook: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="bulkdash-bench-") as tmp:
        for _ in range(args.runs):
            for mode in MODES:  # alternated, so a busy neighbour hits all three alike
                elapsed = await _one(mode, args.count, args.concurrency, Path(tmp))
                per_webhook[mode].append(elapsed / args.count * 1e6)
    return per_webhook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Where a webhook's time goes in the receiver (no sockets).")
    parser.add_argument("--count", type=int, default=20_000, help="webhooks per burst (default: 20000)")
    parser.add_argument("--runs", type=int, default=3, help="bursts per way (default: 3)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (default: 32)")
    args = parser.parse_args(argv)
    per_webhook = asyncio.run(run(args))
    count, runs = f"{args.count:,}", args.runs
    print(f"{count} signed webhooks a burst, {args.concurrency} in flight, no sockets, {runs} run(s):")
    for mode in MODES:
        print(f"  {mode + ':':17s} {span(per_webhook[mode], '.1f')} µs per webhook")


if __name__ == "__main__":
    main()
