"""Fixtures for simulator tests: a simulator served over real loopback HTTP on a fresh SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from simulator.server import Simulator, start_embedded
from simulator.settings import SimSettings
from tests.simulator.helpers import Api, login, sim_settings


@pytest.fixture
def settings(tmp_path: Path) -> SimSettings:
    return sim_settings(tmp_path)


@pytest.fixture
async def sim(settings: SimSettings) -> AsyncIterator[tuple[Simulator, httpx.AsyncClient]]:
    simulator, server = await start_embedded(settings)
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
        yield simulator, client
    await server.stop()


@pytest.fixture
async def client(sim: tuple[Simulator, httpx.AsyncClient]) -> httpx.AsyncClient:
    return sim[1]


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Api:
    return await login(client)
