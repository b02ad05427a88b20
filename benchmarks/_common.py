"""Shared benchmark plumbing: start ``bulkdash-sim serve`` as a subprocess, log in, build items, read RSS,
summarise repeated runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

KEY = "sim-api-key-P1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(
    db: Path, port: int, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    full_env = {**os.environ, "SIM_RATE_LIMITS": "off", **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", str(port), "--db", str(db), *extra],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_sim/config", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("simulator did not start")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s: a benchmark never leaves its server behind."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def login(base: str) -> dict[str, str]:
    resp = httpx.post(
        f"{base}/multi/login_with_password",
        headers={"api-key": KEY},
        json={"email": "alice@acme.example", "password": {"value": "Passw0rd!Sim"}},
    )
    resp.raise_for_status()
    return {"api-key": KEY, "authorization": f"Bearer {resp.json()['token']}"}


def transfer_items(n: int, amount: int = 1) -> list[dict[str, Any]]:
    item = {
        "pathParams": {},
        "requestBody": {
            "profileId": "3001",
            "source": {"type": "managed_accounts", "id": "4001"},
            "destination": {"type": "managed_cards", "id": "5002"},
            "destinationAmount": {"currency": "GBP", "amount": amount},
        },
    }
    return [item] * n


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def span(values: list[float], fmt: str) -> str:
    """``low–high`` of repeated measurements (one value alone as itself), each formatted with ``fmt``."""
    if not values:
        return "n/a"
    low, high = min(values), max(values)
    return format(low, fmt) if low == high else f"{format(low, fmt)}–{format(high, fmt)}"
