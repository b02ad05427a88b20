"""Fixtures for the webhook receiver tests: started receivers on temp databases, a fake clock, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkdash.webhooks import ReceiverSettings, WebhookReceiver
from tests.webhooks.webhook_helpers import SPEC_KEY, WAIT_S, FakeClock

ReceiverFactory = Callable[..., Awaitable[WebhookReceiver]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "webhooks.db"


@pytest.fixture
async def make_receiver(db_path: Path, clock: FakeClock) -> AsyncIterator[ReceiverFactory]:
    """Starts receivers (settings overridable) and stops every one of them at the end of the test."""
    started: list[WebhookReceiver] = []

    async def make(**overrides: Any) -> WebhookReceiver:
        fields: dict[str, Any] = {"signing_key": SPEC_KEY, "db_path": db_path, **overrides}
        receiver = WebhookReceiver(ReceiverSettings(**fields), clock=clock)
        await receiver.start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in reversed(started):
        await receiver.stop()


@pytest.fixture
async def receiver(make_receiver: ReceiverFactory) -> WebhookReceiver:
    return await make_receiver()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=WAIT_S) as http:
        yield http
