"""``WebhookReceiver``: the webhook server embedded in the dashboard (and in ``bulkdash listen``).

It runs uvicorn inside the caller's event loop, on a socket it binds itself (so ``port=0`` gives a free port
that is known before the first request), with uvicorn's signal handling and logging switched off: the
host application owns SIGINT/SIGTERM and the terminal. Records reach the host live through
:meth:`WebhookReceiver.subscribe` (an async iterator) or :meth:`WebhookReceiver.add_listener` (a callback),
both fed by the store's writer after each commit, in id order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from bulkdash.serving import QuietServer
from bulkdash.webhooks.app import WebhookIntake, create_app
from bulkdash.webhooks.records import ReceivedWebhook
from bulkdash.webhooks.settings import ReceiverSettings
from bulkdash.webhooks.store import WebhookStore

log = logging.getLogger(__name__)

#: Records a subscriber may fall behind by before the oldest unread ones are dropped (see ``dropped``).
DEFAULT_SUBSCRIPTION_BUFFER = 10_000
#: Seconds in-flight requests get to finish when the receiver stops.
GRACEFUL_SHUTDOWN_S = 5


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Subscription:
    """Live records, in commit order, from the moment of ``subscribe()`` until closed or the receiver stops.

    Use ``async for record in subscription``; ``close()`` (or ``async with``) detaches it. A subscriber that
    falls more than ``maxsize`` records behind loses the oldest ones (counted in ``dropped``); they remain
    in :meth:`WebhookReceiver.history`.
    """

    def __init__(self, detach: Callable[[Subscription], None], maxsize: int) -> None:
        self._detach = detach
        self._maxsize = maxsize
        self._queue: asyncio.Queue[ReceivedWebhook | None] = asyncio.Queue()
        self._closed = False
        self.dropped = 0

    def _push(self, record: ReceivedWebhook) -> None:
        if self._closed:
            return
        if self._queue.qsize() >= self._maxsize:
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(record)

    def _end(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)  # wakes a waiting reader; past the bound on purpose

    def close(self) -> None:
        self._detach(self)
        self._end()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ReceivedWebhook:
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # later calls end too
            raise StopAsyncIteration
        return item

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class WebhookReceiver:
    """Receives, verifies and records Weavr webhooks; see the module docstring."""

    def __init__(self, settings: ReceiverSettings, *, clock: Callable[[], int] = wall_clock_ms) -> None:
        """``clock`` returns epoch milliseconds; tests inject a fixed one to exercise the timestamp checks."""
        self._settings = settings
        self._clock = clock
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Callable[[ReceivedWebhook], object]] = []
        self._store: WebhookStore | None = None
        self._server: QuietServer | None = None
        self._host = settings.host
        self._port: int | None = None

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self.running else "stopped"
        return f"WebhookReceiver({state}, db={str(self._settings.db_path)!r})"

    @property
    def settings(self) -> ReceiverSettings:
        return self._settings

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the receiver is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL to give the sender (e.g. the simulator's webhook base URL)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self, host: str | None = None, port: int | None = None) -> None:
        """Bind ``host:port`` (default: the settings'; port 0 picks a free one), open the history, serve."""
        if self.running:
            raise RuntimeError("the receiver is already running")
        host = self._settings.host if host is None else host
        port = self._settings.port if port is None else port
        store = WebhookStore(self._settings.db_path, on_commit=self._publish)
        await store.open()
        intake = WebhookIntake(self._settings, store, self._clock)
        # The recorded client is the real peer, never an X-Forwarded-For claim (QuietServer disables
        # proxy headers).
        server = QuietServer(
            create_app(intake), host, port, lifespan="off", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S
        )
        try:
            await server.start()
        except BaseException:
            await store.close()
            raise
        self._host, self._port = host, server.port
        self._store, self._server = store, server

    async def open_history(self) -> None:
        """Open the history only, to read it, serving nothing (``bulkdash report``: a report needs the
        webhooks received, not the port, which a dashboard on the same profile may hold). ``stop()`` closes
        it."""
        if self._store is not None:
            raise RuntimeError("the receiver's history is already open")
        store = WebhookStore(self._settings.db_path, on_commit=self._publish)
        await store.open()
        self._store = store

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish and commit, close the history, end subscriptions."""
        server, store = self._server, self._store
        self._server = self._store = None
        if server is not None:
            try:
                await server.stop()
            except Exception:
                log.exception("webhook server failed while stopping")
        if store is not None:
            await store.close()
        for sub in list(self._subscriptions):
            sub._end()
        self._subscriptions.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # --- live records --------------------------------------------------------------------------------

    def subscribe(self, *, maxsize: int = DEFAULT_SUBSCRIPTION_BUFFER) -> Subscription:
        """An async iterator of every record committed from now on (may be called before ``start``)."""
        sub = Subscription(self._detach, maxsize)
        self._subscriptions.append(sub)
        return sub

    def _detach(self, sub: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscriptions.remove(sub)

    def add_listener(self, callback: Callable[[ReceivedWebhook], object]) -> Callable[[], None]:
        """Call ``callback(record)`` for every committed record, on the event loop; returns a remover.

        The callback runs before the webhook is answered, so it must be quick and must not block (Textual:
        ``post_message``). Exceptions are logged and ignored.
        """
        self._listeners.append(callback)
        return lambda: self.remove_listener(callback)

    def remove_listener(self, callback: Callable[[ReceivedWebhook], object]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    def _publish(self, records: list[ReceivedWebhook]) -> None:
        for record in records:
            for sub in self._subscriptions:
                sub._push(record)
            for callback in list(self._listeners):
                try:
                    callback(record)
                except Exception:
                    log.exception("webhook listener %r failed", callback)

    # --- past records --------------------------------------------------------------------------------

    def _open_store(self) -> WebhookStore:
        if self._store is None:
            raise RuntimeError("the receiver is not started")
        return self._store

    async def history(
        self, bulk_id: str | None = None, limit: int = 100, *, before_id: int | None = None
    ) -> list[ReceivedWebhook]:
        """The newest ``limit`` records (of ``bulk_id`` if given; older than ``before_id``), oldest first."""
        return await self._open_store().history(bulk_id=bulk_id, limit=limit, before_id=before_id)

    async def get(self, record_id: int) -> ReceivedWebhook | None:
        return await self._open_store().get(record_id)

    async def count(self) -> int:
        return await self._open_store().count()
