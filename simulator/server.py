"""Assembles the simulator: store → engine → dispatcher, the ``/multi`` and ``/_sim`` apps, the lifespan.

``create_simulator(settings)`` gives a ``Simulator`` whose ``asgi`` app can be served by uvicorn from the CLI
or embedded in the dashboard's own event loop (``start_embedded``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Mount, Router
from starlette.types import ASGIApp

from bulkdash.serving import QuietServer
from simulator.engine.engine import Engine, wall_clock_ms
from simulator.faults import FaultController
from simulator.http import app as multi
from simulator.http.control import Control
from simulator.http.ratelimit import RateLimiter
from simulator.settings import SimSettings
from simulator.store.store import Store
from simulator.webhooks.dispatcher import WebhookDispatcher


class Simulator:
    def __init__(self, settings: SimSettings, clock=wall_clock_ms) -> None:
        self.settings = settings
        self.store = Store(settings.db)
        self.engine = Engine(settings, self.store, clock)
        self.limiter = RateLimiter(settings.rate_windows, time.time)
        self.dispatcher = WebhookDispatcher(
            self.store,
            clock,
            timeout_s=settings.webhook_timeout_s,
            retry_scale=lambda: self.settings.webhook_retry_scale,
        )
        self.engine.on_committed.append(lambda batch: self.dispatcher.wake() if batch.events else None)
        # Fault plans span the layers: operation faults in the engine, API faults at the HTTP edge, delivery
        # faults in the dispatcher. One controller, installed in each here.
        self.engine.faults = FaultController(self.engine)
        # Before the commit: the dispatcher may read a committed event before on_committed callbacks run.
        self.engine.on_sealed.append(self.engine.faults.note_sealed)
        self.dispatcher.faults = self.engine.faults
        # Presenter controls: a paused world also holds webhook deliveries; any change wakes the dispatcher.
        self.dispatcher.presenter = self.engine.presenter
        self.engine.presenter.listeners.append(self.dispatcher.wake)
        control = Control(self.engine, self.limiter, self.dispatcher)
        inner = Starlette(
            routes=[
                Mount("/multi", app=multi.build_multi_app(self.engine, self.limiter)),
                Mount("/_sim", app=Router(routes=control.routes(), redirect_slashes=False)),
            ],
            exception_handlers=multi.EXCEPTION_HANDLERS,
            lifespan=self._lifespan,
        )
        # A path that names no endpoint is a 404 (docs/behaviour.md §2.6 step 1), with or without a trailing
        # slash: Starlette's default answers "/bulks/1/" with a 307 to "/bulks/1" before any check, which an
        # HTTP client that follows redirects turns into a second POST (an integrator's trial found it).
        inner.router.redirect_slashes = False
        self.asgi: ASGIApp = multi.WeavrEdge(inner, self.engine, lambda: self.settings.faults)
        self._started = False

    async def start(self) -> None:
        if not self._started:
            await self.engine.start()
            await self.dispatcher.start()
            self._started = True

    async def stop(self) -> None:
        if self._started:
            await self.dispatcher.stop()
            await self.engine.stop()
            self._started = False

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()


async def start_embedded(settings: SimSettings) -> tuple[Simulator, QuietServer]:
    """Start the simulator in this event loop on ``settings.host:settings.port`` (0 = any free port)."""
    sim = Simulator(settings)
    # Opened before anything listens: a database that cannot serve raises its one-line StoreError here
    # rather than failing inside the server's lifespan (whose start() is then a no-op).
    try:
        await sim.start()
    except BaseException:
        await sim.store.close()  # aiosqlite's threads would keep the process alive
        raise
    server = QuietServer(sim.asgi, settings.host, settings.port)
    try:
        await server.start()
    except BaseException:
        await sim.stop()
        raise
    return sim, server
