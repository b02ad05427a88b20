"""The classroom assembled and served: its store, the hub of worlds (on loopback), and the web side
(:mod:`.web`, :mod:`.server`) on the address given, until told to stop. ``bulkdash classroom`` runs it; the
tests run it in their own event loop."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Any


async def serve_classroom(
    data: Path,
    host: str,
    port: int,
    public_url: str,
    instructor_token: str,
    speed: float,
    *,
    ready: Any = None,
    stop: Any = None,
) -> None:
    """Run the classroom until ``stop`` (an asyncio.Event; default: SIGINT/SIGTERM). ``ready(info)`` hears the
    URLs once serving (tests)."""
    lock = _lock(data)
    try:
        import asyncio
        import signal

        from aiohttp import web

        from bulkdash.classroom.server import Classroom, ClassroomConfig
        from bulkdash.classroom.store import ClassStore
        from bulkdash.classroom.web import make_web_app
        from bulkdash.serving import QuietServer
        from simulator.hub import Hub
        from simulator.scenarios import list_scenarios

        store = await ClassStore(data / "class.db").open()
        hub = Hub(data / "worlds", secrets.token_hex(16), transaction_webhooks=True)
        hub_server = QuietServer(hub, "127.0.0.1", 0)
        await hub_server.start()
        runner: web.AppRunner | None = None
        classroom: Classroom | None = None
        try:
            scenarios = [
                {"name": s.name, "title": s.title, "difficulty": s.difficulty} for s in list_scenarios()
            ]
            config = ClassroomConfig(
                store=store,
                hub_url=hub_server.url,
                hub_token=hub.token,
                world_token=hub.world_token,
                instructor_token=instructor_token,
                api_url="",  # set once the port is known
                scenarios=lambda: scenarios,
                speed=speed,
            )
            classroom = Classroom(config)
            command = [sys.executable, "-m", "bulkdash", "classroom", "trainee"]
            app = await make_web_app(classroom, command, host, port, public_url)
            runner = web.AppRunner(app, handle_signals=False, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = runner.addresses[0][1] if runner.addresses else port
            config.api_url = f"http://127.0.0.1:{bound}"
            info = {
                "join": f"{public_url}/join",
                "instructor": f"{public_url}/instructor?token={instructor_token}",
                "api": config.api_url,
                "hub": hub_server.url,
            }
            if ready is not None:
                ready({**info, "hub_token": hub.token})  # tests reach the worlds' control APIs with it
            else:
                print(f"bulkdash classroom: trainees open {info['join']}", flush=True)
                print(f"bulkdash classroom: the instructor opens {info['instructor']}", flush=True)
                print("bulkdash classroom: keep the instructor URL to yourself; Ctrl-C ends it", flush=True)
            if stop is None:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        finally:
            if runner is not None:
                await runner.cleanup()
            if classroom is not None:
                await classroom.aclose()
            await hub_server.stop()
            await hub.close()
            await store.close()
    finally:
        lock.release()


def _lock(data: Path) -> Any:
    """The data folder, made ours for as long as the class runs: a second classroom on the same folder shared
    its class file and its worlds, and its "Start for everyone" changed the first one's trainees' scenario (a
    user's trial). :class:`~bulkdash.filelock.InUse` when another classroom holds it."""
    from bulkdash.filelock import FileLock

    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = FileLock(data / "classroom.lock", owner="another bulkdash classroom")
    lock.acquire(data)
    return lock


__all__ = ["serve_classroom"]
