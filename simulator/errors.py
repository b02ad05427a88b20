"""The simulator's refusals, each carrying its own HTTP status and Weavr body (the moto style).

Any layer below the HTTP routes raises one of these; the HTTP layer has one handler that turns a
``SimError`` into its response (``status``, ``body()``, ``headers``). Nothing here imports Starlette.
"""

from __future__ import annotations

from typing import Any


class SimError(Exception):
    """A refusal with a known HTTP status. ``body()`` is Weavr's JSON body, or None for an empty one."""

    status: int = 500

    def __init__(self, message: str = "") -> None:
        super().__init__(message or type(self).__name__)
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any] | None:
        return {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}


class InternalError(SimError):
    """500 with Weavr's ``Error`` body: a bug, or an injected fault (``x-sim-fault: 500``, fault plans)."""


class Conflict(SimError):
    """A business refusal: ``409 {"errorCode": code}``."""

    status = 409

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"errorCode": self.code}


class NotFound(SimError):
    """404: the bulk does not exist or belongs to another identity (never 403, docs/behaviour.md §2.5)."""

    status = 404

    def body(self) -> dict[str, Any]:
        return {"code": "NOT_FOUND", "message": "Resource not found"}


class ServiceUnavailable(SimError):
    """503 with Weavr's ``Error`` body: maintenance mode, or an injected fault."""

    status = 503

    def body(self) -> dict[str, Any]:
        return {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable"}


class StoreUnavailable(ServiceUnavailable):
    """503: the store cannot write right now (disk full, I/O error). Reads keep answering from the last
    commit; writes are refused with ``Retry-After`` until a commit lands again."""

    def __init__(self, reason: str = "", retry_after_s: int = 2) -> None:
        super().__init__(reason or "store unavailable")
        self.reason = reason
        self.headers = {"Retry-After": str(retry_after_s)}


# --- the request itself is refused (docs/behaviour.md §2.6, §3.3, §8) --------------------------------


class BadRequest(SimError):
    """``400 {"message": message}`` without ``syntaxErrors``: a missing body, a wrong type, a repeat."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"message": self.message}


class Malformed(BadRequest):
    """400: the body is not JSON we accept (syntax, encoding, nesting deeper than the bound)."""

    def __init__(self) -> None:
        super().__init__("Malformed request body")


class InvalidParam(SimError):
    """400 with ``syntaxErrors`` naming one path or query parameter (``REGEX``, ``IN``, ``AT_LEAST``…)."""

    status = 400

    def __init__(self, field: str, error: str, params: list[str]) -> None:
        super().__init__(f"Invalid parameter {field}")
        self.field = field
        self.error = error
        self.params = params

    def body(self) -> dict[str, Any]:
        entry = {"params": self.params, "fieldName": self.field, "error": self.error}
        return {"message": f"Invalid parameter {self.field}", "syntaxErrors": {"invalidFields": [entry]}}


class PayloadTooLarge(SimError):
    status = 413

    def __init__(self, limit_mib: int = 32) -> None:
        super().__init__(f"body over {limit_mib} MiB")
        self.limit_mib = limit_mib

    def body(self) -> dict[str, Any]:
        return {"code": "PAYLOAD_TOO_LARGE", "message": f"Request body is larger than {self.limit_mib} MiB"}


class EmptyRefusal(SimError):
    """A refusal Weavr answers with an empty body: 403 for a wrong login or another identity's token, 423
    for a locked user."""

    def __init__(self, status: int) -> None:
        super().__init__(f"refused with {status}")
        self.status = status

    def body(self) -> None:
        return None


class Unauthorized(EmptyRefusal):
    """401, empty: no or unknown api-key, no or expired token (docs/behaviour.md §2.6)."""

    def __init__(self) -> None:
        super().__init__(401)


class RateLimited(EmptyRefusal):
    """429, empty, with ``x-ratelimit-limit`` (every limit in force) and ``x-ratelimit-reset`` (seconds)."""

    def __init__(self, limit: str, reset_s: int) -> None:
        super().__init__(429)
        self.headers = {"x-ratelimit-limit": limit, "x-ratelimit-reset": str(reset_s)}


class Forbidden(SimError):
    """403 ``{"errorCode": "INSUFFICIENT_PERMISSIONS"}``: the token's user lacks the endpoint's permission."""

    status = 403

    def body(self) -> dict[str, Any]:
        return {"errorCode": "INSUFFICIENT_PERMISSIONS"}


class MethodNotAllowed(SimError):
    status = 405

    def body(self) -> dict[str, Any]:
        return {"code": "METHOD_NOT_ALLOWED", "message": "Method not allowed"}


class HttpStatus(SimError):
    """Any other status the routing layer produces, with Weavr's ``Error`` body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"code": str(self.status), "message": self.message}
