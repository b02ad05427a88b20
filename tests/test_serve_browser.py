"""``bulkdash serve`` in a real headless Chromium: the page loads, shows the dashboard, and a key reaches it.

The page is textual-serve's xterm.js terminal, drawn on a canvas (WebGL or 2D), so its text is not in the
DOM. An init script catches the page's terminal object as textual.js builds it (the first assignment of
``fitAddon``, made in the same constructor right after ``terminal``) and the test reads the screen through
xterm.js's public buffer API. The key is a real key press into the focused terminal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.scenarios import get_scenario

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)",
    ),
]
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Runs before the page's scripts. textual.js does `this.terminal = new Terminal(…); this.fitAddon = …`;
# a setter for `fitAddon` on Object.prototype sees that `this`, keeps its terminal, then steps aside.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "fitAddon", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "fitAddon", {value, writable: true, configurable: true, enumerable: true});
    if (this.terminal && !window.__terminal) window.__terminal = this.terminal;
  },
});
window.__screen = () => {
  const terminal = window.__terminal;
  if (!terminal) return "";
  const buffer = terminal.buffer.active;
  const lines = [];
  for (let row = 0; row < terminal.rows; row++) {
    const line = buffer.getLine(buffer.viewportY + row);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
};
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_page(url: str, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"bulkdash serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {timeout}s")
        time.sleep(0.05)  # polling interval, not synchronisation


@pytest.fixture
def serve_args() -> list[str]:
    return []


@contextlib.contextmanager
def server_process(
    argv: list[str], ready_url: str, log_path: Path, env: dict[str, str] | None = None
) -> Iterator[None]:
    """``python -m bulkdash …argv`` in its own process group until ``ready_url`` answers; on the way out the
    whole group ends (the tabs' dashboards included), and on a failure its log is printed."""
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bulkdash", *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the tabs' dashboards end with it
    )
    try:
        _wait_for_page(ready_url, process)
        yield
    except BaseException:
        log.flush()
        print(log_path.read_text(errors="replace"))
        raise
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left, dashboards included
        process.wait(timeout=5)
        log.close()


@pytest.fixture
def served(tmp_path: Path, serve_args: list[str]) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    argv = ["serve", "--port", str(port), *serve_args]
    with server_process(argv, url, tmp_path / "serve.log", {"XDG_DATA_HOME": str(tmp_path / "data")}):
        yield url


@contextlib.contextmanager
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Debian chromium with a fresh, empty profile (Playwright drives it; it downloads nothing)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the [test] extra")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 800},
        )
        try:
            yield context
        finally:
            context.close()


def test_the_page_shows_the_dashboard_and_a_key_reaches_it(served: str, tmp_path: Path) -> None:
    with browser(tmp_path) as context:
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.add_init_script(CATCH_TERMINAL)

        response = page.goto(served)
        assert response is not None and response.status == 200
        # The home screen, once the tab's own (fresh, so empty) simulator is connected.
        page.wait_for_function(
            "() => window.__screen().includes('No bulks yet')", timeout=20_000, polling=100
        )
        home = page.evaluate("window.__screen()")
        assert "bulkdash — Bulks" in home
        assert "? Help" in home
        assert "Everywhere" not in home

        page.locator(".xterm-helper-textarea").focus()
        page.keyboard.press("?")
        page.wait_for_function("() => window.__screen().includes('Everywhere')", timeout=10_000, polling=100)
        assert "this help" in page.evaluate("window.__screen()")

        # Everything the page needed came from the server itself: no CDN, works offline.
        assert requested and all(url.startswith(served.rstrip("/")) for url in requested), requested


@pytest.mark.parametrize("serve_args", [["--train", "--speed", "1"]])
def test_a_classroom_tab_trains(served: str, tmp_path: Path) -> None:
    """`bulkdash serve --train`: the tab opens on Scenarios with its own simulator; enter plays one."""
    with browser(tmp_path) as context:
        page = context.new_page()
        page.add_init_script(CATCH_TERMINAL)
        page.goto(served)
        page.wait_for_function("() => window.__screen().includes('All succeed')", timeout=20_000, polling=100)
        assert "bulkdash — Scenarios" in page.evaluate("window.__screen()")
        page.locator(".xterm-helper-textarea").focus()
        page.keyboard.press("Enter")  # the first scenario: All succeed
        pack = get_scenario("all-succeed")
        assert pack is not None
        questions = len(pack.questions)
        page.wait_for_function(
            f"() => window.__screen().includes('Checklist 0/{questions} answered')",
            timeout=20_000,
            polling=100,
        )
        assert "Scenario All succeed" in page.evaluate("window.__screen()")
