"""The receiver's ASGI app: one raw ASGI callable that reads, checks, records and answers every request.

The order is fixed: read the body (bounded), verify, parse, build the record, wait until the record is
committed, and only then answer. So the sender never sees a 2xx for something that is not on disk, and
rejected requests (401, 400, 413, 405) are on disk too, for the dashboard to show.

Answers: 204 accepted (duplicates included: the sender must stop retrying); 400 body not a JSON object
(or nested deeper than ``codec.MAX_JSON_DEPTH``); 401 credentials wrong or missing; 405 not a POST; 413 body
over the limit; 500 history not writable, or any other failure of the receiver itself (the sender retries
5xx, so nothing is lost). Every answer but a 204 carries a JSON ``{"code", "message"}`` body.

It is a plain ASGI callable, not a Starlette route: every method on every path goes to the same code, so
routing, ``Request``/``Response`` objects and the middleware stack bought nothing, and cost about a quarter
of the receiver's time per request (profiled with benchmarks/webhook_receiver.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

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

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: How much of an oversized body is kept in the record, so the dashboard can still show what it was.
TRUNCATED_PREVIEW_BYTES = 4096

#: Recorded when the client disconnects before the body is read (no response could be sent); nginx's code.
CLIENT_CLOSED_REQUEST = 499

_TOO_DEEP = f"body is not valid JSON for this receiver: nested deeper than {MAX_JSON_DEPTH} levels"

# The one answer almost every request gets, sent as the same two messages each time.
_NO_CONTENT_START: Message = {"type": "http.response.start", "status": 204, "headers": []}
_EMPTY_BODY: Message = {"type": "http.response.body", "body": b""}


class _Answer:
    """A response to send: status, extra headers and body (a JSON error body, or nothing)."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or []

    async def send(self, send: Send) -> None:
        if self.status == 204:
            await send(_NO_CONTENT_START)
            await send(_EMPTY_BODY)
            return
        headers = [*self.headers, (b"content-length", str(len(self.body)).encode("ascii"))]
        if self.body:
            headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> _Answer:
    # As Starlette's JSONResponse rendered it: compact, UTF-8, ``application/json``.
    body = json.dumps(
        {"code": code, "message": message}, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")
    extra = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in (headers or {}).items()]
    return _Answer(status, body, extra)


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


class _ClientDisconnect(Exception):
    """The client went away before sending the whole body."""


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    """The body's chunks as the server hands them over; ``_ClientDisconnect`` if the client leaves."""
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return
        elif message["type"] == "http.disconnect":
            raise _ClientDisconnect


async def _read_bounded(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The whole body, or ``_BodyTooLarge`` as soon as it is known to exceed ``limit`` bytes.

    Reading stops at the limit: uvicorn discards the rest of the body once the response is sent, and its
    flow control pauses the socket meanwhile, so an endless body never sits in memory.
    """
    declared_text = headers.get("content-length", "")
    declared = int(declared_text) if declared_text.isdigit() else None
    if declared is not None and declared > limit:
        # Known too large up front: keep only a preview for the record, and read no further.
        preview = bytearray()
        async for chunk in _chunks(receive):
            preview.extend(chunk)
            if len(preview) >= TRUNCATED_PREVIEW_BYTES:
                break
        raise _BodyTooLarge(bytes(preview[:TRUNCATED_PREVIEW_BYTES]), declared, limit, declared=True)
    if declared is not None and "transfer-encoding" not in headers:
        # Framed by its Content-Length (within the limit): no more can arrive as this request's body. The
        # usual webhook comes in one message, read here without the generator below.
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            return bytes(message.get("body", b""))
        if message["type"] == "http.disconnect":
            raise _ClientDisconnect
        parts = [message.get("body", b"")]
        async for chunk in _chunks(receive):
            parts.append(chunk)
        return b"".join(parts)
    buf = bytearray()
    async for chunk in _chunks(receive):
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
    """The endpoint, as an ASGI app: turns one HTTP request into one stored :class:`ReceivedWebhook` and an
    answer."""

    def __init__(self, settings: ReceiverSettings, store: WebhookStore, clock: Callable[[], int]) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        # Read once: the settings are fixed for the receiver's life, and unwrapping them per request showed
        # in the profile.
        self._signing_key = settings.signing_key.get_secret_value()
        self._webhooks_key = settings.webhooks_key.get_secret_value() if settings.webhooks_key else None
        self._tolerance_ms = round(settings.tolerance_s * 1000)
        self._max_body_bytes = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            # The server is started without WebSocket support; nothing else reaches an HTTP app.
            raise RuntimeError(f"the webhook receiver serves HTTP only, not {scope['type']!r}")
        try:
            answer = await self._handle(scope, receive)
        except Exception:
            # Logged with its traceback but without headers or body: those may carry the webhooks key.
            log.exception(
                "webhook receiver failed on %s %s; answering 500", scope.get("method"), scope.get("path")
            )
            answer = _error(500, "INTERNAL_ERROR", "the receiver failed on this request; retry later")
        await answer.send(send)

    async def _handle(self, scope: Scope, receive: Receive) -> _Answer:
        received_at_ms = self._clock()
        plain_headers, shown_headers = headers_dicts(scope["headers"])
        peer = scope.get("client")
        client = f"{peer[0]}:{peer[1]}" if peer else None
        path: str = scope["path"]
        method: str = scope["method"]

        body = b""
        body_size = 0
        truncated = False
        status = 204
        error: str | None = None
        answer: _Answer | None = None
        if method != "POST":
            status, error = 405, f"method {method} not allowed"
            answer = _error(405, "METHOD_NOT_ALLOWED", error, {"allow": "POST"})
        else:
            try:
                body = await _read_bounded(receive, plain_headers, self._max_body_bytes)
                body_size = len(body)
            except _BodyTooLarge as exc:
                body, body_size, truncated = exc.preview, exc.size, True
                status, error = 413, exc.message
                answer = _error(413, "PAYLOAD_TOO_LARGE", error)
            except _ClientDisconnect:
                status, error = CLIENT_CLOSED_REQUEST, "client disconnected before sending the whole body"
                # Nobody is left to read it; recorded all the same.
                answer = _Answer(CLIENT_CLOSED_REQUEST)

        verification = verify_request(
            plain_headers,
            body,
            path=path,
            signing_key=self._signing_key,
            webhooks_key=self._webhooks_key,
            now_ms=received_at_ms,
            tolerance_ms=self._tolerance_ms,
            body_complete=not truncated and status != CLIENT_CLOSED_REQUEST,
        )
        # Parsed whatever the verdict, so even a rejected request shows its content in the dashboard.
        parsed, parse_problem = _parse_object(body) if method == "POST" and not truncated else (None, None)
        if status == 204 and not verification.authentic:
            status, error = 401, verification.problem
            answer = _error(401, "UNAUTHORIZED", error or "unauthorized")
        elif status == 204 and parse_problem is not None:
            status, error = 400, parse_problem
            answer = _error(400, "BAD_REQUEST", parse_problem)

        kind = classify_path(path)
        record = ReceivedWebhook(
            id=UNSTORED_ID,
            received_at_ms=received_at_ms,
            method=method,
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
        return answer if answer is not None else _NO_CONTENT


_NO_CONTENT = _Answer(204)


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop (the receiver opens its store itself); acknowledges a server that asks."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(intake: WebhookIntake) -> ASGIApp:
    """The ASGI app that answers every method on every path with ``intake``."""
    return intake
