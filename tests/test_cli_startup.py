"""Start-up mistakes end the real commands at once: one line on stderr, exit status 2, nothing on stdout (no
banner), nothing created — a URL that is none, an unknown profile, a port in use (found by the check before
the server starts, and again when the server loses the port to another program after that check)."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.simulator.helpers import stop_process

#: The bound the issue sets for a refusal; they take ~0.2 s on an idle machine.
EXIT_WITHIN_S = 2.0
#: A command that does not refuse would start its server or dashboard: stop waiting for it after this.
HANG_S = 20.0


def run(argv: list[str], cwd: Path) -> tuple[int, str, str, float]:
    """Run a command to its end (killed after ``HANG_S``): status, stdout, stderr, seconds it took."""
    started = time.monotonic()
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=HANG_S, cwd=cwd, stdin=subprocess.DEVNULL
    )
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started


def assert_refused(result: tuple[int, str, str, float], prefix: str, *words: str) -> str:
    status, out, err, elapsed = result
    assert status == 2, (status, out, err)
    assert out == "", out  # no banner, no screen
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix + ": "), err
    assert all(w in lines[0] for w in words), err
    assert elapsed < EXIT_WITHIN_S, elapsed
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


BULKDASH = [sys.executable, "-m", "bulkdash"]
BULKDASH_SIM = [sys.executable, "-m", "simulator"]


def test_a_url_that_is_none_is_refused_before_the_dashboard(tmp_path: Path) -> None:
    """It used to open the dashboard and retry "Request URL is missing an 'http://'" forever."""
    argv = [*BULKDASH, "--url", "notaurl", "--api-key", "k", "--token", "t"]
    line = assert_refused(run(argv, tmp_path), "bulkdash", "--url", "http://", "'notaurl'")
    assert "retrying" not in line


def test_an_unknown_profile_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[profiles.sandbox]\nbase_url = "https://sandbox.test/multi"\napi_key = "k"\ntoken = "t"\n'
    )
    path.chmod(0o600)
    argv = [*BULKDASH, "--config", str(path), "--profile", "nope"]
    assert_refused(run(argv, tmp_path), "bulkdash", "no profile 'nope'", "sandbox")


def test_serve_with_an_unknown_profile_is_refused_before_any_tab(tmp_path: Path) -> None:
    argv = [*BULKDASH, "serve", "--port", "1", "--config", str(tmp_path / "none.toml"), "--profile", "p"]
    assert_refused(run(argv, tmp_path), "bulkdash serve", "no such config file")


def _commands_on(port: int, tmp_path: Path) -> dict[str, list[str]]:
    return {
        "bulkdash listen": [
            *BULKDASH,
            "listen",
            "--port",
            str(port),
            "--key",
            "k",
            "--db",
            str(tmp_path / "w.db"),
        ],
        "bulkdash serve": [*BULKDASH, "serve", "--port", str(port)],
        "bulkdash-sim": [*BULKDASH_SIM, "serve", "--port", str(port), "--db", str(tmp_path / "sim.db")],
    }


@pytest.mark.parametrize("command", ["bulkdash listen", "bulkdash serve", "bulkdash-sim"])
def test_a_port_in_use_is_one_line_before_anything_starts(
    command: str, busy_port: int, tmp_path: Path
) -> None:
    argv = _commands_on(busy_port, tmp_path)[command]
    assert_refused(run(argv, tmp_path), command, f"127.0.0.1:{busy_port}", "in use")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database opened or created


@pytest.mark.parametrize("command", ["bulkdash listen", "bulkdash serve"])
def test_a_port_lost_after_the_check_ends_the_same_way(command: str, busy_port: int, tmp_path: Path) -> None:
    """The check passes (as if the port were free then), the server's own bind fails: the same line and
    status. textual-serve prints its banner before it binds, so ``serve`` may leave it on stdout;
    ``bulkdash-sim`` has no such window: the socket it checks is the one it serves."""
    argv = _commands_on(busy_port, tmp_path)[command][3:]
    code = (
        "import sys, bulkdash.serving as serving\n"
        "serving.probe_bind = lambda host, port: None\n"
        "from bulkdash.cli import main\n"
        f"sys.exit(main({argv!r}))\n"
    )
    status, _, err, elapsed = run([sys.executable, "-c", code], tmp_path)
    assert_refused((status, "", err, elapsed), command, f"127.0.0.1:{busy_port}", "in use")


def _read_until(proc: subprocess.Popen[bytes], marker: bytes) -> bytes:
    """What the process printed up to ``marker``, waiting at most ``HANG_S`` (never blocking past it)."""
    assert proc.stdout is not None
    fd, out, deadline = proc.stdout.fileno(), b"", time.monotonic() + HANG_S
    while marker not in out:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no {marker!r} within {HANG_S}s: {out!r}"
        chunk = os.read(fd, 4096)
        assert chunk, f"the command ended: {out!r}"
        out += chunk
    return out


def test_the_simulator_serves_on_the_socket_it_checked(tmp_path: Path) -> None:
    """``--port 0``: the port bound before the database opens is the one served, and the banner shows it."""
    argv = [*BULKDASH_SIM, "serve", "--port", "0", "--db", str(tmp_path / "sim.db")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        banner = _read_until(proc, b"Press Ctrl-C").decode()
        found = re.search(r"base URL +http://127\.0\.0\.1:(\d+)/multi", banner)
        assert found is not None, banner
        port = int(found.group(1))
        assert port != 0
        with socket.create_connection(("127.0.0.1", port), timeout=HANG_S):
            pass  # listening on the port it bound first: no second bind another program could have won
    finally:
        stop_process(proc)


def _processes_marked(mark: str) -> list[int]:
    """Our processes whose environment holds ``mark`` (a spawned simulator inherits the command's)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark.encode() in environ.read_bytes():
                found.append(int(environ.parent.name))
        except OSError:
            continue  # ended meanwhile, or not ours
    return found


def test_refused_flags_leave_no_simulator_behind(tmp_path: Path) -> None:
    """In a process of its own (``BULKDASH_SIM_PROCESS=1``), the embedded simulator starts as soon as the
    command line is parsed (issue 16), before the flags are checked: a refusal still ends at once, and takes
    the simulator with it."""
    mark = f"BULKDASH_TEST_MARK={os.getpid()}-{time.monotonic_ns()}"
    argv = [*BULKDASH, "--fresh", "--email", "a@b.example"]
    started = time.monotonic()
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=HANG_S,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        env={**os.environ, mark.split("=")[0]: mark.split("=")[1], "BULKDASH_SIM_PROCESS": "1"},
    )
    result = (proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)
    assert_refused(result, "bulkdash", "--email is for a real endpoint")
    assert _processes_marked(mark) == []


def test_the_config_path_is_found_without_reading_the_config_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``bulkdash`` decides whether there is a config file to read without importing ``bulkdash.config``
    (pydantic-settings, off the way to the first screen): by the same precedence."""
    from bulkdash import config
    from bulkdash.cli import dashboard

    assert dashboard.CONFIG_ENV == config.CONFIG_ENV
    monkeypatch.delenv(config.CONFIG_ENV, raising=False)
    assert dashboard._config_path(None) == config.config_path(None)
    assert dashboard._config_path(tmp_path / "x.toml") == config.config_path(tmp_path / "x.toml")
    monkeypatch.setenv(config.CONFIG_ENV, str(tmp_path / "env.toml"))
    assert dashboard._config_path(None) == config.config_path(None) == tmp_path / "env.toml"


async def test_the_dashboard_freezes_its_start_up_heap_once_connected() -> None:
    """A full garbage collection over start-up's heap stopped the loop for 0.2-0.6 s during a run (issue 16):
    once connected, what start-up made is frozen out of the collector's generations."""
    import gc

    from bulkdash.cli.dashboard import freezing

    sentinel = object()

    async def connector() -> object:
        return sentinel

    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        assert await freezing(connector)() is sentinel  # type: ignore[arg-type]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_ctrl_c_before_the_dashboard_has_the_terminal_exits_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    # ctrl+c while the dashboard still imports (its first ~0.2 s) printed a KeyboardInterrupt traceback.
    import bulkdash.cli as cli

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_dashboard", interrupted)
    assert cli.main(["--fresh"]) == cli.INTERRUPTED == 130
