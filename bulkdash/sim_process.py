"""The dashboard's embedded simulator in a process of its own (opt-in: ``BULKDASH_SIM_PROCESS=1``).

Started first thing (``bulkdash`` spawns it before it imports Textual), so that on two free cores the
simulator imports and opens its database while the dashboard imports and paints; and, once running, a bulk
executing at full speed does not share the dashboard's event loop and GIL. Issue 16 measured it against the
simulator in the dashboard's loop and kept the latter as the default (see ``bulkdash.cli.dashboard``): on a
busy two-core machine the two processes' imports did not overlap, and the child re-imports what the
dashboard already has.

The parent binds the listening socket itself (127.0.0.1, a free port) and hands it to the child: the port is
known at once, and the dashboard's first requests simply queue in the socket's backlog until the simulator
accepts them — no polling for readiness. The control token is generated here and passed in the child's
environment (never on its command line, never logged). The child watches its stdin: when the dashboard goes
away, however it goes (quit, crash, SIGKILL), the pipe closes and the simulator shuts down. Its stderr goes
to a file, so that when it dies the dashboard can say why in one line.

Run as ``python -m bulkdash.sim_process`` only by :func:`spawn`. The parent side imports nothing of the
simulator.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

#: The child's environment: which inherited descriptor is its listening socket.
FD_ENV = "BULKDASH_SIM_FD"
#: What the child exits with when the simulator cannot start (its reason is the last line of stderr).
CANNOT_START = 2
#: How long stopping waits for the simulator to commit and close before it is killed.
STOP_TIMEOUT_S = 3.0
LISTEN_BACKLOG = 2048  # as bulkdash.serving's


class SimulatorStopped(OSError):
    """The simulator's process ended (or never served): its message says why, in one line."""


@dataclass(slots=True)
class ProcessOptions:
    db: Path | None = None  # None: the simulator's default file in the user data dir
    op_delay_ms: int = 50
    rate_limits: str | None = None
    fresh: bool = False
    transaction_webhooks: bool = False


@dataclass(slots=True)
class SimProcess:
    """A running simulator process: its URL, control token, the port reserved for the dashboard's webhook
    receiver (the simulator delivers there), and its throw-away data directory (``--fresh``)."""

    proc: subprocess.Popen[bytes]
    url: str
    token: str
    receiver_port: int
    data_dir: Path | None
    _stderr: IO[bytes]
    _stopped: bool = field(default=False)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def why_ended(self) -> str:
        """The simulator process ended: why, in one line (its last line on stderr, or its exit status)."""
        code = self.proc.poll()
        try:
            self._stderr.flush()
            lines = Path(self._stderr.name).read_text(errors="replace").strip().splitlines()
        except (OSError, ValueError):  # the log is gone (closed, removed): the exit status says enough
            lines = []
        last = lines[-1].strip() if lines else ""
        status = f"exit status {code}" if code is not None and code >= 0 else f"signal {-(code or 0)}"
        return f"the embedded simulator stopped ({status}){': ' + last if last else ''}"

    async def wait(self) -> int:
        """Wait for the process to end (in a thread: the event loop keeps running)."""
        return await asyncio.to_thread(self.proc.wait)

    async def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Close its stdin (it shuts down, committing what it ran), wait, else kill it."""
        self._stopped = True
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            await asyncio.wait_for(asyncio.shield(self.wait()), timeout)
        except TimeoutError:
            self.kill()
        self._cleanup()

    @property
    def stopped(self) -> bool:
        """Stopped by the dashboard (not a crash)."""
        return self._stopped

    def end(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Without an event loop (at exit): close its stdin, give it ``timeout`` s to close its database,
        then kill it."""
        self._stopped = True
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        self.kill()
        self._cleanup()

    def kill(self) -> None:
        self._stopped = True
        if self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=1)

    def _cleanup(self) -> None:
        with contextlib.suppress(OSError):
            self._stderr.close()
            os.unlink(self._stderr.name)


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def spawn(options: ProcessOptions) -> SimProcess:
    """Start the simulator process now (no event loop needed); it serves on a socket bound here. Nothing of
    the servers is imported here (``bulkdash.serving`` imports uvicorn): this runs before the first paint."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        raise
    port = sock.getsockname()[1]
    receiver_port = _free_port()
    token = secrets.token_urlsafe(24)
    data_dir = Path(tempfile.mkdtemp(prefix="bulkdash-")) if options.fresh else None
    env = {
        **os.environ,
        FD_ENV: str(sock.fileno()),
        "SIM_HOST": "127.0.0.1",
        "SIM_PORT": str(port),
        "SIM_OP_DELAY_MS": str(options.op_delay_ms),
        "SIM_WEBHOOK_BASE_URL_P1": f"http://127.0.0.1:{receiver_port}",
        "SIM_TRANSACTION_WEBHOOKS": "true" if options.transaction_webhooks else "false",
        "SIM_CONTROL_TOKEN": token,  # the environment, not argv: argv is visible to every user in ps
    }
    if data_dir is not None:
        env["SIM_DB"] = str(data_dir / "simulator.db")
    elif options.db is not None:
        env["SIM_DB"] = str(options.db)
    if options.rate_limits is not None:
        env["SIM_RATE_LIMITS"] = options.rate_limits
    stderr = tempfile.NamedTemporaryFile(prefix="bulkdash-sim-", suffix=".log", delete=False)  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bulkdash.sim_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
            pass_fds=(sock.fileno(),),
            # A session of its own: the terminal's Ctrl-C is the dashboard's (which then stops the simulator);
            # and where the kernel groups processes by session for the scheduler (autogroup), its bursts are
            # weighed apart from the dashboard's rather than halving the dashboard's share (measured: with
            # one session between them, the first paint came 0.15-0.3 s later on a busy machine).
            start_new_session=True,
        )
    finally:
        sock.close()  # the child has its own copy
    process = SimProcess(proc, f"http://127.0.0.1:{port}", token, receiver_port, data_dir, stderr)
    atexit.register(process.end)  # however the dashboard ends, the simulator goes with it
    return process


# --- the child ------------------------------------------------------------------------------------------
def _child() -> int:
    import uvicorn

    from bulkdash.serving import silence_uvicorn
    from simulator.server import Simulator
    from simulator.settings import SimSettings

    sock = socket.socket(fileno=int(os.environ.pop(FD_ENV)))
    settings = SimSettings()  # every setting from the SIM_* environment the parent gave
    os.environ.pop("SIM_CONTROL_TOKEN", None)
    sim = Simulator(settings)
    silence_uvicorn()
    config = uvicorn.Config(
        sim.asgi,
        log_config=None,
        access_log=False,
        lifespan="off",  # opened and closed around serving, below
        timeout_graceful_shutdown=1,
        server_header=False,
    )
    server = uvicorn.Server(config)

    async def serve() -> int:
        try:
            await sim.start()
        except BaseException as exc:
            await sim.store.close()
            said = str(exc).strip()
            print(said.splitlines()[-1] if said else repr(exc), file=sys.stderr, flush=True)
            return CANNOT_START
        loop = asyncio.get_running_loop()

        def parent_gone() -> None:
            if not os.read(0, 4096):  # EOF: the dashboard closed the pipe, or died
                loop.remove_reader(0)
                server.should_exit = True

        loop.add_reader(0, parent_gone)
        try:
            await server.serve(sockets=[sock])
        finally:
            await sim.stop()
        return 0

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        return runner.run(serve())


if __name__ == "__main__":
    sys.exit(_child())
