"""The simulator's HTTP surface: thin Starlette routes over the engine (BEHAVIOR §2–4, §8).

Each handler runs the checks of §2.6 in order through ``guard`` (api-key → rate limit → token →
permission), validates its input, and hands the work to the engine. Every refusal, from here or from the
layers below, is raised as a :class:`simulator.errors.SimError` (or the contract's ``RequestInvalid``) that
carries its own status, body and headers; :func:`on_error`, the one exception handler, answers it.
``WeavrEdge`` wraps it all: ``request-ref`` on every response, and one Weavr 500 (and one log line) for a bug.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bulkdash.contract.codec import loads_bounded
from bulkdash.contract.integers import IntFormat, format_violation
from bulkdash.contract.kinds import BULK_PERMISSIONS, KINDS, KindSpec
from bulkdash.contract.models import (
    AccessTokenRequest,
    BulkProcessExecute,
    BulkStatus,
    LoginWithPasswordRequest,
    OperationStatus,
)
from bulkdash.contract.requests import NUMERIC_ID_PATTERN
from bulkdash.contract.validation import NOT_AN_ARRAY_MESSAGE, RequestInvalid, validate_model
from simulator.engine.auth import LoginRefused, Principal, check_password
from simulator.engine.engine import Engine
from simulator.errors import (
    BadRequest,
    EmptyRefusal,
    Forbidden,
    HttpStatus,
    InternalError,
    InvalidParam,
    Malformed,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    SimError,
    StoreUnavailable,
    Unauthorized,
)
from simulator.http.ratelimit import RateLimiter
from simulator.http.responses import JSON, EncodedJSON, empty, error_response
from simulator.webhooks.outbox import new_uuid
from simulator.world.model import Programme

log = logging.getLogger(__name__)

MAX_BODY = 32 * 1024 * 1024
BODY_REQUIRED_MESSAGE = "Request body is required"


async def _read_body(request: Request) -> bytes:
    """The raw body, or 413 as soon as it is known to exceed ``MAX_BODY``."""
    length = request.headers.get("content-length")
    if length is not None and length.isascii() and length.isdigit() and int(length) > MAX_BODY:
        raise PayloadTooLarge()
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(
    request: Request, *, required: bool = True, missing_message: str = BODY_REQUIRED_MESSAGE
) -> Any:
    """The parsed body, for every route that takes one (``/multi`` and ``/_sim``), with Weavr's errors: 413
    over 32 MiB; 400 ``Malformed`` for anything ``loads_bounded`` refuses (bad JSON or UTF-8, nesting deeper
    than ``MAX_JSON_DEPTH``, ``NaN``); 400 ``missing_message`` for an empty body when one is required."""
    raw = await _read_body(request)
    if not raw.strip():
        if required:
            raise BadRequest(missing_message)
        return None
    try:
        return loads_bounded(raw)
    except ValueError as exc:
        raise Malformed() from exc


class Api:
    """Route handlers bound to one engine and one rate limiter."""

    def __init__(self, engine: Engine, limiter: RateLimiter) -> None:
        self.engine = engine
        self.limiter = limiter

    # --- the common checks (§2.6 steps 2–5) ---------------------------------------------------------
    def _rate_limited(self, api_key: str, request: Request) -> tuple[str, int] | None:
        """§2.6 step 3: the real limiter, and first a fault plan's token bucket (simulator/faults/api.py),
        which answers 429 with the same headers; a request the bucket refuses is not counted by either."""
        api_faults = self.engine.faults.api
        if api_faults is not None:
            throttled = api_faults.throttle(
                self.engine, api_key, request.method, request.url.path, request.headers.get("authorization")
            )
            if throttled is not None:
                return throttled
        return self.limiter.hit(api_key)

    def _programme(self, request: Request) -> Programme:
        """§2.6 steps 2–3: a known api-key (else 401), within its rate limits (else 429)."""
        api_key = request.headers.get("api-key")
        programme = self.engine.world.programme_by_key(api_key) if api_key else None
        if programme is None:
            raise Unauthorized()
        limited = self._rate_limited(programme.api_key, request)
        if limited is not None:
            raise RateLimited(*limited)
        return programme

    def guard(self, request: Request, *permissions: str) -> Principal:
        """§2.6 steps 2–5: the caller, or the refusal raised (401, 429, 401, 403)."""
        programme = self._programme(request)
        principal = self.engine.tokens.resolve(
            programme.api_key, request.headers.get("authorization"), self.engine.clock()
        )
        if principal is None:
            raise Unauthorized()
        if permissions and not principal.may(*permissions):
            raise Forbidden()
        return principal

    # --- auth endpoints -----------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        programme = self._programme(request)
        body = validate_model(LoginWithPasswordRequest, await read_json(request))
        now = self.engine.clock()
        try:
            user = check_password(self.engine.world, programme, body.email, body.password.value, now)
        except LoginRefused as refused:
            await self.engine.flush()  # the failed-attempt counter survives a restart
            raise EmptyRefusal(refused.status) from None
        await self.engine.flush()
        token = self.engine.tokens.issue(programme.api_key, user.id, now)
        await self.engine.store.save_token(token, programme.api_key, user.id, now)
        identity = self.engine.world.identities[user.identity_id]
        return JSON(
            {
                "token": token,
                "tokenType": "ACCESS",
                "identity": {"type": identity.type, "id": identity.id},
                "credentials": {"type": user.credential_type, "id": user.id},
            }
        )

    async def logout(self, request: Request) -> Response:
        principal = self.guard(request)
        self.engine.tokens.revoke(principal.token)
        await self.engine.store.revoke_token(principal.token)
        return empty(204)

    async def access_token(self, request: Request) -> Response:
        principal = self.guard(request)
        body = validate_model(AccessTokenRequest, await read_json(request))
        if body.identity.id != principal.identity.id or body.identity.type != principal.identity.type:
            raise EmptyRefusal(403)
        now = self.engine.clock()
        token = self.engine.tokens.issue(principal.programme.api_key, principal.user.id, now)
        await self.engine.store.save_token(token, principal.programme.api_key, principal.user.id, now)
        return JSON(
            {
                "token": token,
                "identity": {"type": principal.identity.type, "id": principal.identity.id},
                "credentials": {"type": principal.user.credential_type, "id": principal.user.id},
                "status": "STANDARD",
            }
        )

    # --- reads --------------------------------------------------------------------------------------
    async def list_bulks(self, request: Request) -> Response:
        principal = self.guard(request, BULK_PERMISSIONS["list"])
        offset, limit, status = _paging(request, BulkStatus)
        return EncodedJSON(self.engine.list_bulks(principal, offset, limit, status).encoded)

    async def get_bulk(self, request: Request) -> Response:
        principal = self.guard(request, BULK_PERMISSIONS["get"])
        return EncodedJSON(self.engine.get_bulk(principal, _bulk_id(request)).encoded)

    async def list_operations(self, request: Request) -> Response:
        principal = self.guard(request, BULK_PERMISSIONS["get_operations"])
        bulk_id = _bulk_id(request)
        offset, limit, status = _paging(request, OperationStatus)
        sequence = _int_param(request, "sequence", minimum=None, fmt="int64")
        page = await self.engine.list_operations(principal, bulk_id, offset, limit, status, sequence)
        return EncodedJSON(page.encoded)

    # --- lifecycle ----------------------------------------------------------------------------------
    async def execute(self, request: Request) -> Response:
        principal = self.guard(request, BULK_PERMISSIONS["execute"])
        bulk_id = _bulk_id(request)
        data = await read_json(request)
        if data is None:  # a JSON null counts as no body (§3.8)
            raise BadRequest(BODY_REQUIRED_MESSAGE)
        body = validate_model(BulkProcessExecute, data)
        await self.engine.execute(principal, bulk_id, body)
        return empty(204)

    def _action(self, permission: str, action: Callable[[Principal, str], Awaitable[None]]):
        async def handler(request: Request) -> Response:
            principal = self.guard(request, permission)
            bulk_id = _bulk_id(request)
            await _read_body(request)  # ignored (§3.9), but a body over 32 MiB is a 413 here too (§3.1)
            await action(principal, bulk_id)
            return empty(204)

        return handler

    # --- submissions --------------------------------------------------------------------------------
    def _submission(self, spec: KindSpec):
        async def handler(request: Request) -> Response:
            principal = self.guard(request, *spec.permissions)
            payload = await read_json(request, missing_message=NOT_AN_ARRAY_MESSAGE)
            result = await self.engine.submit(
                principal, spec, payload, request.headers.get("idempotency-ref")
            )
            return JSON(result.body, status_code=result.status)

        return handler

    def routes(self) -> list[Route]:
        e = self.engine
        # The polled reads first: the router tries routes in order and a full match (path *and* method) is
        # unique here, so the order only decides how many patterns a request is tried against (a GET of a
        # bulk used to be tried against 14, a third of its cost in the app).
        routes = [
            Route("/bulks/{bulk_id}", self.get_bulk, methods=["GET"]),
            Route("/bulks/{bulk_id}/operations", self.list_operations, methods=["GET"]),
            Route("/bulks", self.list_bulks, methods=["GET"]),
            Route("/login_with_password", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/access_token", self.access_token, methods=["POST"]),
        ]
        for spec in KINDS.values():
            routes.append(Route(spec.bulk_path, self._submission(spec), methods=[spec.method]))
        routes += [
            Route("/bulks/{bulk_id}/execute", self.execute, methods=["POST"]),
            Route(
                "/bulks/{bulk_id}/pause",
                self._action(BULK_PERMISSIONS["pause_and_resume"], e.pause),
                methods=["POST"],
            ),
            Route(
                "/bulks/{bulk_id}/resume",
                self._action(BULK_PERMISSIONS["pause_and_resume"], e.resume),
                methods=["POST"],
            ),
            Route(
                "/bulks/{bulk_id}/cancel",
                self._action(BULK_PERMISSIONS["cancel"], e.cancel),
                methods=["POST"],
            ),
        ]
        return routes


# --- query and path parameters (§3.4) ---------------------------------------------------------------

#: Bulk ids are allotted far below 10**18, and the engine looks them up as 64-bit integers.
MAX_ID_DIGITS = 18
#: An integer query parameter: optional sign, ASCII digits (``int()`` would also take " 1", "1_0", "١").
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
#: The most digits a format holds (int64's bounds have 19), and a stand-in for any longer number.
_MAX_INT_DIGITS = 19
_BEYOND_EVERY_FORMAT = 10**_MAX_INT_DIGITS


def _bulk_id(request: Request) -> str:
    """The ``bulk_id`` path parameter, leading zeros dropped: 400 ``REGEX`` unless it is all digits, 404
    when it has more digits than any bulk id (it matches the pattern, so it is not a bad request)."""
    bulk_id: str = request.path_params["bulk_id"]
    if not bulk_id.isascii() or not bulk_id.isdigit():
        raise InvalidParam("bulk_id", "REGEX", [NUMERIC_ID_PATTERN])
    significant = bulk_id.lstrip("0") or "0"
    if len(significant) > MAX_ID_DIGITS:
        raise NotFound()
    return significant


def _single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"Query parameter {name} must be given at most once")
    return values[0] if values else None


def _parse_int(text: str) -> int:
    """``int(text)`` of an ``_INT_TEXT``, except that a number longer than any format is taken as ±10**19:
    ``int()`` of thousands of digits is slow, and refused past 4,300."""
    if len(text.lstrip("+-").lstrip("0")) > _MAX_INT_DIGITS:
        return -_BEYOND_EVERY_FORMAT if text.startswith("-") else _BEYOND_EVERY_FORMAT
    return int(text)


def _int_param(request: Request, name: str, *, minimum: int | None, fmt: IntFormat) -> int | None:
    """An integer query parameter of Weavr's ``fmt``: 400 type error unless it is written as an integer
    (``1.5``, ``x``; query strings are not JSON, so ``100.0`` is not one either), 400 ``AT_LEAST`` below
    ``minimum``, 400 ``AT_MOST`` / ``AT_LEAST`` beyond the format (bulkdash/contract/integers.py)."""
    raw = _single(request, name)
    if raw is None:
        return None
    if _INT_TEXT.fullmatch(raw) is None:
        raise BadRequest(f"Invalid type for field {name}")
    value = _parse_int(raw)
    if minimum is not None and value < minimum:
        raise InvalidParam(name, "AT_LEAST", [str(minimum)])
    violation = format_violation(value, fmt)
    if violation is not None:
        raise InvalidParam(name, violation[0], [violation[1]])
    return value


def _paging(
    request: Request, statuses: type[BulkStatus] | type[OperationStatus]
) -> tuple[int, int, str | None]:
    offset = _int_param(request, "offset", minimum=0, fmt="int32") or 0
    limit = _int_param(request, "limit", minimum=1, fmt="int32")
    limit = 100 if limit is None else min(limit, 100)
    status = _single(request, "status")
    if status is not None and status not in statuses.__members__:
        raise InvalidParam("status", "IN", [s.value for s in statuses])
    return offset, limit, status


# --- error mapping and the outer ASGI layer ----------------------------------------------------------


def _as_refusal(exc: Exception) -> SimError | RequestInvalid:
    if isinstance(exc, SimError | RequestInvalid):
        return exc
    if isinstance(exc, HTTPException):  # routing: no such route, or not this method
        if exc.status_code == 404:
            return NotFound()
        if exc.status_code == 405:
            return MethodNotAllowed()
        return HttpStatus(exc.status_code, exc.detail)
    return InternalError()  # a bug: WeavrEdge logs it once, with the request-ref


async def on_error(request: Request, exc: Exception) -> Response:
    """The one exception handler: any refusal as its own response, anything else as Weavr's 500."""
    return error_response(_as_refusal(exc))


#: For the simulator's Starlette app (simulator/server.py), which the ``/multi`` routes are mounted in.
#: ``Exception`` goes to Starlette's ServerErrorMiddleware, which answers with it and re-raises to WeavrEdge.
EXCEPTION_HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    SimError: on_error,
    RequestInvalid: on_error,
    HTTPException: on_error,
    Exception: on_error,
}


class WeavrEdge:
    """Outer ASGI layer: ``request-ref`` on every response, maintenance mode, ``x-sim-fault``, fault plans,
    and the last word on a bug: exactly one response, Weavr's 500, and one log line with the request-ref."""

    def __init__(self, app: ASGIApp, engine: Engine, faults_enabled: Callable[[], bool]) -> None:
        self.app = app
        self.engine = engine
        self.faults_enabled = faults_enabled
        self._reads = _multi_api(app)

    async def _get_bulk(self, bulk_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        """``GET /multi/bulks/{bulk_id}``, the request clients poll, straight to its handler: what the
        routing layers would do for it (path parameter, refusals mapped by ``on_error``; anything else
        raised to ``__call__``, which answers Weavr's 500 and logs it once), without their ~8 µs a request
        (a third of the app's time for it; benchmarks/sim_read_latency.py)."""
        assert self._reads is not None
        scope["path_params"] = {"bulk_id": bulk_id}
        try:
            response = await self._reads.get_bulk(Request(scope, receive))
        except (SimError, RequestInvalid) as exc:
            response = error_response(exc)
        await response(scope, receive, send)

    def _may_refuse(self, scope: Scope) -> bool:
        """Whether ``_refusal`` has anything to look at: nearly always not, and then a request pays two
        attribute tests instead of a coroutine."""
        engine = self.engine
        return scope["path"].startswith("/multi") and (
            engine.maintenance
            or engine.store_down is not None
            or engine.faults.api is not None
            or self.faults_enabled()
        )

    async def _refusal(self, scope: Scope) -> SimError | None:
        """A refusal that replaces a ``/multi`` request before routing, or None to let it through."""
        if self.engine.maintenance:
            return ServiceUnavailable()
        if self.engine.store_down is not None and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            # Writes wait for the store (login and logout write tokens too); reads answer from the last
            # commit. The engine checks again under its own locks, for an outage that starts meanwhile.
            return StoreUnavailable(self.engine.store_down)
        if self.faults_enabled():
            fault = dict(scope["headers"]).get(b"x-sim-fault")
            if fault == b"500":
                return InternalError()
            if fault == b"503":
                return ServiceUnavailable()
        api_faults = self.engine.faults.api
        if api_faults is None:
            return None
        # A fault plan's API layer (simulator/faults/api.py): maintenance windows, added latency, injected
        # 500/503. A refused request never reaches a handler, so it is safe to retry.
        auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1") or None
        return await api_faults.before_request(self.engine, scope["method"], scope["path"], auth)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ref = new_uuid()
        started = False
        self.engine.requests_seen = True  # workers give the loop more turns while requests come in

        async def send_with_ref(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"request-ref", ref.encode())]
            await send(message)

        try:
            if self._may_refuse(scope):
                refusal = await self._refusal(scope)
                if refusal is not None:
                    await error_response(refusal)(scope, receive, send_with_ref)
                    return
            elif self._reads is not None and scope["method"] == "GET" and not scope.get("root_path"):
                polled = _POLLED_BULK.fullmatch(scope["path"])
                if polled is not None:
                    await self._get_bulk(polled[1], scope, receive, send_with_ref)
                    return
            await self.app(scope, receive, send_with_ref)
        except Exception:
            # Only the method and path: headers and bodies may hold credentials.
            log.exception("unhandled error in %s %s (request-ref %s)", scope["method"], scope["path"], ref)
            if not started:
                await error_response(InternalError())(scope, receive, send_with_ref)
            # Otherwise Starlette has already answered Weavr's 500 (EXCEPTION_HANDLERS), or a response is
            # half sent: a second start would break the protocol, and ending it would pass a truncated body
            # off as whole, so we return and the server closes the connection.


class MultiRouter(Router):
    """The ``/multi`` routes, and the handlers behind them (``api``) for ``WeavrEdge``'s polled read."""

    def __init__(self, api: Api) -> None:
        super().__init__(routes=api.routes(), redirect_slashes=False)  # see simulator/server.py
        self.api = api


def build_multi_app(engine: Engine, limiter: RateLimiter) -> MultiRouter:
    """The ``/multi`` routes, to mount at ``/multi`` in the simulator's app. A bare router, not a Starlette
    app: the app it is mounted in already maps every exception (``EXCEPTION_HANDLERS``), and a second app's
    middleware on every request cost ~10 % of a ``GET /bulks/{id}`` (profiled with
    benchmarks/sim_read_latency.py)."""
    return MultiRouter(Api(engine, limiter))


#: The polled read that ``WeavrEdge`` serves itself: what ``Mount("/multi")`` + ``Route("/bulks/{bulk_id}")``
#: match for GET (a path parameter is one or more characters other than "/").
_POLLED_BULK = re.compile(r"/multi/bulks/([^/]+)")


def _multi_api(app: ASGIApp) -> Api | None:
    """The handlers of the ``MultiRouter`` mounted at ``/multi`` in ``app``, if it is so built."""
    for route in getattr(app, "routes", ()):
        if isinstance(route, Mount) and route.path == "/multi" and isinstance(route.app, MultiRouter):
            return route.app.api
    return None
