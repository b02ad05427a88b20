"""Weavr's error bodies as Starlette responses (BEHAVIOR §8), and the fast JSON response we send."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def empty(status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, headers=headers)


def not_found() -> Response:
    return JSON({"code": "NOT_FOUND", "message": "Resource not found"}, status_code=404)


def conflict(code: str) -> Response:
    return JSON({"errorCode": code}, status_code=409)


def forbidden() -> Response:
    return JSON({"errorCode": "INSUFFICIENT_PERMISSIONS"}, status_code=403)


def bad_request(message: str) -> Response:
    return JSON({"message": message}, status_code=400)


def method_not_allowed() -> Response:
    return JSON({"code": "METHOD_NOT_ALLOWED", "message": "Method not allowed"}, status_code=405)


def too_large() -> Response:
    return JSON(
        {"code": "PAYLOAD_TOO_LARGE", "message": "Request body is larger than 32 MiB"}, status_code=413
    )


def internal_error() -> Response:
    return JSON({"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}, status_code=500)


def unavailable() -> Response:
    return JSON(
        {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable"}, status_code=503
    )
