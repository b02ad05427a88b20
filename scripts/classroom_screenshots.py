"""The README's classroom pictures: a trainee's page and the instructor's view, taken in headless Chromium.

    python scripts/classroom_screenshots.py      # writes screenshots/classroom-*.png

Starts ``bulkdash classroom`` on a free port with a throw-away data folder, joins three trainees, starts
"All succeed" for everyone from the instructor's page, lets one trainee start the run and answer a
question, then photographs one trainee's page and the instructor's page.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
CHROMIUM = "/usr/bin/chromium"
TOKEN = "screenshot-instructor"
sys.path.insert(0, str(ROOT))
from tests.test_serve_browser import CATCH_TERMINAL, CHROMIUM_FLAGS  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = Path(tempfile.mkdtemp(prefix="bulkdash-classroom-shots-"))
    process = subprocess.Popen(
        [sys.executable, "-m", "bulkdash", "classroom", "--port", str(port), "--data", str(data)],
        env={**os.environ, "BULKDASH_INSTRUCTOR_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=(data / "log").open("wb"),
        start_new_session=True,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/join", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            pages = []
            for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing"):
                page = browser.new_context(viewport={"width": 1280, "height": 760}).new_page()
                page.add_init_script(CATCH_TERMINAL)
                page.goto(f"{url}/join")
                page.fill("#name", name)
                page.click("button[type=submit]")
                page.wait_for_function("() => window.__screen().includes('All succeed')", timeout=30_000)
                pages.append(page)
            teacher = browser.new_context(viewport={"width": 1280, "height": 520}).new_page()
            teacher.goto(f"{url}/instructor?token={TOKEN}")
            teacher.wait_for_selector("tr[data-trainee] >> text=Alan Turing")
            teacher.select_option("#scenario", "all-succeed")
            teacher.click("#start")
            ada = pages[0]
            ada.wait_for_function("() => window.__screen().includes('Scenario All succeed')", timeout=30_000)
            ada.locator(".xterm-helper-textarea").focus()
            ada.keyboard.press("Space")  # start the run
            ada.wait_for_function("() => window.__screen().includes('completed 20')", timeout=60_000)
            # The footer follows a frame later (10 frames a second in a classroom): no pause key at the end.
            ada.wait_for_function("() => !window.__screen().includes('p Pause')", timeout=10_000)
            ada.screenshot(path=str(OUT / "classroom-trainee.png"))
            teacher.wait_for_timeout(2500)  # a picture, after the page's next refreshes
            teacher.screenshot(path=str(OUT / "classroom-instructor.png"), full_page=True)
            browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    print(f"wrote {OUT / 'classroom-trainee.png'} and {OUT / 'classroom-instructor.png'}")


if __name__ == "__main__":
    main()
