"""Benchmark 2 of the simulator issue: ``GET /multi/bulks/{id}`` throughput and latency under ``wrk -c20``
while 10,000-operation bulks execute at ``--op-delay-ms 0``, against a baseline in the same run: a bare
Starlette app on uvicorn answering the same route with a body of the same size (benchmarks/_bare_app.py).

Bulks run back to back for the whole window, so every request competes with execution; the run reports
how many operations ran meanwhile. Needs ``wrk`` (Debian: ``apt-get install wrk``); without it the
benchmark says so and measures nothing.

Targets: simulator req/s ≥ 50 % of the bare app's; simulator p99 ≤ 10 ms.
Run: ``python -m benchmarks.sim_read_latency [--seconds 3] [--connections 20] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks._common import free_port, login, span, start_simulator, stop_process, transfer_items

TARGET_SHARE = 0.5
TARGET_P99_MS = 10.0


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS_MS[unit]


def run_wrk(url: str, seconds: float, connections: int, headers: dict[str, str]) -> WrkResult:
    """``wrk -t1`` (one client thread: the other core is the server's) with latency percentiles."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url]
    for name, value in headers.items():
        cmd[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(lat["50"]),
        p99_ms=_ms(lat["99"]),
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
    )


def run_bulks(client: httpx.Client, bulk_ids: list[str], stop: threading.Event) -> None:
    """Execute the bulks one after the other until ``stop``."""
    for bulk_id in bulk_ids:
        if stop.is_set():
            return
        client.post(f"/bulks/{bulk_id}/execute", json={}).raise_for_status()
        while client.get(f"/bulks/{bulk_id}").json()["status"] == "RUNNING":
            time.sleep(0.01)


def operations_run(client: httpx.Client, bulk_ids: list[str]) -> int:
    """Operations of these bulks that have run, as committed."""
    total = 0
    for bulk_id in bulk_ids:
        counts = client.get(f"/bulks/{bulk_id}").json()["operationStatusCounts"]
        total += sum(c["count"] for c in counts if c["status"] in ("COMPLETED", "FAILED"))
    return total


def simulator_run(
    tmp: Path, n: int, bulks: int, seconds: float, connections: int
) -> tuple[WrkResult, int, int]:
    """(wrk's figures, the GET body's size, operations run during the window) on a fresh simulator."""
    port = free_port()
    proc = start_simulator(tmp / f"sim-{port}.db", port, "--op-delay-ms", "0")
    base = f"http://127.0.0.1:{port}"
    try:
        headers = login(base)
        with httpx.Client(base_url=base + "/multi", headers=headers, timeout=60) as client:
            bulk_ids = [
                client.post("/bulks/transfers", json=transfer_items(n)).json()["bulkId"] for _ in range(bulks)
            ]
            url = f"{base}/multi/bulks/{bulk_ids[0]}"
            stop = threading.Event()
            runner = threading.Thread(target=run_bulks, args=(client, bulk_ids, stop))
            runner.start()
            try:
                # Started, not RUNNING: a small bulk on a busy machine may finish before we look.
                deadline = time.monotonic() + 30
                while client.get(f"/bulks/{bulk_ids[0]}").json()["status"] == "SUBMITTED":
                    if time.monotonic() > deadline:
                        raise SystemExit("the bulk did not start within 30 s")
                    time.sleep(0.002)
                before = operations_run(client, bulk_ids)
                result = run_wrk(url, seconds, connections, headers)
                ops = operations_run(client, bulk_ids) - before
            finally:
                stop.set()
                runner.join()
            size = len(client.get(f"/bulks/{bulk_ids[0]}").content)
    finally:
        stop_process(proc)
    return result, size, ops


def bare_run(body_bytes: int, seconds: float, connections: int) -> WrkResult:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks._bare_app",
            "get",
            "--port",
            str(port),
            "--body-bytes",
            str(body_bytes),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        url = f"http://127.0.0.1:{port}/multi/bulks/1000001"
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)
        return run_wrk(url, seconds, connections, {})
    finally:
        stop_process(proc)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="operations per bulk (default 10000)")
    parser.add_argument(
        "--bulks", type=int, default=12, help="bulks submitted to run back to back (default 12)"
    )
    parser.add_argument("--seconds", type=float, default=3, help="wrk's duration (default 3)")
    parser.add_argument("--connections", type=int, default=20, help="wrk -c (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="simulator/bare pairs (default 3)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("skipped: this benchmark needs wrk (Debian: apt-get install wrk)")
        return
    shares, rates, p99s, p50s, bare_rates, bare_p99s, ran = [], [], [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bulkdash-bench-") as tmp:
        for run in range(1, args.runs + 1):
            sim, size, ops = simulator_run(Path(tmp), args.n, args.bulks, args.seconds, args.connections)
            bare = bare_run(size, args.seconds, args.connections)
            shares.append(sim.rps / bare.rps)
            rates.append(sim.rps)
            p50s.append(sim.p50_ms)
            p99s.append(sim.p99_ms)
            bare_rates.append(bare.rps)
            bare_p99s.append(bare.p99_ms)
            ran.append(ops)
            print(
                f"run {run}: simulator {sim.rps:,.0f} req/s p50 {sim.p50_ms:.2f} ms p99 {sim.p99_ms:.2f} ms "
                f"(non-2xx {sim.non_2xx}; {ops:,} operations ran meanwhile); bare {bare.rps:,.0f} req/s "
                f"p99 {bare.p99_ms:.2f} ms ({size} bytes); share {sim.rps / bare.rps:.0%}"
            )
    print(
        f"GET /multi/bulks/{{id}}, wrk -t1 -c{args.connections} for {args.seconds:g} s while bulks of "
        f"{args.n:,} execute, {args.runs} run(s):"
    )
    print(f"  simulator / bare Starlette app: {span([s * 100 for s in shares], '.0f')} % (target ≥ 50 %)")
    print(
        f"  simulator: {span(rates, ',.0f')} req/s; p50 {span(p50s, '.2f')} ms; p99 {span(p99s, '.2f')} ms "
        f"(target ≤ {TARGET_P99_MS:g} ms)"
    )
    print(f"  bare app: {span(bare_rates, ',.0f')} req/s; p99 {span(bare_p99s, '.2f')} ms")
    print(f"  operations executed during the window: {span([float(x) for x in ran], ',.0f')}")


if __name__ == "__main__":
    main()
