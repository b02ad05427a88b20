"""Dashboard benchmarks with a 10,000-operation bulk at ``--op-delay-ms 0`` in the embedded simulator:

1. time from execute to the final state on screen, against the simulator's own time to finish (same run);
2. key-press-to-handler latency while it runs, including while the bulk's screen opens (a key event is
   posted to the app every 10 ms, as the terminal driver does, and a binding records when it runs);
3. peak RSS of the whole process (dashboard + embedded simulator + receiver);
4. cold start: a fresh interpreter to the first screen connected (``--cold`` measures only that).

Headless (Textual's ``run_test``), on 2 cores. Run: ``python -m benchmarks.dash_live``.
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import time

from textual import events

from benchmarks._common import percentile, transfer_items
from bulkdash.contract.kinds import OperationKind
from bulkdash.session import EmbeddedOptions, Session
from bulkdash.ui.app import BulkdashApp
from bulkdash.ui.screens.run import RunScreen

N = 10_000
COLD = """
import sys, time
t0 = float(sys.argv[1])
import asyncio
from bulkdash.session import EmbeddedOptions, Session
from bulkdash.ui.app import BulkdashApp
async def connect():
    return await Session.embedded(EmbeddedOptions(fresh=True, rate_limits="off"))
async def main():
    app = BulkdashApp(connect)
    async with app.run_test(size=(120, 36)) as pilot:
        while app.session is None or app.home.polls == 0:
            await pilot.pause(0.01)
        print(f"{time.time() - t0:.3f}")
asyncio.run(main())
"""


class Probe:
    """A binding on the app that records when each posted key reached its handler."""

    def __init__(self, app: BulkdashApp) -> None:
        self.app = app
        self.sent: list[float] = []
        self.latencies: list[float] = []
        self.slow: list[tuple[float, float]] = []
        app._bindings.bind("f12", "bench_ping", show=False)  # type: ignore[attr-defined]
        app.action_bench_ping = self.ping  # type: ignore[attr-defined]
        self.running = True

    def ping(self) -> None:
        if self.sent:
            sent = self.sent.pop(0)
            self.latencies.append(time.perf_counter() - sent)
            if self.latencies[-1] > 0.03:
                self.slow.append((sent, self.latencies[-1]))

    async def pump(self) -> None:
        while self.running:
            self.sent.append(time.perf_counter())
            self.app.post_message(events.Key("f12", None))
            await asyncio.sleep(0.01)


def cold_start() -> float:
    out = subprocess.run(
        [sys.executable, "-c", COLD, str(time.time())], capture_output=True, text=True, check=True
    ).stdout
    return float(out.strip().splitlines()[-1])


async def live() -> None:
    async def connect() -> Session:
        return await Session.embedded(EmbeddedOptions(fresh=True, op_delay_ms=0, rate_limits="off"))

    app = BulkdashApp(connect)
    async with app.run_test(size=(120, 36)) as pilot:
        while app.session is None or app.home.polls == 0:
            await pilot.pause(0.01)
        session = app.session
        created = await session.client.submit(OperationKind.TRANSFERS, transfer_items(N))
        bulk_id = created.bulkId
        probe = Probe(app)
        pump = asyncio.create_task(probe.pump())
        started = time.perf_counter()
        await session.client.execute(bulk_id, mode="ON_FAILURE_CONTINUE", webhook_interval=1)
        app.open_bulk(bulk_id)  # opening the bulk while it runs is part of what is measured
        screen: RunScreen | None = None
        while True:
            if isinstance(app.screen, RunScreen):
                screen = app.screen
                if screen.model.is_final and screen.model.rows:
                    break
            await asyncio.sleep(0.002)
        on_screen_s = time.perf_counter() - started
        await pilot.pause(0.3)  # keep measuring key latency a little after the end
        probe.running = False
        await pump
        lb = session.simulator.engine.bulks[int(bulk_id)].view  # type: ignore[union-attr]
        sim_s = (lb.execution_finish - lb.execution_start) / 1000
        lat = probe.latencies
        if "--stalls" in sys.argv:  # where the slow keys were: (ms after execute, latency ms)
            print([(round((t - started) * 1000), round(lat * 1000)) for t, lat in probe.slow])
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"execute → final state on screen: {on_screen_s * 1000:.0f} ms; the simulator's own time: "
            f"{sim_s * 1000:.0f} ms; ratio {on_screen_s / sim_s:.2f}× (target ≤ 1.5×) [{screen.model.status}]"
        )
        print(
            f"key → handler latency over {len(lat)} keys while it ran: "
            f"p50 {percentile(lat, 50) * 1000:.1f} ms, "
            f"p99 {percentile(lat, 99) * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms "
            "(targets p99 ≤ 100 ms, max ≤ 250 ms)"
        )
        print(f"peak RSS of dashboard + embedded simulator: {rss:.0f} MB (target ≤ 200 MB)")


def main() -> None:
    starts = [cold_start() for _ in range(3)]
    print(
        f"cold start to first connected screen: {min(starts):.2f} s best, {max(starts):.2f} s worst of 3 "
        "(target ≤ 1.0 s)"
    )
    if "--cold" not in sys.argv:
        asyncio.run(live())


if __name__ == "__main__":
    main()
