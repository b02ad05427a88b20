"""Weavr's error bodies as Starlette responses (BEHAVIOR §8), and the fast JSON response we send.

Every refusal is a :class:`simulator.errors.SimError` (or the contract's ``RequestInvalid``) that knows its
status, body and headers; :func:`error_response` is the one place that turns one into a response. The
helpers below it are shorthands for the control API and build their bodies through the same classes.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from bulkdash.contract.validation import RequestInvalid
from simulator.errors import BadRequest, Conflict, NotFound, SimError


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class EncodedJSON(Response):
    """A JSON body that is already encoded (the engine keeps the bodies of polled reads encoded)."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        # What ``Response.__init__`` would set for these bytes (the same two headers, in its order), without
        # its generic header building: this response answers every poll of a bulk.
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = [
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]


def empty(status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, headers=headers)


def error_response(exc: SimError | RequestInvalid) -> Response:
    """The response a refusal stands for: its status, its Weavr body (or none) and its headers."""
    if isinstance(exc, RequestInvalid):
        return JSON(exc.body.dump(), status_code=exc.status)
    body = exc.body()
    if body is None:
        return empty(exc.status, exc.headers or None)
    return JSON(body, status_code=exc.status, headers=exc.headers or None)


def not_found() -> Response:
    return error_response(NotFound())


def conflict(code: str) -> Response:
    return error_response(Conflict(code))


def bad_request(message: str) -> Response:
    return error_response(BadRequest(message))
