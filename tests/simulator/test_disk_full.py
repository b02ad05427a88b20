"""A real full disk: the simulator's file on a small tmpfs, filled up while a 10,000-operation bulk runs.

While the disk is full, reads answer and writes get 503; once room is made the run carries on by itself —
or, killed with -9 during the outage and restarted, it finishes from what was stored. Either way the money
invariant holds over the file: every operation exactly once. Needs root and a working ``mount`` (CI runs as
root); skipped elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import wait_for
from tests.simulator.helpers import free_port, login, sim_is_up, start_sim_process, stop_process, transfer
from tests.simulator.invariants import check_money_invariant

pytestmark = pytest.mark.slow

N = 10_000
FINAL = {"COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED"}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a real full disk needs root and mount")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mnt)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Take all the free room of ``disk`` but ``leave`` bytes, in one filler file."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free - leave
    with filler.open("wb") as f, contextlib.suppress(OSError):
        chunk = b"\0" * (1 << 16)
        while free > 0:
            f.write(chunk[: min(free, len(chunk))])
            free -= len(chunk)
    return filler


def start(db: Path, port: int) -> subprocess.Popen[bytes]:
    return start_sim_process(db, port, "--op-delay-ms", "0", env={"SIM_BATCH_MS": "20"})


def attempted(bulk: dict) -> int:
    c = {x["status"]: x["count"] for x in bulk["operationStatusCounts"]}
    return c["COMPLETED"] + c["FAILED"]


async def _run_into_a_full_disk(client: httpx.AsyncClient, disk: Path) -> tuple[object, str, Path]:
    await wait_for(lambda: sim_is_up(client), bool, timeout=20)
    api = await login(client)
    bulk_id = await api.submit([transfer(7, dest="5002")] * N)
    filler = fill(disk, leave=256 * 1024)  # room for a few batches, not for 10,000 operations
    assert (await api.post(f"/bulks/{bulk_id}/execute", json={})).status_code == 204

    async def refused() -> int:
        return (await api.post("/bulks/transfers", json=[transfer()])).status_code

    assert await wait_for(refused, lambda s: s == 503, timeout=30) == 503
    stuck = await api.bulk(bulk_id)  # reads keep answering from the last commit
    assert stuck["status"] == "RUNNING" and attempted(stuck) < N
    return api, bulk_id, filler


async def test_a_full_disk_holds_the_run_and_it_carries_on_when_room_is_made(small_disk: Path) -> None:
    db, port = small_disk / "sim.db", free_port()
    proc = start(db, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            api, bulk_id, filler = await _run_into_a_full_disk(client, small_disk)
            filler.unlink()
            done = await wait_for(lambda: api.bulk(bulk_id), lambda b: b["status"] in FINAL, timeout=60)
            assert done["status"] == "COMPLETED" and attempted(done) == N
    finally:
        stop_process(proc)
    assert proc.returncode == 0
    assert check_money_invariant(db)["completed_transfers"] == N


async def test_kill_9_while_the_disk_is_full_then_restart_loses_nothing(small_disk: Path) -> None:
    db, port = small_disk / "sim.db", free_port()
    proc = start(db, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            _api, bulk_id, filler = await _run_into_a_full_disk(client, small_disk)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            check_money_invariant(db)  # what the file holds is a consistent prefix
            filler.unlink()
            proc = start(db, port)
            await wait_for(lambda: sim_is_up(client), bool, timeout=20)
            api = await login(client)
            done = await wait_for(lambda: api.bulk(bulk_id), lambda b: b["status"] in FINAL, timeout=60)
            assert done["status"] == "COMPLETED" and attempted(done) == N
    finally:
        stop_process(proc)
    assert check_money_invariant(db)["completed_transfers"] == N
