"""One trainee's dashboard in a classroom (what each browser tab runs): ``bulkdash train``'s Scenarios
screen, connected to the trainee's own world on the classroom's hub instead of an embedded simulator, with a
:class:`~bulkdash.classroom.link.ClassroomLink` reporting to the classroom and taking the instructor's
starts.

The world's webhooks are pointed at this dashboard's own receiver when it connects (a reload starts a new
dashboard on the same world, with a new receiver).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bulkdash.service.events import Event
    from bulkdash.session import Session


def classroom_connector(world: str, world_token: str):  # type: ignore[no-untyped-def]
    async def connect() -> Session:
        from bulkdash.session import DEMO_API_KEY, DEMO_EMAIL, DEMO_PASSWORD, Session

        session = await Session.remote(
            f"{world}/multi",
            DEMO_API_KEY,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            sim_root=world,
            sim_token=world_token,
            label="your classroom world",
        )
        try:
            control = session.sim_control()
            assert control is not None and session.receiver is not None
            await control.send_webhooks_to(session.receiver.url)
        except BaseException:
            await session.close()
            raise
        return session

    return connect


def run_trainee(api: str, secret: str, world: str, world_token: str, speed: float) -> int:
    from bulkdash.classroom.link import ClassroomLink
    from bulkdash.service.events import Connected
    from bulkdash.ui.app import BulkdashApp

    app = BulkdashApp(classroom_connector(world, world_token), start="scenarios", speed=speed)
    app.service.training_kept = True  # the classroom keeps every answer (a reload resumes them)
    link = ClassroomLink(api, secret, app.service)
    running: list[asyncio.Task[None]] = []

    def hear(event: Event) -> None:
        if isinstance(event, Connected) and not running:
            running.append(asyncio.ensure_future(link.run()))

    app.service.subscribe(hear)
    try:
        return int(app.run() or 0)
    finally:
        for task in running:
            task.cancel()


__all__ = ["classroom_connector", "run_trainee"]
