"""Kill -9 the real ``bulkdash-sim serve`` process mid-run, restart it on the same file, and prove that no
operation was lost or applied twice: balances move by exactly N × amount and the bulk finishes by itself."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import wait_for
from tests.simulator.helpers import (
    free_port,
    login,
    sim_is_up,
    start_sim_process,
    stop_process,
    transfer,
)

pytestmark = pytest.mark.slow

N = 3000
AMOUNT = 7


def start_sim(db: Path, port: int, delay_ms: int) -> subprocess.Popen[bytes]:
    return start_sim_process(db, port, "--op-delay-ms", str(delay_ms), env={"SIM_BATCH_MS": "20"})


async def balances(client: httpx.AsyncClient) -> dict[str, int]:
    world = (await client.get("/_sim/world/1001")).json()
    return {i["id"]: i["balance"] for i in world["instruments"]}


async def test_kill_9_mid_run_loses_nothing_and_runs_nothing_twice(tmp_path: Path) -> None:
    db, port = tmp_path / "crash.db", free_port()
    proc = start_sim(db, port, delay_ms=1)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            await wait_for(lambda: sim_is_up(client), bool, timeout=20)
            before = await balances(client)
            api = await login(client)
            bulk_id = await api.submit([transfer(AMOUNT, dest="5002")] * N)
            assert (await api.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204

            def attempted(bulk: dict) -> int:
                c = {x["status"]: x["count"] for x in bulk["operationStatusCounts"]}
                return c["COMPLETED"] + c["FAILED"]

            mid = await wait_for(lambda: api.bulk(bulk_id), lambda b: attempted(b) >= N // 4, timeout=30)
            assert mid["status"] == "RUNNING"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)

            proc = start_sim(db, port, delay_ms=0)
            await wait_for(lambda: sim_is_up(client), bool, timeout=20)
            api = await login(client)  # tokens survive too, but a fresh one keeps the test simple
            done = await wait_for(lambda: api.bulk(bulk_id), lambda b: b["status"] != "RUNNING", timeout=60)
            assert done["status"] == "COMPLETED"
            assert attempted(done) == N
            after = await balances(client)
            assert before["4001"] - after["4001"] == N * AMOUNT
            assert after["5002"] - before["5002"] == N * AMOUNT
            ops = (await api.get(f"/bulks/{bulk_id}/operations?status=COMPLETED&limit=1")).json()
            assert ops["count"] == N
    finally:
        stop_process(proc)


async def test_kill_9_while_the_world_is_paused_then_restart(tmp_path: Path) -> None:
    """Presenter controls hold operations in memory only: a kill while paused (and after steps) loses
    nothing, and after a restart (playing again: presenter state is not persisted) every operation runs
    exactly once."""
    n, db, port = 40, tmp_path / "paused.db", free_port()
    proc = start_sim(db, port, delay_ms=0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            await wait_for(lambda: sim_is_up(client), bool, timeout=20)
            before = await balances(client)
            api = await login(client)
            assert (await client.put("/_sim/presenter", json={"paused": True})).status_code == 200
            bulk_id = await api.submit([transfer(AMOUNT, dest="5002")] * n)
            assert (await api.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204
            for _ in range(3):
                assert (await client.post("/_sim/presenter/step")).status_code == 200

            def completed(bulk: dict) -> int:
                return {x["status"]: x["count"] for x in bulk["operationStatusCounts"]}["COMPLETED"]

            await wait_for(lambda: api.bulk(bulk_id), lambda b: completed(b) == 3, timeout=20)
            held = (await client.get("/_sim/presenter")).json()
            assert held["paused"] and held["waiting"] == 1
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)

            proc = start_sim(db, port, delay_ms=0)
            await wait_for(lambda: sim_is_up(client), bool, timeout=20)
            assert (await client.get("/_sim/presenter")).json()["paused"] is False
            api = await login(client)
            done = await wait_for(lambda: api.bulk(bulk_id), lambda b: b["status"] != "RUNNING", timeout=30)
            assert done["status"] == "COMPLETED" and completed(done) == n
            after = await balances(client)
            assert before["4001"] - after["4001"] == n * AMOUNT
    finally:
        stop_process(proc)


async def test_sigterm_shuts_down_cleanly(tmp_path: Path) -> None:
    port = free_port()
    proc = start_sim(tmp_path / "term.db", port, delay_ms=0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
        await wait_for(lambda: sim_is_up(client), bool, timeout=20)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert b"Traceback" not in (proc.stderr.read() if proc.stderr else b"")
