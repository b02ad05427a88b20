"""Dashboard cold start, as a person meets it: ``python -m bulkdash --fresh`` in a fresh interpreter on a
real terminal (a pseudo-terminal of 120×36 read by this script), timed from just before the process is
spawned to

1. **painted**: the first screen is on the terminal (the home screen's "Connecting…" hint is drawn), and
2. **connected**: the embedded simulator is up, the demo user logged in and the first poll of the bulks is
   shown (the home screen's "0 bulk(s)"),

against the same-run baseline: a minimal Textual app (``Header``, ``DataTable``, ``Footer``, one row) from a
fresh interpreter to its first screen painted. Targets: painted ≤ 1.3×, connected ≤ 2.0× the baseline.
Runs alternate (baseline, dashboard, baseline, …) so a busy neighbour on the machine hits both alike.

Run: ``python -m benchmarks.dash_cold [--runs N]``.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from benchmarks._common import span
from bulkdash.cli.dashboard import PROCESS_ENV

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 36)  # columns, rows
#: What the baseline app draws on its first screen (a cell of its one row).
MINIMAL_MARK = "bench-row-0"
MINIMAL_APP = f"""
from textual.app import App
from textual.widgets import DataTable, Footer, Header
class Minimal(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()
    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("a", "b")
        table.add_row({MINIMAL_MARK!r}, "x")
Minimal().run()
"""
PAINTED_MARK = "Connecting…"  # the home screen's hint until connected
CONNECTED_MARK = "0 bulk(s)"  # the page info, written by the first poll shown
PYCACHE = Path(tempfile.gettempdir()) / "bulkdash-bench-pycache"
_ESCAPES = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][A-Z0-9]|[=>78NOc])")


def _terminal() -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    return master, slave


def time_to_marks(
    argv: list[str],
    marks: list[str],
    *,
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
) -> list[float]:
    """Spawn ``argv`` on a fresh pseudo-terminal; seconds from just before the spawn until each of ``marks``
    (in order) is on the terminal. The process is then asked to quit (SIGTERM) and reaped."""
    master, slave = _terminal()
    env = {
        **os.environ,
        **(env or {}),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        # No config file of the user's: the embedded simulator, not a connect screen with their profiles.
        "BULKDASH_CONFIG": str(Path(tempfile.gettempdir()) / "bulkdash-bench-no-config.toml"),
    }
    env.pop("TEXTUAL", None)
    # As installed (pip compiles every module when it installs): bytecode is cached, here under a directory of
    # its own rather than in the checkout. Without it (PYTHONDONTWRITEBYTECODE, set on the shared machine)
    # every start compiles the project's ~120 modules from source, ~0.1-0.2 s the baseline app never pays
    # (its modules are all in site-packages, compiled). The unmeasured first runs fill the cache.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    found: list[float] = []
    try:
        deadline = started + timeout
        while len(found) < len(marks):
            if time.perf_counter() > deadline:
                missing = marks[len(found)]
                raise RuntimeError(f"{argv[-1]!r}: no {missing!r} within {timeout} s: {seen[-400:]!r}")
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the process ended and the terminal closed
                raise RuntimeError(f"ended before {marks[len(found)]!r}: {seen[-400:]!r}") from None
            now = time.perf_counter()
            seen += chunk
            text = _ESCAPES.sub(b"", seen).decode("utf-8", "replace")
            while len(found) < len(marks) and marks[len(found)] in text:
                found.append(now - started)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            # Keep draining: a full terminal would block the app's last frame, and so its quitting.
            end = time.perf_counter() + 10
            while proc.poll() is None and time.perf_counter() < end:
                if select.select([master], [], [], 0.05)[0]:
                    try:
                        os.read(master, 65536)
                    except OSError:
                        break
            proc.wait(timeout=max(0.1, end - time.perf_counter()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)
    return found


def minimal_paint() -> float:
    return time_to_marks([sys.executable, "-c", MINIMAL_APP], [MINIMAL_MARK])[0]


def dashboard(*, process: bool = False, tree: Path = ROOT) -> tuple[float, float]:
    """``python -m bulkdash --fresh`` from ``tree`` (another checkout: the code as it was)."""
    painted, connected = time_to_marks(
        [sys.executable, "-m", "bulkdash", "--fresh"],
        [PAINTED_MARK, CONNECTED_MARK],
        env={PROCESS_ENV: "1"} if process else None,
        cwd=tree,
    )
    return painted, connected


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also with the simulator in a process of its own (BULKDASH_SIM_PROCESS=1, the design issue 16 "
        "measured), alternating",
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="also the dashboard of another checkout (`git archive <commit> | tar -x -C DIR`), alternating",
    )
    args = parser.parse_args(argv)
    variants: dict[str, dict[str, object]] = {"simulator in its event loop (as shipped)": {}}
    if args.compare:
        variants["simulator in its own process (--compare)"] = {"process": True}
    if args.before:
        variants[f"as in {args.before} (--before)"] = {"tree": args.before.resolve()}
    base: list[float] = []
    painted: dict[str, list[float]] = {name: [] for name in variants}
    connected: dict[str, list[float]] = {name: [] for name in variants}
    # One of each first, unmeasured: the files are then in the page cache for every measured run alike.
    minimal_paint()
    for kwargs in variants.values():
        dashboard(**kwargs)  # type: ignore[arg-type]
    for _ in range(args.runs):
        base.append(minimal_paint())
        for name, kwargs in variants.items():
            p, c = dashboard(**kwargs)  # type: ignore[arg-type]
            painted[name].append(p)
            connected[name].append(c)
    print(f"cold start over {args.runs} run(s), fresh interpreter on a {SIZE[0]}×{SIZE[1]} pseudo-terminal:")
    print(f"  minimal Textual app (Header, DataTable, Footer) → painted: {span(base, '.2f')} s")
    for name in variants:
        paint_ratio = [p / b for p, b in zip(painted[name], base, strict=True)]
        connect_ratio = [c / b for c, b in zip(connected[name], base, strict=True)]
        print(f"dashboard `python -m bulkdash --fresh`, {name}:")
        print(f"  → first screen painted:         {span(painted[name], '.2f')} s")
        print(f"  → connected (first poll shown): {span(connected[name], '.2f')} s")
        print(f"  painted / minimal app:   {span(paint_ratio, '.2f')}× (target ≤ 1.3×)")
        print(f"  connected / minimal app: {span(connect_ratio, '.2f')}× (target ≤ 2.0×)")


if __name__ == "__main__":
    main()
