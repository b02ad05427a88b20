"""A classroom served in the test's event loop (hub, web server, store) on free loopback ports."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bulkdash.classroom.run import serve_classroom

TOKEN = "instructor-token-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningClass:
    url: str
    data: Path
    info: dict[str, str]

    def browser(self) -> httpx.AsyncClient:
        """A client with its own cookie jar: one trainee's (or the instructor's) browser."""
        return httpx.AsyncClient(base_url=self.url, timeout=10)

    async def join(self, name: str) -> httpx.AsyncClient:
        browser = self.browser()
        answer = await browser.post("/join", data={"name": name})
        assert answer.status_code == 303, answer.text
        return browser

    async def instructor(self) -> httpx.AsyncClient:
        browser = self.browser()
        assert (await browser.get("/instructor", params={"token": TOKEN})).status_code == 200
        return browser


@pytest.fixture
async def classroom(tmp_path: Path) -> AsyncIterator[RunningClass]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    info: dict[str, str] = {}
    ready = asyncio.Event()
    stop = asyncio.Event()

    def heard(found: dict[str, str]) -> None:
        info.update(found)
        ready.set()

    task = asyncio.create_task(
        serve_classroom(tmp_path / "class", "127.0.0.1", port, url, TOKEN, 1.0, ready=heard, stop=stop)
    )
    await asyncio.wait_for(ready.wait(), 20)
    try:
        yield RunningClass(url, tmp_path / "class", info)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)



async def world_token(classroom: RunningClass, world: str) -> str:
    """A world's control token, from the hub (with the hub's own token, which only the classroom holds)."""
    async with httpx.AsyncClient(timeout=10) as hub:
        answer = await hub.post(
            f"{classroom.info['hub']}/_hub/worlds",
            json={"name": world},
            headers={"Authorization": f"Bearer {classroom.info['hub_token']}"},
        )
    assert answer.status_code == 200, answer.text
    return answer.json()["controlToken"]
