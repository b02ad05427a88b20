"""The classroom's web side: trainees join in the browser, each gets the dashboard (textual-serve) on a world
of their own, and the instructor's page shows the class live and drives it.

One aiohttp application (textual-serve's, extended):

* ``GET /join`` · ``POST /join`` — a display name, no account: the trainee gets a world on the hub and a
  secret in an HttpOnly cookie; ``GET /`` then serves the dashboard page, whose websocket (``/ws``) starts
  ``bulkdash classroom trainee`` with the trainee's world and secret **in its environment** (never its argv,
  which ``ps`` shows). A reload finds the cookie, so the same trainee, world and results.
* ``GET /instructor?token=…`` — the instructor's page (the token printed at start; kept in a cookie after);
  it polls ``GET /api/class`` each second: where each trainee is, right / wrong / not applicable, hints, time.
  ``POST /api/class/start`` (a scenario for everyone), ``/api/class/pause`` (the world of everyone),
  ``/api/class/end``.
* ``GET /api/me`` · ``POST /api/me/events`` — for the trainees' dashboards (``Authorization: Bearer``
  their secret): the instructor's current command, and what they did (:mod:`bulkdash.classroom.link`).

Nothing here imports Textual; textual-serve and aiohttp are imported when the classroom runs.
"""

from __future__ import annotations

import hmac
import html
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from bulkdash.classroom.env import ENV_API, ENV_SECRET, ENV_SPEED, ENV_WORLD, ENV_WORLD_TOKEN
from bulkdash.classroom.store import ClassError, ClassStore, Trainee

TRAINEE_COOKIE = "bulkdash_trainee"
INSTRUCTOR_COOKIE = "bulkdash_instructor"
#: The phases a trainee's dashboard reports while its world waits for the trainee (``model.training.Phase``).
TRAINEE_WAITS = frozenset({"ready", "your move"})
PAGES = Path(__file__).parent / "pages"


@dataclass
class ClassroomConfig:
    store: ClassStore
    hub_url: str  # the hub's root on loopback, e.g. http://127.0.0.1:41234
    hub_token: str
    world_token: Callable[[str], str]
    instructor_token: str
    api_url: str  # this server as the trainees' dashboards reach it (loopback)
    scenarios: Callable[[], list[dict[str, Any]]]  # name, title, difficulty of each pack
    speed: float = 0.25
    python: str = sys.executable


class Classroom:
    """The routes; :meth:`make_app` builds them onto textual-serve's application."""

    def __init__(self, config: ClassroomConfig) -> None:
        self.config = config
        self._hub = httpx.AsyncClient(base_url=config.hub_url, timeout=10)

    async def aclose(self) -> None:
        await self._hub.aclose()

    # -- who is asking -------------------------------------------------------------------------------------

    async def _trainee(self, request: web.Request) -> tuple[Trainee, str] | None:
        secret = request.cookies.get(TRAINEE_COOKIE)
        if not secret:
            auth = request.headers.get("Authorization", "")
            secret = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        trainee = await self.config.store.trainee(secret)
        return None if trainee is None or secret is None else (trainee, secret)

    def _instructor(self, request: web.Request) -> bool:
        """Whether any credential presented is this session's token: the URL's, the cookie's, a bearer's.
        Any, not the first found: after a restart (a new token) the old cookie beat the new URL, and the
        instructor was locked out until they cleared their cookies (a user's trial)."""
        auth = request.headers.get("Authorization", "")
        presented = [
            request.query.get("token", ""),
            request.cookies.get(INSTRUCTOR_COOKIE, ""),
            auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else "",
        ]
        token = self.config.instructor_token.encode()
        return any(given and hmac.compare_digest(given.encode(), token) for given in presented)

    # -- trainees --------------------------------------------------------------------------------------------

    def trainee_environment(self, trainee: Trainee, secret: str) -> dict[str, str]:
        """What a trainee's dashboard process is told (private: the environment, not the command line)."""
        return {
            ENV_API: self.config.api_url,
            ENV_SECRET: secret,
            ENV_WORLD: f"{self.config.hub_url}/w/{trainee.id}",
            ENV_WORLD_TOKEN: self.config.world_token(trainee.id),
            ENV_SPEED: str(self.config.speed),
        }

    async def join_page(self, request: web.Request, error: str = "", status: int = 200) -> web.Response:
        command = await self.config.store.command()
        if command["ended"]:
            return _page("join.html", status=410, error="This session has ended.", hidden="")
        return _page("join.html", status=status, error=html.escape(error), hidden="" if error else "hidden")

    async def join(self, request: web.Request) -> web.Response:
        if (await self.config.store.command())["ended"]:
            return await self.join_page(request)
        form = await request.post()
        try:
            trainee, secret = await self.config.store.join(str(form.get("name", "")))
        except ClassError as exc:
            return await self.join_page(request, str(exc), status=400)
        response = await self._open_world(trainee)
        if response is not None:
            return await self.join_page(request, response, status=503)
        raise _see_other("/", {TRAINEE_COOKIE: secret})

    async def _open_world(self, trainee: Trainee) -> str | None:
        try:
            answer = await self._hub.post(
                "/_hub/worlds",
                json={"name": trainee.id},
                headers={"Authorization": f"Bearer {self.config.hub_token}"},
            )
        except httpx.HTTPError as exc:
            return f"The classroom's simulator did not answer ({type(exc).__name__}); try again."
        return None if answer.status_code == 200 else f"The classroom's simulator refused: {answer.text}"

    async def me(self, request: web.Request) -> web.Response:
        found = await self._trainee(request)
        if found is None:
            return _json({"message": "Join the class first"}, 401)
        trainee, _ = found
        store = self.config.store
        return _json(
            {
                "id": trainee.id,
                "name": trainee.name,
                "command": await store.command(),
                "resume": await store.resume(trainee),
            }
        )

    async def event(self, request: web.Request) -> web.Response:
        found = await self._trainee(request)
        if found is None:
            return _json({"message": "Join the class first"}, 401)
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ClassError("a JSON object, please")
            await self.config.store.record(found[0], body)
        except (ValueError, ClassError) as exc:
            return _json({"message": str(exc)}, 400)
        return web.Response(status=204)

    # -- the instructor --------------------------------------------------------------------------------------

    async def instructor_page(self, request: web.Request) -> web.Response:
        if not self._instructor(request):
            return _page("denied.html", status=401)
        response = _page("instructor.html")
        response.set_cookie(
            INSTRUCTOR_COOKIE, self.config.instructor_token, httponly=True, samesite="Strict", path="/"
        )
        return response

    async def class_view(self, request: web.Request) -> web.Response:
        if not self._instructor(request):
            return _json({"message": "The instructor's token is required"}, 401)
        return _json(
            {
                "command": await self.config.store.command(),
                "trainees": await self.config.store.overview(),
                "scenarios": self.config.scenarios(),
            }
        )

    async def start_for_everyone(self, request: web.Request) -> web.Response:
        if not self._instructor(request):
            return _json({"message": "The instructor's token is required"}, 401)
        body = await _body(request)
        name = body.get("scenario")
        if not isinstance(name, str) or not name:
            # Said as such: a body that was no JSON object read "No scenario None".
            return _json({"message": 'A JSON object naming the scenario is needed: {"scenario": "…"}'}, 400)
        if name not in {s["name"] for s in self.config.scenarios()}:
            return _json({"message": f"No scenario {name!r}"}, 400)
        return _json(await self.config.store.set_command(scenario=name, paused=False))

    async def pause_everyone(self, request: web.Request) -> web.Response:
        if not self._instructor(request):
            return _json({"message": "The instructor's token is required"}, 401)
        paused = (await _body(request)).get("paused", True)
        if not isinstance(paused, bool):  # "yes" (or "false") was taken as a pause
            return _json({"message": 'paused is true or false: {"paused": true}'}, 400)
        command = await self.config.store.set_command(paused=paused)
        # Playing again leaves alone the worlds that wait for their trainee (set up and not started, or held
        # at the brief's move): un-pausing them ran every waiting bulk to its end while the trainee's screen
        # still said "Press space to start" (a user's trial). Their trainee's own key plays them.
        waiting = (
            set()
            if paused
            else {row["id"] for row in await self.config.store.overview() if row["phase"] in TRAINEE_WAITS}
        )
        failed = 0
        for trainee in await self.config.store.trainees():
            if trainee.id in waiting:
                continue
            try:
                answer = await self._hub.put(
                    f"/w/{trainee.id}/_sim/presenter",
                    json={"paused": paused},
                    headers={"Authorization": f"Bearer {self.config.world_token(trainee.id)}"},
                )
                failed += answer.status_code >= 400
            except httpx.HTTPError:
                failed += 1
        return _json({**command, "worldsNotReached": failed, "worldsWaitingForTrainee": len(waiting)})

    async def end(self, request: web.Request) -> web.Response:
        if not self._instructor(request):
            return _json({"message": "The instructor's token is required"}, 401)
        return _json(await self.config.store.set_command(ended=True))

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/join", self.join_page),
            web.post("/join", self.join),
            web.get("/instructor", self.instructor_page),
            web.get("/api/me", self.me),
            web.post("/api/me/events", self.event),
            web.get("/api/class", self.class_view),
            web.post("/api/class/start", self.start_for_everyone),
            web.post("/api/class/pause", self.pause_everyone),
            web.post("/api/class/end", self.end),
        ]

    def index_guard(
        self, index: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """textual-serve's page only for a trainee who joined; others go to the join page."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            if await self._trainee(request) is None:
                raise web.HTTPSeeOther("/join")
            return await index(request)

        return guarded


def _page(name: str, status: int = 200, **fields: str) -> web.Response:
    text = (PAGES / name).read_text(encoding="utf-8")
    for key, value in fields.items():
        text = text.replace("{{" + key + "}}", value)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _see_other(location: str, cookies: dict[str, str]) -> web.HTTPSeeOther:
    response = web.HTTPSeeOther(location)
    for key, value in cookies.items():
        response.set_cookie(key, value, httponly=True, samesite="Strict", path="/", max_age=7 * 24 * 3600)
    return response


__all__ = ["Classroom", "ClassroomConfig"]
