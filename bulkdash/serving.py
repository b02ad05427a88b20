"""Serve an ASGI app quietly inside the current event loop, on a socket we bind ourselves.

Used for the simulator embedded in the dashboard and for the webhook receiver: uvicorn must neither take
over SIGINT/SIGTERM (the owner of the loop handles them) nor print to the terminal (Textual owns it).
Binding the socket first lets callers ask for port 0 and learn the port before serving.

The command lines (``bulkdash listen``, ``bulkdash serve``, ``bulkdash-sim serve``) also check here, before
anything starts, that their port can be bound (:func:`probe_bind`), and say why not in one line
(:func:`bind_problem`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

LISTEN_BACKLOG = 2048


def silence_uvicorn() -> None:
    # With log_config=None uvicorn adds no handlers, so its warnings would reach logging's "last resort"
    # handler and be printed on stderr, over the dashboard. A NullHandler stops that, while records still
    # propagate to any handler the host application configures on the root logger.
    logger = logging.getLogger("uvicorn")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


async def bind_socket(host: str, port: int) -> socket.socket:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    return _listen_on(infos[0])


def bind_socket_now(host: str, port: int) -> socket.socket:
    """:func:`bind_socket` before any event loop runs (a command line binding its port first thing)."""
    return _listen_on(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0])


def _listen_on(info: tuple[Any, ...]) -> socket.socket:
    family, kind, proto, _, address = info
    sock = socket.socket(family, kind, proto)
    try:
        # Restarting on the same port must not wait out TIME_WAIT from the previous run.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def probe_bind(host: str, port: int) -> None:
    """Raise ``OSError`` unless every address ``host`` resolves to can be bound on ``port`` now (bound and
    released at once). A server that binds later can still lose the port to another program in between:
    its own bind failure must be reported like this one."""
    for family, kind, proto, _, address in socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        with socket.socket(family, kind, proto) as probe:
            if os.name == "posix":
                # As the servers bind: a port left in TIME_WAIT by a previous run is free, a listening one
                # is not (Linux refuses the bind even with SO_REUSEADDR).
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)


def bind_problem(host: str, port: int, exc: OSError) -> str:
    """Why a server cannot start on ``host:port``, in words (no errno numbers), for one line on stderr."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {where}: no such host {host!r}"
    if exc.filename is not None:  # not the socket: a file or directory the server needs (its database)
        return f"cannot start on {where}: {exc.strerror or exc}: {exc.filename}"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the port is in use by another program (choose another with --port)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {host} is not an address of this machine"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    return f"cannot listen on {where}: {exc.strerror or exc}"


class ServerStartError(RuntimeError):
    """The app's start-up failed (its lifespan raised; the details went to the ``uvicorn.error`` log)."""


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without signal handling, with a readiness event."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn >= 0.29 replaces the SIGINT/SIGTERM handlers for the duration of serve() and re-raises
        # captured signals afterwards; embedded, those signals belong to the host (Textual, the CLI).
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        except SystemExit as exc:
            # uvicorn exits the process when the app's lifespan start-up fails (or the socket cannot be
            # served); embedded, that must be an error for the host, not the end of its event loop.
            raise ServerStartError(f"the embedded server could not start (uvicorn exit {exc.code})") from None
        self.ready.set()


class QuietServer:
    """``await start()`` → serving on ``url``; ``await stop()`` → closed. No logs, no signal handling."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.config = {"lifespan": "on", "timeout_graceful_shutdown": 2, **config}
        self.server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        sock = await bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        silence_uvicorn()
        cfg = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            ws="none",
            proxy_headers=False,
            server_header=False,
            backlog=LISTEN_BACKLOG,
            **self.config,
        )
        self.server = _EmbeddedServer(cfg)
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]), name="quiet-uvicorn")
        ready = asyncio.create_task(self.server.ready.wait())
        done, _ = await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            sock.close()
            self._task.result()  # serve() ended before start-up finished: surface its exception
            raise RuntimeError("server stopped during start-up")

    async def stop(self) -> None:
        if self._task is None or self.server is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
