"""Benchmark 2 of the simulator issue: ``GET /multi/bulks/{id}`` throughput and p50/p99 latency from a second
process (``wrk``, bounded in time) while 10,000-operation bulks execute at ``--op-delay-ms 0``.

Bulks run back to back for the whole measuring window, so every request competes with execution.
Needs ``wrk`` (Debian: ``apt-get install wrk``); without it a plain Python client in a second process
measures instead. Run: ``python -m benchmarks.sim_read_latency``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from benchmarks._common import free_port, login, percentile, start_simulator, transfer_items

N = 10_000
BULKS = 8
SECONDS = 4

PY_PROBE = """
import sys, time, httpx
url, key, token, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
lat = []
with httpx.Client(headers={"api-key": key, "authorization": "Bearer " + token}) as c:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter(); c.get(url).raise_for_status(); lat.append(time.perf_counter() - t)
print(" ".join(f"{x:.6f}" for x in lat))
"""


def run_bulks(client: httpx.Client, bulk_ids: list[str], stop: threading.Event, executed: list[int]) -> None:
    for bulk_id in bulk_ids:
        if stop.is_set():
            return
        client.post(f"/bulks/{bulk_id}/execute", json={}).raise_for_status()
        while client.get(f"/bulks/{bulk_id}").json()["status"] == "RUNNING":
            time.sleep(0.01)
        executed.append(N)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bulkdash-bench-"))
    port = free_port()
    proc = start_simulator(tmp / "sim.db", port, "--op-delay-ms", "0")
    base = f"http://127.0.0.1:{port}"
    try:
        headers = login(base)
        with httpx.Client(base_url=base + "/multi", headers=headers, timeout=60) as client:
            bulk_ids = [
                client.post("/bulks/transfers", json=transfer_items(N)).json()["bulkId"] for _ in range(BULKS)
            ]
            url = f"{base}/multi/bulks/{bulk_ids[0]}"
            stop, executed = threading.Event(), []
            runner = threading.Thread(target=run_bulks, args=(client, bulk_ids, stop, executed))
            runner.start()
            time.sleep(0.2)  # let the first bulk get going before measuring
            wrk = shutil.which("wrk")
            if wrk:
                out = subprocess.run(
                    [
                        wrk,
                        "-t1",
                        "-c4",
                        f"-d{SECONDS}s",
                        "--latency",
                        "-H",
                        f"api-key: {headers['api-key']}",
                        "-H",
                        f"authorization: {headers['authorization']}",
                        url,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
                lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
                non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                tool = "wrk -t1 -c4"
                p50, p99 = lat.get("50", "?"), lat.get("99", "?")
                errors = int(non2xx.group(1)) if non2xx else 0
            else:
                out = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        PY_PROBE,
                        url,
                        headers["api-key"],
                        headers["authorization"].split()[1],
                        str(SECONDS),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                values = [float(x) for x in out.split()]
                rps, tool, errors = len(values) / SECONDS, "python httpx, 1 connection", 0
                p50, p99 = f"{percentile(values, 50) * 1000:.2f}ms", f"{percentile(values, 99) * 1000:.2f}ms"
            stop.set()
            runner.join()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(
        f"GET /multi/bulks/{{id}} for {SECONDS} s with {tool} while {len(executed)} bulks of "
        f"{N:,} operations ran to completion back to back"
    )
    print(
        f"throughput {rps:,.0f} req/s; latency p50 {p50}, p99 {p99} (target p99 ≤ 20 ms); "
        f"non-2xx responses: {errors}"
    )


if __name__ == "__main__":
    main()
