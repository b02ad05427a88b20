"""The receiver's ASGI app: one Starlette endpoint that reads, checks, records and answers every request.

The order is fixed: read the body (bounded), verify, parse, build the record, wait until the record is
committed, and only then answer. So the sender never sees a 2xx for something that is not on disk, and
rejected requests (401, 400, 413, 405) are on disk too, for the dashboard to show.

Answers: 204 accepted (duplicates included: the sender must stop retrying); 400 body not a JSON object
(or nested deeper than ``codec.MAX_JSON_DEPTH``); 401 credentials wrong or missing; 405 not a POST; 413 body
over the limit; 500 history not writable, or any other failure of the receiver itself (the sender retries
5xx, so nothing is lost). Every answer but a 204 carries a JSON ``{"code", "message"}`` body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bulkdash.contract.codec import MAX_JSON_DEPTH, JsonTooDeep, loads_bounded
from bulkdash.webhooks.records import (
    UNSTORED_ID,
    ReceivedWebhook,
    classify_path,
    describe_event,
    headers_dicts,
)
from bulkdash.webhooks.settings import ReceiverSettings
from bulkdash.webhooks.store import WebhookStore
from bulkdash.webhooks.verify import verify_request

log = logging.getLogger(__name__)

#: How much of an oversized body is kept in the record, so the dashboard can still show what it was.
TRUNCATED_PREVIEW_BYTES = 4096

#: Recorded when the client disconnects before the body is read (no response could be sent); nginx's code.
CLIENT_CLOSED_REQUEST = 499

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

_TOO_DEEP = f"body is not valid JSON for this receiver: nested deeper than {MAX_JSON_DEPTH} levels"


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


class _BodyTooLarge(Exception):
    def __init__(self, preview: bytes, size: int, limit: int, *, declared: bool) -> None:
        super().__init__(size)
        self.preview = preview
        self.size = size
        # A declared Content-Length is the real size; a streamed body was only read up to ``size``.
        self.message = (
            f"body of {size} bytes exceeds the {limit}-byte limit"
            if declared
            else f"body exceeds the {limit}-byte limit (stopped reading after {size} bytes)"
        )


async def _read_bounded(request: Request, limit: int) -> bytes:
    """The whole body, or ``_BodyTooLarge`` as soon as it is known to exceed ``limit`` bytes.

    Reading stops at the limit: uvicorn discards the rest of the body once the response is sent, and its
    flow control pauses the socket meanwhile, so an endless body never sits in memory.
    """
    declared_text = request.headers.get("content-length", "")
    declared = int(declared_text) if declared_text.isdigit() else None
    if declared is not None and declared > limit:
        # Known too large up front: keep only a preview for the record, and read no further.
        preview = bytearray()
        async for chunk in request.stream():
            preview.extend(chunk)
            if len(preview) >= TRUNCATED_PREVIEW_BYTES:
                break
        raise _BodyTooLarge(bytes(preview[:TRUNCATED_PREVIEW_BYTES]), declared, limit, declared=True)
    if declared is not None and "transfer-encoding" not in request.headers:
        # Framed by its Content-Length (within the limit): no more can arrive as this request's body.
        return await request.body()
    buf = bytearray()
    async for chunk in request.stream():
        if len(buf) + len(chunk) > limit:
            size = len(buf) + len(chunk)
            buf.extend(chunk[: max(0, TRUNCATED_PREVIEW_BYTES - len(buf))])
            raise _BodyTooLarge(bytes(buf[:TRUNCATED_PREVIEW_BYTES]), size, limit, declared=False)
        buf.extend(chunk)
    return bytes(buf)


def _parse_object(body: bytes) -> tuple[Any, str | None]:
    """(parsed JSON, None) for a JSON object; (parsed-or-None, reason) otherwise."""
    try:
        # Bounded: nesting past MAX_JSON_DEPTH is refused before the recursive parser (and, after it, the
        # dashboard's renderers) could exhaust the recursion limit on it.
        parsed = loads_bounded(body)
    except JsonTooDeep:
        return None, _TOO_DEEP
    except ValueError as exc:  # UnicodeDecodeError included
        return None, f"body is not valid JSON: {exc}"
    if not isinstance(parsed, dict):
        # Every Weavr webhook body is an object; anything else is malformed for this receiver.
        return parsed, "body is not a JSON object"
    return parsed, None


class WebhookIntake:
    """The endpoint: turns one HTTP request into one stored :class:`ReceivedWebhook` and an answer."""

    def __init__(self, settings: ReceiverSettings, store: WebhookStore, clock: Callable[[], int]) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock

    async def handle(self, request: Request) -> Response:
        """The answer to ``request``; a JSON 500, never a dropped connection, when the receiver fails."""
        try:
            return await self._handle(request)
        except Exception:
            # Logged with its traceback but without headers or body: those may carry the webhooks key.
            log.exception(
                "webhook receiver failed on %s %s; answering 500", request.method, request.scope["path"]
            )
            return _error(500, "INTERNAL_ERROR", "the receiver failed on this request; retry later")

    async def _handle(self, request: Request) -> Response:
        received_at_ms = self._clock()
        settings = self._settings
        raw_headers = request.scope["headers"]
        plain_headers, shown_headers = headers_dicts(raw_headers)
        peer = request.client
        client = f"{peer.host}:{peer.port}" if peer else None
        path: str = request.scope["path"]

        body = b""
        body_size = 0
        truncated = False
        status = 204
        error: str | None = None
        response: Response | None = None
        if request.method != "POST":
            status, error = 405, f"method {request.method} not allowed"
            response = _error(405, "METHOD_NOT_ALLOWED", error, {"allow": "POST"})
        else:
            try:
                body = await _read_bounded(request, settings.max_body_bytes)
                body_size = len(body)
            except _BodyTooLarge as exc:
                body, body_size, truncated = exc.preview, exc.size, True
                status, error = 413, exc.message
                response = _error(413, "PAYLOAD_TOO_LARGE", error)
            except ClientDisconnect:
                status, error = CLIENT_CLOSED_REQUEST, "client disconnected before sending the whole body"
                # Nobody is left to read it; recorded all the same.
                response = Response(status_code=CLIENT_CLOSED_REQUEST)

        verification = verify_request(
            plain_headers,
            body,
            path=path,
            signing_key=settings.signing_key.get_secret_value(),
            webhooks_key=settings.webhooks_key.get_secret_value() if settings.webhooks_key else None,
            now_ms=received_at_ms,
            tolerance_ms=round(settings.tolerance_s * 1000),
            body_complete=not truncated and status != CLIENT_CLOSED_REQUEST,
        )
        # Parsed whatever the verdict, so even a rejected request shows its content in the dashboard.
        parsed, parse_problem = (
            _parse_object(body) if request.method == "POST" and not truncated else (None, None)
        )
        if status == 204 and not verification.authentic:
            status, error = 401, verification.problem
            response = _error(401, "UNAUTHORIZED", error or "unauthorized")
        elif status == 204 and parse_problem is not None:
            status, error = 400, parse_problem
            response = _error(400, "BAD_REQUEST", parse_problem)

        kind = classify_path(path)
        record = ReceivedWebhook(
            id=UNSTORED_ID,
            received_at_ms=received_at_ms,
            method=request.method,
            path=path,
            headers=shown_headers,
            body=body,
            body_size=body_size,
            body_truncated=truncated,
            json=parsed,
            kind=kind,
            call_ref=verification.call_ref,
            published_timestamp_ms=verification.published_timestamp_ms,
            signature_v2=verification.signature_v2,
            signature_v1=verification.signature_v1,
            timestamp=verification.timestamp,
            webhooks_key=verification.webhooks_key,
            http_status=status,
            error=error,
            duplicate_of=None,
            client=client,
            facts=describe_event(kind, parsed),
        )
        try:
            await self._store.append(record)
        except Exception:
            # Not stored means not acknowledged: a 5xx makes Weavr retry later (BEHAVIOR §6.5).
            log.exception("webhook not recorded; answering 500")
            return _error(500, "NOT_RECORDED", "the webhook could not be recorded; retry later")
        return response if response is not None else Response(status_code=204)


def create_app(intake: WebhookIntake) -> Starlette:
    """A Starlette app that routes every method on every path to ``intake``."""
    # A bound method, so Starlette wraps it as a request -> response endpoint (not a raw ASGI app).
    return Starlette(routes=[Route("/{path:path}", intake.handle, methods=_ALL_METHODS)])
