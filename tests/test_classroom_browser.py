"""``bulkdash classroom`` in a real headless Chromium: two trainees join by name in pages of their own (their
own cookies), each gets the dashboard on the Scenarios list, the instructor's page lists both, and its "Start
for everyone" opens the scenario's run on both trainees' pages, which the instructor's table then shows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_serve_browser import (
    CATCH_TERMINAL,
    CHROMIUM,
    CHROMIUM_FLAGS,
    _free_port,
    server_process,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)",
    ),
]
TOKEN = "browser-test-instructor"


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    argv = ["classroom", "--port", str(port), "--data", str(tmp_path / "c")]
    env = {"BULKDASH_INSTRUCTOR_TOKEN": TOKEN}
    with server_process(argv, f"{url}/join", tmp_path / "classroom.log", env):
        yield url


def _join(browser: Any, url: str, name: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.add_init_script(CATCH_TERMINAL)
    page.goto(f"{url}/")
    assert page.url.endswith("/join")  # the dashboard only for someone who joined
    page.fill("#name", name)
    page.click("button[type=submit]")
    page.wait_for_function("() => window.__screen().includes('All succeed')", timeout=30_000, polling=100)
    return page


def test_two_trainees_and_the_instructor(classroom: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the [test] extra")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            ada, bob = _join(browser, classroom, "Ada"), _join(browser, classroom, "Bob")
            assert "bulkdash — Scenarios" in ada.evaluate("window.__screen()")

            teacher = browser.new_context().new_page()
            assert teacher.goto(f"{classroom}/instructor").status == 401  # the token, or nothing
            teacher.goto(f"{classroom}/instructor?token={TOKEN}")
            teacher.wait_for_selector("tr[data-trainee] >> text=Bob", timeout=10_000)
            assert teacher.locator("tr[data-trainee]").count() == 2

            teacher.select_option("#scenario", "all-succeed")
            teacher.click("#start")
            for page in (ada, bob):
                page.wait_for_function(
                    "() => window.__screen().includes('Scenario All succeed')", timeout=30_000, polling=100
                )
            # Each dashboard reports its scenario within a tick; the page refreshes each second.
            teacher.wait_for_function(
                "() => [...document.querySelectorAll('tr[data-trainee]')]"
                ".filter(r => r.textContent.includes('all-succeed')).length === 2",
                timeout=10_000,
                polling=200,
            )
        finally:
            browser.close()
