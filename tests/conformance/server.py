"""A Weavr-shaped test server that answers with chosen conformance-corpus bodies, on loopback.

It serves every endpoint the dashboard's client calls under ``/multi``: login, logout, the bulk list, one
bulk, its operations, submissions (201) and the lifecycle actions (204). An endpoint answers the case
chosen for it, else the corpus's ordinary ("typical") body, so a screen can be opened against one odd
response while everything around it is normal. Cases can be swapped while it runs (``use``).

Like Weavr (docs/behaviour.md §4), a ``bulk_id`` that is not all digits is refused with 400 ``REGEX`` on the
reads of one bulk: so a listed bulk whose id is not numeric (the ``non-numeric-id`` case) cannot be followed
up, as on the real server.

    async with serve(case(Endpoint.GET_BULK, "times-past-year-9999")) as url:
        client = WeavrClient(url, "any-key")
        ...

``CorpusServer`` is the same with the requests it saw (``seen``) and ``use``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bulkdash.contract.models import SyntaxErrorKind
from bulkdash.contract.requests import NUMERIC_ID_PATTERN
from bulkdash.contract.validation import invalid_field, validation_failed
from bulkdash.serving import QuietServer
from tests.conformance.corpus import DEFAULTS, Case, Endpoint

#: The bulk paths that are actions on one bulk (204), not submissions (201).
ACTIONS = frozenset({"execute", "pause", "resume", "cancel"})


class CorpusServer:
    """``async with CorpusServer(*cases) as server``: serving on ``server.url`` (the ``/multi`` base URL)."""

    def __init__(self, *cases: Case) -> None:
        self._chosen: dict[Endpoint, Case] = {}
        self.use(*cases)
        #: ``"METHOD /path?query"`` of every request answered, in order.
        self.seen: list[str] = []
        self._server = QuietServer(self._app(), host="127.0.0.1", port=0, lifespan="off")

    @property
    def url(self) -> str:
        return self._server.url + "/multi"

    def use(self, *cases: Case, only: bool = False) -> None:
        """Answer these cases from now on (one per endpoint); the other endpoints keep theirs, or with
        ``only`` go back to the typical bodies."""
        if only:
            self._chosen.clear()
        for chosen in cases:
            if chosen.endpoint is Endpoint.BULK_WEBHOOK:
                raise ValueError("webhook bodies are posted to the dashboard's receiver, not served")
            self._chosen[chosen.endpoint] = chosen

    def body(self, endpoint: Endpoint) -> Any:
        return (self._chosen.get(endpoint) or DEFAULTS[endpoint]).body

    def _answer(self, endpoint: Endpoint, status: int = 200) -> JSONResponse:
        return JSONResponse(self.body(endpoint), status_code=status, headers={"request-ref": "corpus"})

    def _one_bulk(self, request: Request, endpoint: Endpoint) -> JSONResponse:
        """A read of one bulk: 400 ``REGEX`` for an id that is not all digits, as Weavr answers."""
        bulk_id: str = request.path_params["bulk_id"]
        if not (bulk_id.isascii() and bulk_id.isdigit()):
            refusal = validation_failed(
                [invalid_field(SyntaxErrorKind.REGEX, "bulk_id", [NUMERIC_ID_PATTERN])]
            )
            return JSONResponse(refusal.dump(), status_code=400, headers={"request-ref": "corpus"})
        return self._answer(endpoint)

    def _app(self) -> Starlette:
        async def login(request: Request) -> Response:
            return self._answer(Endpoint.LOGIN)

        async def logout(request: Request) -> Response:
            return Response(status_code=204)

        async def bulks(request: Request) -> Response:
            return self._answer(Endpoint.LIST_BULKS)

        async def one_bulk(request: Request) -> Response:
            return self._one_bulk(request, Endpoint.GET_BULK)

        async def operations(request: Request) -> Response:
            return self._one_bulk(request, Endpoint.LIST_OPERATIONS)

        async def post_under_bulks(request: Request) -> Response:
            # /bulks/{id}/execute|pause|resume|cancel act on a bulk; any other POST under /bulks submits.
            if request.path_params["rest"].rsplit("/", 1)[-1] in ACTIONS:
                return Response(status_code=204, headers={"request-ref": "corpus"})
            return self._answer(Endpoint.SUBMIT, 201)

        async def patch_under_bulks(request: Request) -> Response:
            return self._answer(Endpoint.SUBMIT, 201)  # PATCH submissions (spend rules)

        app = Starlette(
            routes=[
                Route("/multi/login_with_password", login, methods=["POST"]),
                Route("/multi/logout", logout, methods=["POST"]),
                Route("/multi/bulks", bulks, methods=["GET"]),
                Route("/multi/bulks/{bulk_id}", one_bulk, methods=["GET"]),
                Route("/multi/bulks/{bulk_id}/operations", operations, methods=["GET"]),
                Route("/multi/bulks/{rest:path}", post_under_bulks, methods=["POST"]),
                Route("/multi/bulks/{rest:path}", patch_under_bulks, methods=["PATCH"]),
            ]
        )

        async def recording(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                query = scope.get("query_string", b"").decode()
                self.seen.append(f"{scope['method']} {scope['path']}" + (f"?{query}" if query else ""))
            await app(scope, receive, send)

        return recording  # type: ignore[return-value]

    async def __aenter__(self) -> Self:
        await self._server.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._server.stop()


@asynccontextmanager
async def serve(*cases: Case) -> AsyncIterator[str]:
    """Serve ``cases`` (the typical bodies elsewhere) on loopback; yields the ``/multi`` base URL."""
    async with CorpusServer(*cases) as server:
        yield server.url
