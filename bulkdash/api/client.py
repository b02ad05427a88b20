"""An async client of Weavr's bulk-process API (httpx; no Textual): typed results, Weavr errors made readable.

Every call is counted against a ``RequestBudget`` and reported to ``on_call`` (the dashboard's API-call log
and delivery timeline). Responses are parsed with the tolerant wire models of ``bulkdash.api.models``, so
unknown fields and enum values from a newer server are kept, not fatal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from bulkdash.api.budget import RequestBudget
from bulkdash.api.kinds import KINDS, OperationKind
from bulkdash.api.models import (
    BulkProcessDetails,
    BulkProcessesPaged,
    BulkProcessOperationsPaged,
    BulkSubmissionCreated,
    LoginWithPasswordResponse,
)


@dataclass(slots=True)
class CallRecord:
    at_ms: int
    method: str
    path: str
    status: int | None  # None: no response (network error)
    duration_ms: float
    request_ref: str | None
    error: str | None = None


class ApiError(Exception):
    """A request that did not succeed, described the way a person (and a support ticket) needs it."""

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        code: str | None = None,
        request_ref: str | None = None,
        body: Any = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.request_ref = request_ref
        self.body = body
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        ref = f" (request-ref {self.request_ref})" if self.request_ref else ""
        return f"{self.message}{ref}"


_STATUS_TEXT = {
    401: "Not authenticated: the api-key or token was refused (expired token?)",
    403: "Not allowed: this user lacks the permission",
    404: "Not found",
    413: "Request too large",
    423: "User locked after too many wrong passwords",
    429: "Rate limited by the server",
    500: "Server error",
    503: "Service unavailable",
}


def describe_error(status: int, body: Any) -> tuple[str, str | None]:
    """(message, code) from a Weavr error body: ``errorCode``, ``syntaxErrors``, or ``code``/``message``."""
    if isinstance(body, dict):
        if body.get("errorCode"):
            return f"{_STATUS_TEXT.get(status, f'HTTP {status}')}: {body['errorCode']}", str(
                body["errorCode"]
            )
        fields = (body.get("syntaxErrors") or {}).get("invalidFields") or []
        if fields:
            parts = [
                f"{f.get('fieldName') or '(body)'} {f.get('error')}"
                + (f" {f.get('params')}" if f.get("params") else "")
                for f in fields[:5]
            ]
            more = f" and {len(fields) - 5} more" if len(fields) > 5 else ""
            return f"Invalid request: {'; '.join(parts)}{more}", "VALIDATION"
        if body.get("message"):
            return f"{_STATUS_TEXT.get(status, f'HTTP {status}')}: {body['message']}", body.get("code")
    return _STATUS_TEXT.get(status, f"HTTP {status}"), None


class WeavrClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        token: str | None = None,
        *,
        timeout_s: float = 10.0,
        budget: RequestBudget | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.token = token
        self.budget = budget or RequestBudget()
        self.on_call = on_call
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=httpx.Timeout(timeout_s), transport=transport, trust_env=False
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- transport ----------------------------------------------------------------------------------
    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        self.budget.check()
        h = {"api-key": self.api_key, **(headers or {})}
        if auth and self.token:
            h["authorization"] = f"Bearer {self.token}"
        started = time.perf_counter()
        self.budget.spend()
        try:
            resp = await self._http.request(method, path, json=json, params=params, headers=h)
        except httpx.TimeoutException as exc:
            self._record(method, path, None, started, None, "timeout")
            raise ApiError(None, f"No answer from {self.base_url} (timeout)") from exc
        except httpx.HTTPError as exc:
            self._record(method, path, None, started, None, type(exc).__name__)
            raise ApiError(None, f"Cannot reach {self.base_url}: {exc or type(exc).__name__}") from exc
        ref = resp.headers.get("request-ref")
        self._record(method, path, resp.status_code, started, ref, None)
        if resp.status_code == 429:
            reset = _float(resp.headers.get("x-ratelimit-reset"))
            self.budget.note_429(reset if reset is not None else 60.0)
            limit = resp.headers.get("x-ratelimit-limit", "")
            raise ApiError(
                429,
                f"Rate limited by the server ({limit.split(',')[0] or '?'} per window); "
                f"waiting {reset or 60:.0f} s",
                request_ref=ref,
                retry_after_s=reset,
            )
        if resp.status_code >= 400:
            body = _json_or_none(resp)
            message, code = describe_error(resp.status_code, body)
            raise ApiError(resp.status_code, message, code=code, request_ref=ref, body=body)
        return resp

    def _record(
        self, method: str, path: str, status: int | None, started: float, ref: str | None, error: str | None
    ) -> None:
        if self.on_call is not None:
            self.on_call(
                CallRecord(
                    int(time.time() * 1000),
                    method,
                    path,
                    status,
                    (time.perf_counter() - started) * 1000,
                    ref,
                    error,
                )
            )

    @staticmethod
    def _parse(model: Any, resp: httpx.Response) -> Any:
        try:
            return model.model_validate(resp.json())
        except (ValueError, ValidationError) as exc:
            raise ApiError(
                resp.status_code,
                f"Unexpected response body from the server: {exc}"[:300],
                request_ref=resp.headers.get("request-ref"),
            ) from exc

    # --- endpoints ----------------------------------------------------------------------------------
    async def login(self, email: str, password: str) -> LoginWithPasswordResponse:
        resp = await self._request(
            "POST", "/login_with_password", json={"email": email, "password": {"value": password}}, auth=False
        )
        result: LoginWithPasswordResponse = self._parse(LoginWithPasswordResponse, resp)
        self.token = result.token
        return result

    async def logout(self) -> None:
        await self._request("POST", "/logout")
        self.token = None

    async def list_bulks(
        self, offset: int = 0, limit: int = 100, status: str | None = None
    ) -> BulkProcessesPaged:
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if status:
            params["status"] = status
        return self._parse(BulkProcessesPaged, await self._request("GET", "/bulks", params=params))

    async def get_bulk(self, bulk_id: str) -> BulkProcessDetails:
        return self._parse(BulkProcessDetails, await self._request("GET", f"/bulks/{bulk_id}"))

    async def list_operations(
        self,
        bulk_id: str,
        offset: int = 0,
        limit: int = 100,
        status: str | None = None,
        sequence: int | None = None,
    ) -> BulkProcessOperationsPaged:
        params: dict[str, Any] = {"offset": offset, "limit": min(limit, 100)}
        if status:
            params["status"] = status
        if sequence is not None:
            params["sequence"] = sequence
        resp = await self._request("GET", f"/bulks/{bulk_id}/operations", params=params)
        return self._parse(BulkProcessOperationsPaged, resp)

    async def submit(
        self, kind: OperationKind, items: list[dict[str, Any]], idempotency_ref: str | None = None
    ) -> BulkSubmissionCreated:
        spec = KINDS[kind]
        headers = {"idempotency-ref": idempotency_ref} if idempotency_ref else None
        resp = await self._request(spec.method, spec.bulk_path, json=items, headers=headers)
        return self._parse(BulkSubmissionCreated, resp)

    async def execute(
        self, bulk_id: str, mode: str | None = None, webhook_interval: int | None = None
    ) -> None:
        body: dict[str, Any] = {}
        if mode:
            body["mode"] = mode
        if webhook_interval is not None:
            body["webhookInterval"] = webhook_interval
        await self._request("POST", f"/bulks/{bulk_id}/execute", json=body)

    async def pause(self, bulk_id: str) -> None:
        await self._request("POST", f"/bulks/{bulk_id}/pause")

    async def resume(self, bulk_id: str) -> None:
        await self._request("POST", f"/bulks/{bulk_id}/resume")

    async def cancel(self, bulk_id: str) -> None:
        await self._request("POST", f"/bulks/{bulk_id}/cancel")


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _json_or_none(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None
