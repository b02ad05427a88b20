"""Helpers for tests that drive the dashboard service, with or without Textual: a gate that holds the embedded
simulator before a chosen operation (so "running at 40/100" is exact, not timing), and a register of every
database opened during a test, to check that quitting closed them all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bulkdash.session import EmbeddedOptions, Session
from bulkdash.webhooks.store import WebhookStore
from simulator.store.store import Store
from tests.conftest import wait_for


def fresh_options(op_delay_ms: int = 0) -> EmbeddedOptions:
    return EmbeddedOptions(fresh=True, op_delay_ms=op_delay_ms, rate_limits="off")


async def embedded(op_delay_ms: int = 0) -> Session:
    return await Session.embedded(fresh_options(op_delay_ms))


async def eventually(condition: Callable[[], object], *, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` holds (checked every 10 ms); AssertionError after ``timeout`` s."""

    async def probe() -> object:
        return condition()

    await wait_for(probe, bool, timeout=timeout)


class Gate:
    """Holds the simulator's worker before operation ``at`` until ``release()`` (via ``before_operation``)."""

    def __init__(self, session: Session, at: int) -> None:
        self.at = at
        self.session = session
        self.opened = asyncio.Event()
        self.reached = False
        assert session.simulator is not None
        session.simulator.engine.before_operation = self._before

    async def _before(self, bulk_id: int, seq: int) -> None:
        if seq >= self.at and not self.opened.is_set():
            self.reached = True
            await self.opened.wait()

    def release(self) -> None:
        self.opened.set()

    def stop_requested(self, bulk_id: str) -> bool:
        """The simulator received a pause/cancel and waits for the operation in flight."""
        assert self.session.simulator is not None
        live = self.session.simulator.engine.bulks.get(int(bulk_id))
        return bool(live is not None and live.stop_request)


class Databases:
    """Every simulator store and webhook-history store opened while it is installed; with ``hold``, the
    simulator's store waits in ``open`` until ``release()`` (a connect held half-way, deterministically)."""

    def __init__(self, hold: bool) -> None:
        self.opened: list[Store | WebhookStore] = []
        self.holding = False
        self._released = asyncio.Event()
        if not hold:
            self._released.set()

    def release(self) -> None:
        self._released.set()

    async def _opening(self, store: Store | WebhookStore) -> None:
        self.opened.append(store)
        if isinstance(store, Store) and not self._released.is_set():
            self.holding = True
            await self._released.wait()

    @staticmethod
    def is_closed(store: Store | WebhookStore) -> bool:
        if isinstance(store, Store):
            return store._writer is None and store._reader is None
        return store._db is None

    def still_open(self) -> list[str]:
        return [f"{type(store).__name__} {store.path}" for store in self.opened if not self.is_closed(store)]


@contextmanager
def databases(monkeypatch: pytest.MonkeyPatch, *, hold: bool = False) -> Iterator[Databases]:
    """Record each ``open()`` of a simulator store or a webhook store (the embedded simulator's and the
    receiver's databases)."""
    seen = Databases(hold)
    for cls in (Store, WebhookStore):
        original = cls.open

        async def recording_open(self: Any, _original: Any = original) -> None:
            await seen._opening(self)
            await _original(self)

        monkeypatch.setattr(cls, "open", recording_open)
    yield seen
