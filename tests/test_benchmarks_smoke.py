"""Every simulator, receiver and dashboard benchmark still runs end to end, at sizes that take seconds: no
figure is checked (the machine decides those), only that each one completes and prints its summary. Each runs
as ``python -m benchmarks.<name>`` in its own process, as a person would run it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run_benchmark(name: str, *args: str, timeout: float = 180) -> str:
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_sim_execute() -> None:
    out = run_benchmark("sim_execute", "--n", "30", "--runs", "1")
    assert "execute → COMPLETED" in out
    assert "simulator / bare sqlite3 loop:" in out


def test_sim_read_latency() -> None:
    out = run_benchmark("sim_read_latency", "--n", "200", "--bulks", "2", "--seconds", "1", "--runs", "1")
    if shutil.which("wrk") is None:
        assert "skipped: this benchmark needs wrk" in out
    else:
        assert "simulator / bare Starlette app:" in out


def test_sim_growth() -> None:
    out = run_benchmark("sim_growth", "--bulks", "2", "--ops", "120", "--runs", "1")
    assert "bytes per operation:" in out and "start (process start → serving):" in out


def test_webhook_receiver() -> None:
    out = run_benchmark("webhook_receiver", "--count", "40", "--runs", "1")
    assert "every webhook answered 204 and recorded: yes" in out
    assert "receiver / bare Starlette route:" in out


def test_receiver_parts() -> None:
    out = run_benchmark("receiver_parts", "--count", "40", "--runs", "1", "--concurrency", "4")
    for way in ("app alone:", "with the store:", "store, no fsync:"):
        assert way in out and "µs per webhook" in out


@pytest.mark.parametrize("mode", ["timing", "no-fsync", "no-writes"])
def test_receiver_commit(mode: str) -> None:
    out = run_benchmark("receiver_commit", "--mode", mode, "--count", "40", "--runs", "1")
    assert "receiver / bare Starlette route:" in out
    if mode == "timing":
        assert "COMMIT on the connection's thread: p50" in out and "mean size" in out


def test_webhook_delivery() -> None:
    out = run_benchmark("webhook_delivery", "--count", "10", "--runs", "1")
    assert "webhooks recorded:   14 events" in out
    assert "webhooks/s end to end" in out


def test_dash_cold() -> None:
    out = run_benchmark("dash_cold", "--runs", "1", "--compare")
    assert "minimal Textual app (Header, DataTable, Footer) → painted:" in out
    assert out.count("painted / minimal app:") == 2 and out.count("connected / minimal app:") == 2


def test_dash_live() -> None:
    out = run_benchmark("dash_live", "--ops", "300", "--runs", "1", "--compare")
    assert "embedded simulator own process, 1 run(s):" in out and "embedded simulator in-process" in out
    assert out.count("key → handler over") == 2 and "on screen / simulator's own time:" in out


def test_dash_requests() -> None:
    out = run_benchmark("dash_requests", "--ops", "40", "--delay-ms", "10", "--runs", "1")
    assert "followed 40 operations at 10 ms each, 1 run(s): COMPLETED" in out
    assert "dashboard / plain poller:" in out and "counts on screen were at most" in out


def test_classroom() -> None:
    out = run_benchmark("classroom", "--trainees", "2", "--window", "1")
    assert "first screen per tab" in out and "2 of 2 trainees' runs finished" in out
