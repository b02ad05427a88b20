"""textual-serve's application made a classroom's: the dashboard page only for a trainee who joined, each
tab's dashboard started with that trainee's world and secret in its environment, the join and instructor
pages and the JSON API (:mod:`.server`) beside it.

textual-serve's ``Server`` gives the page, the static files and the websocket that drives one process per
tab; only who may open them and what the process is told are changed here (``handle_index``,
``handle_websocket``, the environment of ``AppService``).
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from bulkdash.classroom.server import Classroom
from bulkdash.webpage import offline_page_loader

log = logging.getLogger(__name__)


class _TraineeService(AppService):
    """textual-serve's process for one tab, with the trainee's environment added."""

    def __init__(self, *args: Any, extra_env: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._extra_env = extra_env

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        # 60 frames a second (textual-serve's) is for one user; thirty dashboards on two cores share them: at
        # 20 the instructor's view fell 3.8 s behind (p99) while all thirty ran at once, at 10 it stays ~1 s.
        environment["TEXTUAL_FPS"] = "10"
        environment.update(self._extra_env)
        return environment


class ClassroomServer(Server):
    def __init__(
        self, classroom: Classroom, command: list[str], host: str, port: int, public_url: str
    ) -> None:
        title = "bulkdash classroom"
        super().__init__(shlex.join(command), host=host, port=port, title=title, public_url=public_url)
        self.classroom = classroom

    async def _make_app(self) -> web.Application:
        import aiohttp_jinja2

        app = await super()._make_app()
        aiohttp_jinja2.setup(app, loader=offline_page_loader(self.templates_path))
        app.add_routes(self.classroom.routes())
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: the classroom prints its own URLs (textual-serve would print a logo and its own)."""

    async def handle_index(self, request: web.Request) -> Any:  # type: ignore[override]
        if await self.classroom._trainee(request) is None:
            raise web.HTTPSeeOther("/join")
        return await Server.handle_index(self, request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        found = await self.classroom._trainee(request)
        if found is None:
            raise web.HTTPUnauthorized(text="Join the class first")
        trainee, secret = found
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        service: AppService | None = None
        try:
            await websocket.prepare(request)
            service = _TraineeService(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
                extra_env=self.classroom.trainee_environment(trainee, secret),
            )
            await service.start(width, height)
            try:
                await self._process_messages(websocket, service)
            finally:
                await service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("a trainee's tab failed")
        finally:
            if service is not None:
                await service.stop()
        return websocket


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


async def make_web_app(
    classroom: Classroom, command: list[str], host: str, port: int, public_url: str
) -> web.Application:
    return await ClassroomServer(classroom, command, host, port, public_url)._make_app()


__all__ = ["ClassroomServer", "make_web_app"]
