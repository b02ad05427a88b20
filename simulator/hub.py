"""Many simulated worlds behind one server: what a classroom runs, one world per trainee.

``/w/{world}/multi/…`` and ``/w/{world}/_sim/…`` reach that world's simulator exactly as a standalone
``bulkdash-sim`` answers ``/multi/…`` and ``/_sim/…``; ``/_hub/worlds`` (the hub's token required) opens one.
Each world is a whole :class:`simulator.server.Simulator` — its own SQLite file, engine, webhook dispatcher,
rate limiter and demo world with the same ids and credentials — so the scenario packs, written against the
demo world's ids (account 4001, card 5002…), play unchanged in every world, and nothing one trainee does
reaches another's bulks or balances. The worlds share one process and event loop: a class of 30 costs one
interpreter, not 30 (docs/behaviour.md's tenancy keeps identities apart *within* a world; worlds keep trainees
apart).

A world's files outlive the hub: after a crash (``kill -9``) the classroom starts again and each world
reopens from its file on the first request for it. Each world's control token is derived from the hub's
secret and the world's name (HMAC), so none needs storing.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from simulator.settings import SimSettings

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

WORLD_NAME = re.compile(r"^[a-z0-9]{1,32}$")
_WORLD_PATH = re.compile(r"^/w/(?P<name>[^/]+)(?P<rest>/.*)?$")


class Hub:
    """Worlds by name, opened on demand; an ASGI app (:meth:`__call__`)."""

    def __init__(self, data_dir: Path, secret: str, **world_settings: Any) -> None:
        self.data_dir = data_dir
        self._secret = secret.encode()
        self._world_settings = world_settings
        self._worlds: dict[str, Any] = {}  # name → simulator.server.Simulator
        self._opening: dict[str, asyncio.Lock] = {}

    def world_token(self, name: str) -> str:
        return hmac.new(self._secret, f"world:{name}".encode(), hashlib.sha256).hexdigest()

    @property
    def token(self) -> str:
        """The hub's own token (opening worlds): not any world's."""
        return hmac.new(self._secret, b"hub", hashlib.sha256).hexdigest()

    def db_path(self, name: str) -> Path:
        return self.data_dir / f"world-{name}.db"

    def exists(self, name: str) -> bool:
        return name in self._worlds or self.db_path(name).exists()

    async def open(self, name: str) -> Any:
        """The world ``name``, started (created on first use, reopened from its file after a restart)."""
        if not WORLD_NAME.match(name):
            raise ValueError(f"a world's name is 1-32 lower-case letters and digits, not {name!r}")
        world = self._worlds.get(name)
        if world is not None:
            return world
        async with self._opening.setdefault(name, asyncio.Lock()):
            world = self._worlds.get(name)
            if world is None:
                from simulator.server import Simulator

                self.data_dir.mkdir(parents=True, exist_ok=True)
                settings = SimSettings(
                    db=self.db_path(name),
                    control_token=SecretStr(self.world_token(name)),
                    **self._world_settings,
                )
                world = Simulator(settings)
                await world.start()
                self._worlds[name] = world
        return world

    async def close(self) -> None:
        worlds, self._worlds = list(self._worlds.values()), {}
        await asyncio.gather(*(w.stop() for w in worlds), return_exceptions=True)

    @property
    def open_worlds(self) -> list[str]:
        return sorted(self._worlds)

    def _authorised(self, scope: Scope) -> bool:
        expected = f"Bearer {self.token}".encode()
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                return hmac.compare_digest(value, expected)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == "/_hub/worlds":
            await self._worlds_endpoint(scope, receive, send)
            return
        match = _WORLD_PATH.match(path)
        if match is None or not WORLD_NAME.match(match["name"]) or not self.exists(match["name"]):
            await _json(send, 404, {"message": "No such world on this classroom hub"})
            return
        world = await self.open(match["name"])
        rest = match["rest"] or "/"
        inner = dict(scope)
        inner["path"] = rest
        inner["raw_path"] = rest.encode()
        await world.asgi(inner, receive, send)

    async def _worlds_endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._authorised(scope):
            await _json(send, 401, {"message": "The hub's token is required"})
            return
        if scope["method"] == "GET":
            await _json(send, 200, {"worlds": self.open_worlds})
            return
        if scope["method"] != "POST":
            await _json(send, 405, {"message": "GET or POST"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            name = json.loads(body or b"{}").get("name")
            await self.open(str(name))
        except (ValueError, AttributeError) as exc:
            await _json(send, 400, {"message": str(exc)})
            return
        await _json(send, 200, {"name": name, "root": f"/w/{name}", "controlToken": self.world_token(name)})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


__all__ = ["WORLD_NAME", "Hub"]
