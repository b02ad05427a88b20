"""The simulator's HTTP surface: thin Starlette routes over the engine (BEHAVIOR §2–4, §8).

Each handler runs the checks of §2.6 in order through ``guard`` (api-key → rate limit → token →
permission), validates its input, and hands the work to the engine, whose exceptions map to Weavr's error
bodies here and nowhere else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bulkdash.contract.kinds import BULK_PERMISSIONS, KINDS, KindSpec
from bulkdash.contract.models import (
    AccessTokenRequest,
    BulkProcessExecute,
    BulkStatus,
    LoginWithPasswordRequest,
    OperationStatus,
)
from bulkdash.contract.validation import RequestInvalid, validate_model
from simulator.engine.auth import LoginRefused, Principal, check_password
from simulator.engine.engine import Conflict, Engine, NotFound
from simulator.http import responses as r
from simulator.http.ratelimit import RateLimiter

MAX_BODY = 32 * 1024 * 1024


class _BodyTooLarge(Exception):
    pass


class _Malformed(Exception):
    pass


class _Missing(Exception):
    pass


async def read_json(request: Request, *, required: bool = True) -> Any:
    """The parsed body, with Weavr's errors: 413 over 32 MiB, 400 malformed, 400 missing when required."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise _BodyTooLarge()
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _BodyTooLarge()
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if required:
            raise _Missing()
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Malformed() from exc


def _invalid(field: str, error: str, params: list[str]) -> Response:
    return r.JSON(
        {
            "message": f"Invalid parameter {field}",
            "syntaxErrors": {"invalidFields": [{"params": params, "fieldName": field, "error": error}]},
        },
        status_code=400,
    )


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

    def guard(self, request: Request, *permissions: str) -> Principal | Response:
        api_key = request.headers.get("api-key")
        programme = self.engine.world.programme_by_key(api_key) if api_key else None
        if programme is None:
            return r.empty(401)
        limited = self._rate_limited(programme.api_key, request)
        if limited is not None:
            return r.empty(429, {"x-ratelimit-limit": limited[0], "x-ratelimit-reset": str(limited[1])})
        principal = self.engine.tokens.resolve(
            programme.api_key, request.headers.get("authorization"), self.engine.clock()
        )
        if principal is None:
            return r.empty(401)
        if permissions and not principal.may(*permissions):
            return r.forbidden()
        return principal

    # --- auth endpoints -----------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        api_key = request.headers.get("api-key")
        programme = self.engine.world.programme_by_key(api_key) if api_key else None
        if programme is None:
            return r.empty(401)
        limited = self._rate_limited(programme.api_key, request)
        if limited is not None:
            return r.empty(429, {"x-ratelimit-limit": limited[0], "x-ratelimit-reset": str(limited[1])})
        body = validate_model(LoginWithPasswordRequest, await read_json(request))
        now = self.engine.clock()
        try:
            user = check_password(self.engine.world, programme, body.email, body.password.value, now)
        except LoginRefused as refused:
            await self.engine.flush()  # the failed-attempt counter survives a restart
            return r.empty(refused.status)
        await self.engine.flush()
        token = self.engine.tokens.issue(programme.api_key, user.id, now)
        await self.engine.store.save_token(token, programme.api_key, user.id, now)
        identity = self.engine.world.identities[user.identity_id]
        return r.JSON(
            {
                "token": token,
                "tokenType": "ACCESS",
                "identity": {"type": identity.type, "id": identity.id},
                "credentials": {"type": user.credential_type, "id": user.id},
            }
        )

    async def logout(self, request: Request) -> Response:
        principal = self.guard(request)
        if isinstance(principal, Response):
            return principal
        self.engine.tokens.revoke(principal.token)
        await self.engine.store.revoke_token(principal.token)
        return r.empty(204)

    async def access_token(self, request: Request) -> Response:
        principal = self.guard(request)
        if isinstance(principal, Response):
            return principal
        body = validate_model(AccessTokenRequest, await read_json(request))
        if body.identity.id != principal.identity.id or body.identity.type != principal.identity.type:
            return r.empty(403)
        now = self.engine.clock()
        token = self.engine.tokens.issue(principal.programme.api_key, principal.user.id, now)
        await self.engine.store.save_token(token, principal.programme.api_key, principal.user.id, now)
        return r.JSON(
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
        if isinstance(principal, Response):
            return principal
        offset, limit, status = _paging(request, BulkStatus)
        return r.JSON(self.engine.list_bulks(principal, offset, limit, status))

    async def get_bulk(self, request: Request) -> Response:
        principal = self.guard(request, BULK_PERMISSIONS["get"])
        if isinstance(principal, Response):
            return principal
        return r.JSON(self.engine.get_bulk(principal, _bulk_id(request)))

    async def list_operations(self, request: Request) -> Response:
        principal = self.guard(request, BULK_PERMISSIONS["get_operations"])
        if isinstance(principal, Response):
            return principal
        bulk_id = _bulk_id(request)
        offset, limit, status = _paging(request, OperationStatus)
        sequence = _int_param(request, "sequence", minimum=None)
        page = await self.engine.list_operations(principal, bulk_id, offset, limit, status, sequence)
        return r.JSON(page)

    # --- lifecycle ----------------------------------------------------------------------------------
    async def execute(self, request: Request) -> Response:
        principal = self.guard(request, BULK_PERMISSIONS["execute"])
        if isinstance(principal, Response):
            return principal
        bulk_id = _bulk_id(request)
        try:
            data = await read_json(request)
        except _Missing:
            return r.bad_request("Request body is required")
        if data is None:
            return r.bad_request("Request body is required")
        body = validate_model(BulkProcessExecute, data)
        await self.engine.execute(principal, bulk_id, body)
        return r.empty(204)

    def _action(self, permission: str, action: Callable[[Principal, str], Awaitable[None]]):
        async def handler(request: Request) -> Response:
            principal = self.guard(request, permission)
            if isinstance(principal, Response):
                return principal
            bulk_id = _bulk_id(request)
            await action(principal, bulk_id)
            return r.empty(204)

        return handler

    # --- submissions --------------------------------------------------------------------------------
    def _submission(self, spec: KindSpec):
        async def handler(request: Request) -> Response:
            principal = self.guard(request, *spec.permissions)
            if isinstance(principal, Response):
                return principal
            try:
                payload = await read_json(request)
            except _Missing:
                return r.bad_request("Request body must be a JSON array")
            result = await self.engine.submit(
                principal, spec, payload, request.headers.get("idempotency-ref")
            )
            return r.JSON(result.body, status_code=result.status)

        return handler

    def routes(self) -> list[Route]:
        e = self.engine
        routes = [
            Route("/login_with_password", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/access_token", self.access_token, methods=["POST"]),
            Route("/bulks", self.list_bulks, methods=["GET"]),
        ]
        for spec in KINDS.values():
            routes.append(Route(spec.bulk_path, self._submission(spec), methods=[spec.method]))
        routes += [
            Route("/bulks/{bulk_id}", self.get_bulk, methods=["GET"]),
            Route("/bulks/{bulk_id}/operations", self.list_operations, methods=["GET"]),
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


class _ParamInvalid(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("invalid parameter")
        self.response = response


def _bulk_id(request: Request) -> str:
    bulk_id = request.path_params["bulk_id"]
    if not bulk_id.isascii() or not bulk_id.isdigit() or len(bulk_id) > 18:
        raise _ParamInvalid(_invalid("bulk_id", "REGEX", ["^[0-9]+$"]))
    return bulk_id


def _single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise _ParamInvalid(r.bad_request(f"Query parameter {name} must be given at most once"))
    return values[0] if values else None


def _int_param(request: Request, name: str, *, minimum: int | None) -> int | None:
    raw = _single(request, name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _ParamInvalid(r.bad_request(f"Invalid type for field {name}")) from None
    if minimum is not None and value < minimum:
        raise _ParamInvalid(_invalid(name, "AT_LEAST", [str(minimum)]))
    if abs(value) > 2**63 - 1:
        raise _ParamInvalid(r.bad_request(f"Invalid type for field {name}"))
    return value


def _paging(
    request: Request, statuses: type[BulkStatus] | type[OperationStatus]
) -> tuple[int, int, str | None]:
    offset = _int_param(request, "offset", minimum=0) or 0
    limit = _int_param(request, "limit", minimum=1)
    limit = 100 if limit is None else min(limit, 100)
    status = _single(request, "status")
    if status is not None and status not in statuses.__members__:
        raise _ParamInvalid(_invalid("status", "IN", [s.value for s in statuses]))
    return offset, limit, status


# --- error mapping and the outer ASGI layer ----------------------------------------------------------


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return r.method_not_allowed()
    if exc.status_code == 404:
        return r.not_found()
    return r.JSON({"code": str(exc.status_code), "message": exc.detail}, status_code=exc.status_code)


async def _on_app_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, RequestInvalid):
        return r.JSON(exc.body.dump(), status_code=400)
    if isinstance(exc, _ParamInvalid):
        return exc.response
    if isinstance(exc, Conflict):
        return r.conflict(exc.code)
    if isinstance(exc, NotFound):
        return r.not_found()
    if isinstance(exc, _BodyTooLarge):
        return r.too_large()
    if isinstance(exc, _Malformed):
        return r.bad_request("Malformed request body")
    if isinstance(exc, _Missing):
        return r.bad_request("Request body is required")
    raise exc


APP_ERRORS: tuple[type[Exception], ...] = (
    RequestInvalid,
    _ParamInvalid,
    Conflict,
    NotFound,
    _BodyTooLarge,
    _Malformed,
    _Missing,
)


class WeavrEdge:
    """Outer ASGI layer: ``request-ref`` on every response, maintenance mode, ``x-sim-fault``, fault plans."""

    def __init__(self, app: ASGIApp, engine: Engine, faults_enabled: Callable[[], bool]) -> None:
        self.app = app
        self.engine = engine
        self.faults_enabled = faults_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ref = str(uuid.uuid4()).encode()

        async def send_with_ref(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"request-ref", ref)]
            await send(message)

        path: str = scope["path"]
        if path.startswith("/multi"):
            if self.engine.maintenance:
                await r.unavailable()(scope, receive, send_with_ref)
                return
            if self.faults_enabled():
                fault = dict(scope["headers"]).get(b"x-sim-fault")
                if fault in (b"500", b"503"):
                    resp = r.internal_error() if fault == b"500" else r.unavailable()
                    await resp(scope, receive, send_with_ref)
                    return
            api_faults = self.engine.faults.api
            if api_faults is not None:
                # A fault plan's API layer (simulator/faults/api.py): maintenance windows, added latency,
                # injected 500/503. A refused request never reaches a handler, so it is safe to retry.
                auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1") or None
                resp = await api_faults.before_request(self.engine, scope["method"], path, auth)
                if resp is not None:
                    await resp(scope, receive, send_with_ref)
                    return
        try:
            await self.app(scope, receive, send_with_ref)
        except Exception:
            # Never let a handler's bug reach the client as a dropped connection.
            await r.internal_error()(scope, receive, send_with_ref)


def build_multi_app(engine: Engine, limiter: RateLimiter) -> Starlette:
    api = Api(engine, limiter)
    handlers: dict[Any, Any] = {HTTPException: _on_http_exception}
    handlers.update({cls: _on_app_error for cls in APP_ERRORS})
    return Starlette(routes=api.routes(), exception_handlers=handlers)
