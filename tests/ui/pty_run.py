"""A program under a pseudo-terminal, as a person runs it: what it draws (escape codes removed), keys typed
into it, and how it ends. Its configuration and data directories are the test's own."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_ESCAPES = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


class Terminal:
    def __init__(self, process: subprocess.Popen[bytes], fd: int) -> None:
        self.process = process
        self.fd = fd
        self._raw = b""

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    @contextlib.contextmanager
    def start(cls, args: list[str], home: Path, *, size: tuple[int, int] = (120, 36)) -> Iterator[Terminal]:
        """``python ARGS`` in a terminal of ``size`` (columns, rows); killed at the end if still running."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BULKDASH_", "TEXTUAL"))}
        env |= {
            "BULKDASH_CONFIG": str(home / "config.toml"),  # none: no connect screen, no profiles
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "TERM": "xterm-256color",
        }
        main, tty = os.openpty()
        columns, rows = size
        fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        process = subprocess.Popen(
            [sys.executable, *args],
            stdin=tty,
            stdout=tty,
            stderr=tty,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        os.close(tty)
        term = cls(process, main)
        try:
            yield term
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            os.close(main)

    def _read(self, timeout: float) -> bool:
        """Read what is there (waiting up to ``timeout`` s); False once the terminal is closed."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the program ended and the terminal closed
            return False
        self._raw += data
        return bool(data)

    def output(self) -> str:
        return _ESCAPES.sub(b"", self._raw).decode("utf-8", "replace")

    def text(self) -> str:
        """``output`` with runs of blanks squeezed (for messages)."""
        return " ".join(self.output().split())

    def wait_for(self, text: str, *, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline or not self._read(0.02):
                raise AssertionError(f"{text!r} never showed; the screen: {self.text()[-3000:]!r}")

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def wait_exit(self, *, timeout: float) -> int | None:
        """The exit status, or None if still running after ``timeout`` s (what it draws is kept meanwhile)."""
        deadline = time.monotonic() + timeout
        while (status := self.process.poll()) is None and time.monotonic() < deadline:
            if not self._read(0.005):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(max(0.0, deadline - time.monotonic()))
        while self._read(0):  # whatever it printed last (a traceback, say)
            pass
        return self.process.poll() if status is None else status
