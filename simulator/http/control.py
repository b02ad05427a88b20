"""The simulator's control API under ``/_sim`` (docs/behaviour.md Appendix B): reset, config, world,
webhooks, fault
plans, scenarios and presenter controls.

Presenter controls (simulator/engine/presenter.py), for live demos:

* ``GET /_sim/presenter`` → 200 ``{"paused", "speed", "opDelayMs", "effectiveOpDelayMs", "faultPending",
  "waiting", "stepsPending"}``;
* ``PUT /_sim/presenter`` ``{"paused"?: bool, "speed"?: 0.1..10}`` → 200, the same (400 on a bad body,
  nothing changed);
* ``POST /_sim/presenter/step`` → 200 (one more operation runs) or 409 ``WORLD_NOT_PAUSED``;
* ``POST /_sim/presenter/fault-now`` → 200: the next operation that runs fails.
* ``POST /_sim/presenter/hold`` ``{"bulkId", "operation"}`` → 200: the world pauses when that operation is
  about to run, until the bulk is paused or cancelled or the world un-paused; ``DELETE`` drops the holds not
  reached yet (both answer the presenter's state, ``holds`` and ``heldAt`` included).

``POST /_sim/reset`` also puts the presenter back to running at speed 1 with nothing pending.

Not rate limited: it is meant for tests and demos. Bound to loopback it needs no credentials, unless a token
was given. A **control token** (``--control-token`` / ``SIM_CONTROL_TOKEN``) is required from every caller
— loopback included — whenever one is given, and always when the simulator listens beyond loopback (then
one is generated and printed in the banner if none was given): send it as ``Authorization: Bearer <token>``.
Without it, or with another, every ``/_sim`` route answers 401 ``{"code": "UNAUTHORIZED", "message"}``.
Otherwise anyone who can reach the port could reset the world, or point ``webhookBaseUrl`` at their own
server and receive the next webhook's ``webhooks-key``.

No answer of this API shows a secret: webhook headers carrying one (``webhooks-key``) and a password in a
webhook base URL are shown as ``••••``; tokens and passwords are never returned at all.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bulkdash.contract.presenter import MAX_SPEED, MIN_TRAINEE_SPEED, PresenterHold, PresenterUpdate
from bulkdash.contract.validation import validate_model
from simulator.engine.engine import Engine
from simulator.engine.presenter import WorldNotPaused
from simulator.faults import PlanError, parse_plan
from simulator.http import responses as r
from simulator.http.app import read_json
from simulator.http.ratelimit import RateLimiter
from simulator.settings import SimSettings, is_loopback, webhook_url_problem
from simulator.webhooks.dispatcher import WebhookDispatcher

REDACTED = "••••"
#: Headers of recorded webhooks that carry a secret (the signatures are HMACs: they reveal no key).
SECRET_HEADERS = frozenset({"webhooks-key", "authorization", "api-key"})

Endpoint = Callable[[Request], Awaitable[Response]]


def resolve_control_token(settings: SimSettings) -> str | None:
    """The token ``/_sim`` requires: the one given; a fresh one when bound beyond loopback; else None."""
    if settings.control_token is not None:
        return settings.control_token.get_secret_value()
    if not is_loopback(settings.host):
        return secrets.token_urlsafe(32)
    return None


def _presented_token(request: Request) -> bytes | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip().encode("utf-8") if scheme.lower() == "bearer" and value.strip() else None


def _unauthorised() -> Response:
    return r.JSON(
        {
            "code": "UNAUTHORIZED",
            "message": "The control API needs the simulator's control token: Authorization: Bearer <token>",
        },
        status_code=401,
        headers={"www-authenticate": 'Bearer realm="bulkdash-sim control API"'},
    )


def _redact_url(url: str | None) -> str | None:
    """A URL with the password of its user-info (``http://user:secret@host``) hidden."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{REDACTED}@{netloc}"))


def _redact_event(event: dict[str, Any]) -> dict[str, Any]:
    headers = {k: REDACTED if k.lower() in SECRET_HEADERS else v for k, v in event["headers"].items()}
    return {**event, "headers": headers, "url": _redact_url(event.get("url"))}


class ConfigUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhookBaseUrl: dict[str, str | None] | None = None
    opDelayMs: int | None = Field(default=None, ge=0, le=600_000)
    maintenance: bool | None = None
    webhookRetryScale: float | None = Field(default=None, ge=0)


class ScenarioStart(BaseModel):
    """Optional body of ``POST /_sim/scenarios/{name}``."""

    model_config = ConfigDict(extra="forbid")

    seed: int | None = None
    identity: str | None = Field(default=None, pattern=r"^[0-9]+$")
    execute: bool | None = None  # default: execute unless the scenario leaves it to the client
    #: A person plays it (the dashboard): the world waits paused, holds at the pack's "your move" operation,
    #: and plays at the pack's ``[run] speed`` (or ``speed``).
    trainee: bool = False
    speed: float | None = Field(default=None, ge=MIN_TRAINEE_SPEED, le=MAX_SPEED)


class Control:
    def __init__(self, engine: Engine, limiter: RateLimiter, dispatcher: WebhookDispatcher) -> None:
        self.engine = engine
        self.limiter = limiter
        self.dispatcher = dispatcher
        token = resolve_control_token(engine.settings)
        # Bytes: hmac.compare_digest on str refuses non-ASCII, which a caller can send.
        self._token: bytes | None = token.encode("utf-8") if token is not None else None

    def _guarded(self, endpoint: Endpoint) -> Endpoint:
        """``endpoint`` behind the control token, when one is required."""
        if self._token is None:
            return endpoint
        expected = self._token

        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            presented = _presented_token(request)
            if presented is None or not hmac.compare_digest(presented, expected):
                return _unauthorised()
            return await endpoint(request)

        return guarded

    async def reset(self, request: Request) -> Response:
        await self.engine.reset()
        self.limiter.reset()
        return r.empty(204)

    async def get_config(self, request: Request) -> Response:
        s = self.engine.settings
        return r.JSON(
            {
                "webhookBaseUrl": {p: _redact_url(u) for p, u in self.engine.publisher.base_urls.items()},
                "opDelayMs": s.op_delay_ms,
                "maintenance": self.engine.maintenance,
                "webhookRetryScale": s.webhook_retry_scale,
                "rateLimits": s.rate_limits,
                "maxActiveBulks": s.max_active_bulks,
            }
        )

    async def put_config(self, request: Request) -> Response:
        update = validate_model(ConfigUpdate, await read_json(request))
        s = self.engine.settings
        if update.webhookBaseUrl is not None:
            for programme, url in update.webhookBaseUrl.items():  # every entry checked before any applies
                if programme not in self.engine.world.programmes:
                    return r.bad_request(f"Unknown programme {programme}")
                if url and (problem := webhook_url_problem(url)) is not None:
                    return r.bad_request(f"webhookBaseUrl {programme}: {problem}")
            for programme, url in update.webhookBaseUrl.items():
                if url:
                    self.engine.publisher.base_urls[programme] = url
                else:
                    self.engine.publisher.base_urls.pop(programme, None)
        if update.opDelayMs is not None:
            s.op_delay_ms = update.opDelayMs
        if update.maintenance is not None:
            self.engine.maintenance = update.maintenance
        if update.webhookRetryScale is not None:
            s.webhook_retry_scale = update.webhookRetryScale
        return r.empty(204)

    async def world(self, request: Request) -> Response:
        view = self.engine.world_view(request.path_params["identity_id"])
        return r.not_found() if view is None else r.JSON(view)

    async def webhooks(self, request: Request) -> Response:
        bulk_id = request.query_params.get("bulkId")
        events: list[dict[str, Any]] = await self.engine.store.list_webhooks(bulk_id)
        return r.JSON([_redact_event(e) for e in events])

    async def redeliver(self, request: Request) -> Response:
        if not await self.engine.store.requeue_event(request.path_params["event_id"], self.engine.clock()):
            return r.not_found()
        self.dispatcher.wake()
        return r.empty(202)

    # --- fault plans (simulator/faults) ----------------------------------------------------------------
    async def get_faults(self, request: Request) -> Response:
        return r.JSON(self.engine.faults.describe())

    async def put_faults(self, request: Request) -> Response:
        """Set the plan of its scope (``identity``, or global); 400 names the offending field."""
        try:
            self.engine.faults.set(parse_plan(await read_json(request), "plan"))
        except PlanError as exc:
            return r.JSON(exc.as_json(), status_code=400)
        return r.JSON(self.engine.faults.describe())

    async def delete_faults(self, request: Request) -> Response:
        """``?identity=1001`` clears that identity's plan; without it every plan goes."""
        identity = request.query_params.get("identity")
        self.engine.faults.clear(identity, everything=identity is None)
        return r.empty(204)

    # --- presenter controls (simulator/engine/presenter.py) ---------------------------------------------
    async def get_presenter(self, request: Request) -> Response:
        return r.JSON(self.engine.presenter.describe())

    async def put_presenter(self, request: Request) -> Response:
        update = validate_model(PresenterUpdate, await read_json(request))
        self.engine.presenter.set(paused=update.paused, speed=update.speed)
        return r.JSON(self.engine.presenter.describe())

    async def step(self, request: Request) -> Response:
        try:
            self.engine.presenter.step()
        except WorldNotPaused as exc:
            return r.conflict(exc.code)
        return r.JSON(self.engine.presenter.describe())

    async def fault_now(self, request: Request) -> Response:
        self.engine.presenter.fault_now()
        return r.JSON(self.engine.presenter.describe())

    async def hold(self, request: Request) -> Response:
        body = validate_model(PresenterHold, await read_json(request))
        self.engine.presenter.hold_at(body.bulkId, body.operation)
        return r.JSON(self.engine.presenter.describe())

    async def clear_holds(self, request: Request) -> Response:
        self.engine.presenter.clear_holds()
        return r.JSON(self.engine.presenter.describe())

    # --- scenario packs (simulator/scenarios) -------------------------------------------------------
    # Imported by the handlers that use them: the packs' models and item generators were ~25 ms of every
    # simulator start (python -X importtime), the embedded one's included, for routes a trainer calls.
    async def scenarios(self, request: Request) -> Response:
        from simulator.scenarios import list_scenarios

        return r.JSON([s.summary() for s in list_scenarios()])

    async def scenario(self, request: Request) -> Response:
        from simulator.scenarios import get_scenario

        found = get_scenario(request.path_params["name"])
        return r.not_found() if found is None else r.JSON(found.model_dump(mode="json", exclude_none=True))

    async def start_scenario(self, request: Request) -> Response:
        """Apply a scenario (fault plan, speed), submit its bulk as the identity's demo user: 201, bulkId."""
        from simulator.scenarios import get_scenario
        from simulator.scenarios.setup import DEFAULT_IDENTITY, setup_scenario

        found = get_scenario(request.path_params["name"])
        if found is None:
            return r.not_found()
        body = validate_model(ScenarioStart, await read_json(request, required=False) or {})
        result = await setup_scenario(
            self.engine,
            found,
            seed=body.seed,
            identity=body.identity or DEFAULT_IDENTITY,
            execute=body.execute,
            trainee=body.trainee,
            speed=body.speed,
        )
        return r.JSON(result, status_code=201)

    def routes(self) -> list[Route]:
        return [
            Route(route.path, self._guarded(route.endpoint), methods=route.methods)
            for route in self._routes()
        ]

    def _routes(self) -> list[Route]:
        return [
            Route("/faults", self.get_faults, methods=["GET"]),
            Route("/faults", self.put_faults, methods=["PUT"]),
            Route("/faults", self.delete_faults, methods=["DELETE"]),
            Route("/scenarios", self.scenarios, methods=["GET"]),
            Route("/scenarios/{name}", self.scenario, methods=["GET"]),
            Route("/scenarios/{name}", self.start_scenario, methods=["POST"]),
            Route("/presenter", self.get_presenter, methods=["GET"]),
            Route("/presenter", self.put_presenter, methods=["PUT"]),
            Route("/presenter/step", self.step, methods=["POST"]),
            Route("/presenter/fault-now", self.fault_now, methods=["POST"]),
            Route("/presenter/hold", self.hold, methods=["POST"]),
            Route("/presenter/hold", self.clear_holds, methods=["DELETE"]),
            Route("/reset", self.reset, methods=["POST"]),
            Route("/config", self.get_config, methods=["GET"]),
            Route("/config", self.put_config, methods=["PUT"]),
            Route("/world/{identity_id}", self.world, methods=["GET"]),
            Route("/webhooks", self.webhooks, methods=["GET"]),
            Route("/webhooks/{event_id}/redeliver", self.redeliver, methods=["POST"]),
        ]
