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


class StoreUnavailable(SimError):
    """503: the store cannot write right now (disk full, I/O error). Reads keep answering from the last
    commit; writes are refused with ``Retry-After`` until a commit lands again."""

    status = 503

    def __init__(self, reason: str = "", retry_after_s: int = 2) -> None:
        super().__init__(reason or "store unavailable")
        self.reason = reason
        self.headers = {"Retry-After": str(retry_after_s)}

    def body(self) -> dict[str, Any]:
        return {"code": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable"}
