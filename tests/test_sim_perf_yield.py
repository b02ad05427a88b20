"""The worker's turns of the event loop (simulator/engine/engine.py): every ``YIELD_EVERY`` operations while
HTTP requests come in, every ``YIELD_EVERY_IDLE`` otherwise, and the HTTP edge tells the engine of each
request. Counted, not timed: the speed itself is proven by benchmarks/sim_execute.py and sim_read_latency.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import simulator.engine.engine as engine_module
from bulkdash.contract.kinds import KINDS, OperationKind
from bulkdash.contract.models import BulkProcessExecute
from simulator.engine.auth import Principal
from simulator.server import Simulator, start_embedded
from tests.simulator.helpers import KEY1, login, sim_settings, transfer
from tests.simulator.invariants import check_money_invariant

N = 2_000


class YieldCount:
    """Stands in for the engine module's ``asyncio``: counts the zero sleeps (a worker's turns given to the
    loop; back-pressure waits end in one too) and sleeps them as asyncio would."""

    def __init__(self) -> None:
        self.turns = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float, result: Any = None) -> Any:
        if seconds == 0:
            self.turns += 1
        return await asyncio.sleep(seconds, result)


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[Simulator]:
    sim = Simulator(sim_settings(tmp_path, op_delay_ms=0))
    await sim.start()
    yield sim
    await sim.stop()


def principal(sim: Simulator) -> Principal:
    engine = sim.engine
    user = next(u for u in engine.world.users.values() if u.email == "alice@acme.example")
    token = engine.tokens.issue(KEY1, user.id, engine.clock())
    found = engine.tokens.resolve(KEY1, f"Bearer {token}", engine.clock())
    assert found is not None
    return found


async def run_bulk(sim: Simulator, monkeypatch: pytest.MonkeyPatch, requests_meanwhile: bool) -> int:
    """Submit and execute ``N`` transfers on the engine itself (no HTTP); with ``requests_meanwhile`` a task
    plays a client whose requests reach the engine on every turn of the loop. The worker's turns."""
    engine = sim.engine
    caller = principal(sim)
    submitted = await engine.submit(caller, KINDS[OperationKind.TRANSFERS], [transfer()] * N, None)
    bulk_id = submitted.body["bulkId"]
    live = engine.bulks[int(bulk_id)]
    count = YieldCount()
    monkeypatch.setattr(engine_module, "asyncio", count)
    stop = asyncio.Event()

    async def client() -> None:
        while not stop.is_set():
            engine.requests_seen = True
            await asyncio.sleep(0)

    requests = asyncio.create_task(client()) if requests_meanwhile else None
    try:
        await engine.execute(caller, bulk_id, BulkProcessExecute())
        await live.done.wait()
    finally:
        monkeypatch.undo()
        stop.set()
        if requests is not None:
            await requests
    await engine.flush()
    assert live.view.status == "COMPLETED" and live.view.completed == N
    assert check_money_invariant(sim.settings.db)["completed_transfers"] == N
    return count.turns


async def test_without_requests_a_worker_gives_the_loop_a_turn_every_yield_every_idle_operations(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns = await run_bulk(simulator, monkeypatch, requests_meanwhile=False)
    idle_turns = N // engine_module.YIELD_EVERY_IDLE
    # Back-pressure (a slow disk) may add a few turns; never the turn every YIELD_EVERY of a busy loop.
    assert idle_turns - 1 <= turns < N // engine_module.YIELD_EVERY // 2


async def test_while_requests_come_in_a_worker_gives_the_loop_a_turn_every_yield_every_operations(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns = await run_bulk(simulator, monkeypatch, requests_meanwhile=True)
    assert turns >= N // engine_module.YIELD_EVERY - 1


async def test_every_request_reaching_the_http_edge_is_noted_for_the_workers(tmp_path: Path) -> None:
    sim, server = await start_embedded(sim_settings(tmp_path))
    try:
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
            api = await login(client)
            sim.engine.requests_seen = False
            assert (await client.get("/multi/bulks/1", headers=api.headers)).status_code == 404
            assert sim.engine.requests_seen
            sim.engine.requests_seen = False
            assert (await client.get("/_sim/config")).status_code == 200
            assert sim.engine.requests_seen
    finally:
        await server.stop()
