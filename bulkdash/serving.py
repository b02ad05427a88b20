"""Serve an ASGI app quietly inside the current event loop, on a socket we bind ourselves.

Used for the simulator embedded in the dashboard and for the dashboard's webhook receiver: uvicorn must
neither install signal handlers (the owner of the loop handles Ctrl-C) nor print to the terminal (Textual
owns it). Binding the socket first lets callers ask for port 0 and learn the port before serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[override]
        # The embedding program owns signals; uvicorn must not take them over.
        yield


class QuietServer:
    """``await start()`` → serving on ``url``; ``await stop()`` → closed. No logs, no signal handling."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        self.host = host
        self._sock = bind_socket(host, port)
        self.port: int = self._sock.getsockname()[1]
        cfg = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=2, **config
        )
        self.server = _QuietServer(cfg)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(sockets=[self._sock]), name="quiet-uvicorn")
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises the start-up error
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self._task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._sock.close()
